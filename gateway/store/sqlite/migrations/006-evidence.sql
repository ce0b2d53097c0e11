-- Valise gateway store, schema version 6: evidence packages.
-- (005 is the cases migration of another branch; a placeholder stands in for it until the merge.)

-- A package: one manifest envelope and its items, sent (outbound: we are the
-- requested authority) or received (inbound: we requested).
CREATE TABLE evidence_packages (
  package_id   TEXT PRIMARY KEY,
  case_id      TEXT NOT NULL REFERENCES cases (case_id),
  direction    TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
  peer         TEXT NOT NULL,
  envelope_id  TEXT NOT NULL UNIQUE REFERENCES envelopes (envelope_id),   -- the manifest envelope
  completes    TEXT NOT NULL CHECK (completes IN ('partially-executed', 'executed')),
  -- outbound: sending -> delivered (every item receipted) | failed; inbound: receiving -> received
  state        TEXT NOT NULL CHECK (state IN ('sending', 'delivered', 'failed', 'receiving', 'received')),
  created_at   TEXT NOT NULL,
  finished_at  TEXT
);
CREATE INDEX evidence_packages_by_case ON evidence_packages (case_id, created_at);
CREATE INDEX evidence_packages_by_state ON evidence_packages (direction, state);

-- An item of a package. The item key is also in the manifest (envelope_bodies.document);
-- it is kept here too so that the uploader and the reader need not parse the manifest.
CREATE TABLE evidence_items (
  package_id      TEXT NOT NULL REFERENCES evidence_packages (package_id),
  item_id         TEXT NOT NULL UNIQUE,
  position        INTEGER NOT NULL,             -- order in the manifest
  name            TEXT NOT NULL,
  media_type      TEXT NOT NULL,
  size            INTEGER NOT NULL CHECK (size >= 0),
  sha256          TEXT NOT NULL,                -- of the plaintext, hex (the manifest's)
  chunk_size      INTEGER NOT NULL,
  sealed_size     INTEGER NOT NULL,             -- size + 16 per chunk
  item_key        BLOB NOT NULL CHECK (length(item_key) = 32),
  nonce_prefix    BLOB NOT NULL CHECK (length(nonce_prefix) = 7),
  -- outbound: queued -> receipted | failed; inbound: receiving -> received
  state           TEXT NOT NULL CHECK (state IN ('queued', 'receipted', 'failed', 'receiving', 'received')),
  -- sealed bytes: outbound, acknowledged by the peer (and pushed so far, for progress);
  -- inbound, durably stored and verified
  acked_bytes     INTEGER NOT NULL DEFAULT 0,
  sent_bytes      INTEGER NOT NULL DEFAULT 0,
  source_path     TEXT,                         -- outbound: the file, as resolved at send time
  source_stat     TEXT,                         -- outbound: JSON {dev, ino, size, mtimeMs} at hashing time
  sealed_sha256   TEXT,                         -- inbound: the content address of the stored sealed stream
  receipt         TEXT,                         -- outbound: the peer's verified item receipt; inbound: the one we issued
  received_at     TEXT,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,   -- epoch ms (outbound)
  last_error      TEXT,
  updated_at      TEXT NOT NULL,
  PRIMARY KEY (package_id, item_id)
);
CREATE INDEX evidence_items_due ON evidence_items (state, next_attempt_at);
