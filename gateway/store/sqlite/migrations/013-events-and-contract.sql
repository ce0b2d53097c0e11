-- Valise gateway store, schema version 13: the local API's contract — the
-- event feed, its webhooks, the key that signs list cursors.

-- The event feed: one row per audit entry that a case-management system
-- must hear of (gateway/events/feed-events.ts), written in the same
-- transaction as that entry. `seq` is the entry's audit index: dense, and in
-- commit order on both engines (appends lock the log head until COMMIT), so a
-- reader that resumes after `seq` misses nothing and sees nothing twice.
CREATE TABLE events (
  seq       INTEGER PRIMARY KEY,          -- = audit_entries.idx
  event_id  TEXT NOT NULL UNIQUE,         -- what receivers deduplicate by
  kind      TEXT NOT NULL,
  at        TEXT NOT NULL,
  case_id   TEXT,
  data      TEXT NOT NULL                 -- JSON, metadata only (never document content)
);
CREATE INDEX events_by_case ON events (case_id, seq);

-- Webhook delivery, per endpoint of valise.json: every event up to
-- `delivered_seq` was answered 2xx; the webhooks job (leader only) posts the
-- next one, in order, until it is, retrying with backoff (at least once).
CREATE TABLE webhook_cursors (
  endpoint        TEXT PRIMARY KEY,        -- the endpoint's name in valise.json
  delivered_seq   INTEGER NOT NULL,          -- -1: none yet
  attempts        INTEGER NOT NULL DEFAULT 0,   -- failed attempts at the next event
  next_attempt_at INTEGER NOT NULL DEFAULT 0,   -- epoch ms
  last_error      TEXT,                    -- code and reason of the last failure
  updated_at      TEXT NOT NULL
);

-- Secrets of the local API shared by every instance (the HMAC key of list cursors).
CREATE TABLE api_secrets (
  name       TEXT PRIMARY KEY,
  secret     BLOB NOT NULL,
  created_at TEXT NOT NULL
);

-- The requesting authority's own reference (its file number), so that a case
-- system finds a case by it; set when the case opens (NULL for cases opened
-- before this migration). And the index of "changed since".
ALTER TABLE cases ADD COLUMN reference TEXT;
CREATE INDEX cases_by_reference ON cases (reference);
CREATE INDEX cases_by_updated ON cases (updated_at);

-- Attachments travel as evidence does (one mechanism): a document that
-- carries attachments (a request, a status update) is the "manifest" of a
-- package whose `purpose` is 'attachments' and whose id is the document's
-- envelope id; such a package completes no step (`completes` NULL), and it
-- may go either way. SQLite cannot relax a CHECK in place: the table is
-- rebuilt, its rows kept (foreign keys deferred to COMMIT, where evidence_items
-- finds every package again).
PRAGMA defer_foreign_keys = ON;
CREATE TABLE evidence_packages_before_010 AS SELECT * FROM evidence_packages;
DROP TABLE evidence_packages;
CREATE TABLE evidence_packages (
  package_id   TEXT PRIMARY KEY,
  case_id      TEXT NOT NULL REFERENCES cases (case_id),
  direction    TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
  peer         TEXT NOT NULL,
  envelope_id  TEXT NOT NULL UNIQUE REFERENCES envelopes (envelope_id),   -- the manifest (or carrying document) envelope
  purpose      TEXT NOT NULL DEFAULT 'evidence' CHECK (purpose IN ('evidence', 'attachments')),
  completes    TEXT CHECK ((purpose = 'evidence' AND completes IN ('partially-executed', 'executed')) OR (purpose = 'attachments' AND completes IS NULL)),
  state        TEXT NOT NULL CHECK (state IN ('sending', 'delivered', 'failed', 'receiving', 'received')),
  created_at   TEXT NOT NULL,
  finished_at  TEXT
);
INSERT INTO evidence_packages (package_id, case_id, direction, peer, envelope_id, completes, state, created_at, finished_at)
  SELECT package_id, case_id, direction, peer, envelope_id, completes, state, created_at, finished_at FROM evidence_packages_before_010;
DROP TABLE evidence_packages_before_010;
CREATE INDEX evidence_packages_by_case ON evidence_packages (case_id, created_at);
CREATE INDEX evidence_packages_by_state ON evidence_packages (direction, state);

-- Uploads of the local API: a file streamed (and resumed) into a draft
-- before a document names it as an attachment. Bytes in HOME/uploads/<id>;
-- `received` grows as they are durably written; `complete` once size and
-- SHA-256 are checked; `attached` once a committed document names it.
CREATE TABLE uploads (
  upload_id    TEXT PRIMARY KEY,
  token_id     TEXT NOT NULL,                 -- who created it (only that token may use it)
  name         TEXT NOT NULL,
  media_type   TEXT NOT NULL,
  size         INTEGER NOT NULL CHECK (size >= 0),
  sha256       TEXT,                          -- as declared by the caller (optional) …
  actual_sha256 TEXT,                         -- … and as computed on completion
  received     INTEGER NOT NULL DEFAULT 0,
  state        TEXT NOT NULL CHECK (state IN ('receiving', 'complete', 'attached')),
  created_at   TEXT NOT NULL,
  completed_at TEXT,
  attached_to  TEXT                           -- envelope id of the document that carries it
);
CREATE INDEX uploads_by_state ON uploads (state, created_at);
