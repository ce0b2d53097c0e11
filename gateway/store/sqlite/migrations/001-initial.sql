-- Valise gateway store, schema version 1.

-- A case: one request and everything that answers it.
CREATE TABLE cases (
  case_id        TEXT PRIMARY KEY,
  direction      TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
  kind           TEXT NOT NULL,             -- mla-request | preservation-request
  peer           TEXT NOT NULL,             -- the other authority
  status         TEXT NOT NULL,
  priority       TEXT NOT NULL CHECK (priority IN ('normal', 'urgent', 'emergency')),
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL
);
CREATE INDEX cases_by_status ON cases (direction, status);

-- Every envelope sent or received, as it travelled (the sealed wire form).
CREATE TABLE envelopes (
  envelope_id    TEXT PRIMARY KEY,
  case_id        TEXT NOT NULL REFERENCES cases (case_id),
  direction      TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
  type           TEXT NOT NULL,
  from_authority TEXT NOT NULL,
  to_authority   TEXT NOT NULL,
  in_reply_to    TEXT,
  created_at     TEXT NOT NULL,             -- routing header createdAt
  stored_at      TEXT NOT NULL,
  digest         TEXT NOT NULL,             -- envelopeDigest, hex
  wire           TEXT NOT NULL,             -- the flattened JWS JSON
  document       TEXT NOT NULL,             -- the business document (canonical JSON)
  signer_kid     TEXT NOT NULL,
  receipt        TEXT                       -- outbound: the peer's verified receipt; inbound: the receipt we issued
);
CREATE INDEX envelopes_by_case ON envelopes (case_id, stored_at);

-- Outbound envelopes waiting for (or done with) delivery.
CREATE TABLE outbox (
  envelope_id     TEXT PRIMARY KEY REFERENCES envelopes (envelope_id),
  peer            TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,         -- epoch ms
  last_error      TEXT,
  created_at      TEXT NOT NULL,
  finished_at     TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

-- Bearer tokens of the local API; only a hash of each token is kept.
CREATE TABLE tokens (
  token_id    TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  role        TEXT NOT NULL CHECK (role IN ('caseworker', 'auditor', 'operator')),
  hash        TEXT NOT NULL UNIQUE,         -- SHA-256 of the secret, hex
  created_at  TEXT NOT NULL,
  revoked_at  TEXT
);

-- The audit log: append-only. The entry column holds the RFC 8785 canonical
-- JSON that is hashed into the log; the other columns index it.
CREATE TABLE audit_entries (
  idx             INTEGER PRIMARY KEY,      -- 0, 1, 2, … without gaps
  time            TEXT NOT NULL,
  kind            TEXT NOT NULL,
  actor           TEXT NOT NULL,
  case_id         TEXT,
  envelope_id     TEXT,
  entry           TEXT NOT NULL
);
CREATE INDEX audit_by_case ON audit_entries (case_id, idx);
CREATE INDEX audit_by_envelope ON audit_entries (envelope_id);

CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END;
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END;
