-- Valise gateway store on PostgreSQL, schema version 5 (as SQLite 013): the local API's contract — the
-- event feed, its webhooks, the key that signs list cursors.

-- The event feed: one row per audit entry that a case-management system
-- must hear of (gateway/events/feed-events.ts), written in the same
-- transaction as that entry. `seq` is the entry's audit index: dense, and in
-- commit order on both engines (appends lock the log head until COMMIT), so a
-- reader that resumes after `seq` misses nothing and sees nothing twice.
CREATE TABLE events (
  seq       BIGINT PRIMARY KEY,           -- = audit_entries.idx
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
  delivered_seq   BIGINT NOT NULL,          -- -1: none yet
  attempts        INTEGER NOT NULL DEFAULT 0,   -- failed attempts at the next event
  next_attempt_at BIGINT NOT NULL DEFAULT 0,   -- epoch ms
  last_error      TEXT,                    -- code and reason of the last failure
  updated_at      TEXT NOT NULL
);

-- Secrets of the local API shared by every instance (the HMAC key of list cursors).
CREATE TABLE api_secrets (
  name       TEXT PRIMARY KEY,
  secret     BYTEA NOT NULL,
  created_at TEXT NOT NULL
);

-- The requesting authority's own reference (its file number), so that a case
-- system finds a case by it; set when the case opens (NULL for cases opened
-- before this migration). And the index of "changed since".
ALTER TABLE cases ADD COLUMN reference TEXT;
CREATE INDEX cases_by_reference ON cases (reference);
CREATE INDEX cases_by_updated ON cases (updated_at);

-- As SQLite's 010: attachments are packages of purpose 'attachments' (completes NULL).
ALTER TABLE evidence_packages ADD COLUMN purpose TEXT NOT NULL DEFAULT 'evidence' CHECK (purpose IN ('evidence', 'attachments'));
ALTER TABLE evidence_packages ALTER COLUMN completes DROP NOT NULL;
ALTER TABLE evidence_packages DROP CONSTRAINT evidence_packages_completes_check;
ALTER TABLE evidence_packages ADD CONSTRAINT evidence_packages_completes_check
  CHECK ((purpose = 'evidence' AND completes IN ('partially-executed', 'executed')) OR (purpose = 'attachments' AND completes IS NULL));

-- As SQLite's 010: uploads of the local API.
CREATE TABLE uploads (
  upload_id    TEXT PRIMARY KEY,
  token_id     TEXT NOT NULL,
  name         TEXT NOT NULL,
  media_type   TEXT NOT NULL,
  size         BIGINT NOT NULL CHECK (size >= 0),
  sha256       TEXT,
  actual_sha256 TEXT,
  received     BIGINT NOT NULL DEFAULT 0,
  state        TEXT NOT NULL CHECK (state IN ('receiving', 'complete', 'attached')),
  created_at   TEXT NOT NULL,
  completed_at TEXT,
  attached_to  TEXT
);
CREATE INDEX uploads_by_state ON uploads (state, created_at);
