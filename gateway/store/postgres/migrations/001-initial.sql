-- Valise gateway store on PostgreSQL, schema version 1: the tables of the
-- SQLite schema's versions 1-9 (see ../../sqlite/migrations), in
-- PostgreSQL's types. Integers that hold epoch milliseconds or sizes are
-- BIGINT; binary columns BYTEA; JSON stays TEXT (canonical or as written).

-- Refuses UPDATE, DELETE and TRUNCATE on the append-only tables, whoever asks.
CREATE FUNCTION valise_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TABLE cases (
  case_id             TEXT PRIMARY KEY,
  direction           TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
  kind                TEXT NOT NULL,
  peer                TEXT NOT NULL,
  status              TEXT NOT NULL,
  priority            TEXT NOT NULL CHECK (priority IN ('normal', 'urgent', 'emergency')),
  created_at          TEXT NOT NULL,
  updated_at          TEXT NOT NULL,
  request_envelope_id TEXT,
  head_envelope_id    TEXT,
  received_at         TEXT,
  facts               TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX cases_by_status ON cases (direction, status);

CREATE TABLE envelopes (
  envelope_id    TEXT PRIMARY KEY,
  case_id        TEXT NOT NULL REFERENCES cases (case_id),
  direction      TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
  type           TEXT NOT NULL,
  from_authority TEXT NOT NULL,
  to_authority   TEXT NOT NULL,
  in_reply_to    TEXT,
  created_at     TEXT NOT NULL,
  stored_at      TEXT NOT NULL,
  digest         TEXT NOT NULL,
  signer_kid     TEXT NOT NULL,
  receipt        TEXT
);
CREATE INDEX envelopes_by_case ON envelopes (case_id, stored_at);
ALTER TABLE cases ADD FOREIGN KEY (request_envelope_id) REFERENCES envelopes (envelope_id);
ALTER TABLE cases ADD FOREIGN KEY (head_envelope_id) REFERENCES envelopes (envelope_id);

CREATE TABLE envelope_bodies (
  envelope_id TEXT PRIMARY KEY REFERENCES envelopes (envelope_id),
  wire        TEXT NOT NULL,
  document    TEXT NOT NULL
);

CREATE TABLE outbox (
  envelope_id     TEXT PRIMARY KEY REFERENCES envelopes (envelope_id),
  peer            TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed', 'superseded')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  last_error      TEXT,
  created_at      TEXT NOT NULL,
  finished_at     TEXT,
  rank            INTEGER NOT NULL DEFAULT 2 CHECK (rank IN (0, 1, 2)),
  superseded_by   TEXT REFERENCES envelopes (envelope_id)   -- as SQLite's 009: the envelope that replaced it
);
CREATE INDEX outbox_due ON outbox (state, rank, next_attempt_at);

CREATE TABLE tokens (
  token_id    TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  role        TEXT NOT NULL CHECK (role IN ('caseworker', 'auditor', 'operator')),
  hash        TEXT NOT NULL UNIQUE,
  created_at  TEXT NOT NULL,
  revoked_at  TEXT
);

-- The audit log. Indices are handed out by audit_head (one row, locked by
-- each append until its transaction ends), so they stay dense across
-- instances and across rolled-back transactions.
CREATE TABLE audit_head (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  size BIGINT NOT NULL CHECK (size >= 0)
);
INSERT INTO audit_head (id, size) VALUES (1, 0);

CREATE TABLE audit_entries (
  idx         BIGINT PRIMARY KEY,
  time        TEXT NOT NULL,
  kind        TEXT NOT NULL,
  actor       TEXT NOT NULL,
  case_id     TEXT,
  envelope_id TEXT,
  entry       TEXT NOT NULL
);
CREATE INDEX audit_by_case ON audit_entries (case_id, idx);
CREATE INDEX audit_by_envelope ON audit_entries (envelope_id);
CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries FOR EACH ROW EXECUTE FUNCTION valise_append_only();
CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries FOR EACH STATEMENT EXECUTE FUNCTION valise_append_only();

CREATE TABLE audit_nodes (
  level INTEGER NOT NULL,
  idx   BIGINT NOT NULL,
  hash  BYTEA NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (level, idx)
);
CREATE TRIGGER audit_nodes_append_only BEFORE UPDATE OR DELETE ON audit_nodes FOR EACH ROW EXECUTE FUNCTION valise_append_only();
CREATE TRIGGER audit_nodes_no_truncate BEFORE TRUNCATE ON audit_nodes FOR EACH STATEMENT EXECUTE FUNCTION valise_append_only();

CREATE TABLE audit_checkpoints (
  size       BIGINT PRIMARY KEY,
  root       BYTEA NOT NULL CHECK (length(root) = 32),
  note       TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints FOR EACH ROW EXECUTE FUNCTION valise_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION valise_append_only();

CREATE TABLE peer_checkpoints (
  origin      TEXT NOT NULL,
  size        BIGINT NOT NULL,
  root        BYTEA NOT NULL CHECK (length(root) = 32),
  note        TEXT NOT NULL,
  received_at TEXT NOT NULL,
  PRIMARY KEY (origin, size)
);

CREATE TABLE audit_cosignatures (
  size        BIGINT NOT NULL REFERENCES audit_checkpoints (size),
  witness     TEXT NOT NULL,
  line        TEXT NOT NULL,
  received_at TEXT NOT NULL,
  PRIMARY KEY (size, witness)
);

CREATE TABLE witnessed_logs (
  origin     TEXT PRIMARY KEY,
  size       BIGINT NOT NULL,
  root       BYTEA NOT NULL CHECK (length(root) = 32),
  note       TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE log_alarms (
  id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  origin      TEXT NOT NULL,
  detected_at TEXT NOT NULL,
  reason      TEXT NOT NULL,
  evidence    TEXT NOT NULL
);
CREATE TRIGGER log_alarms_append_only BEFORE UPDATE OR DELETE ON log_alarms FOR EACH ROW EXECUTE FUNCTION valise_append_only();

CREATE TABLE case_steps (
  envelope_id   TEXT PRIMARY KEY REFERENCES envelopes (envelope_id),
  case_id       TEXT NOT NULL REFERENCES cases (case_id),
  seq           INTEGER NOT NULL CHECK (seq >= 1),
  predecessor   TEXT NOT NULL,
  step          TEXT NOT NULL,
  by_side       TEXT NOT NULL CHECK (by_side IN ('requesting', 'requested')),
  from_status   TEXT NOT NULL,
  to_status     TEXT NOT NULL,
  at            TEXT NOT NULL,
  grounds       TEXT,
  state         TEXT NOT NULL CHECK (state IN ('applied', 'superseded')),
  superseded_by TEXT
);
CREATE INDEX case_steps_by_case ON case_steps (case_id, seq);
CREATE UNIQUE INDEX case_steps_one_applied_per_seq ON case_steps (case_id, seq) WHERE state = 'applied';

CREATE TABLE case_deadline_alerts (
  case_id     TEXT NOT NULL REFERENCES cases (case_id),
  clock       TEXT NOT NULL CHECK (clock IN ('hop', 'completion', 'preservation-expiry')),
  hop_key     TEXT NOT NULL DEFAULT '',
  due_at      TEXT NOT NULL,
  detected_at TEXT NOT NULL,
  PRIMARY KEY (case_id, clock, hop_key)
);

CREATE TABLE evidence_packages (
  package_id   TEXT PRIMARY KEY,
  case_id      TEXT NOT NULL REFERENCES cases (case_id),
  direction    TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
  peer         TEXT NOT NULL,
  envelope_id  TEXT NOT NULL UNIQUE REFERENCES envelopes (envelope_id),
  completes    TEXT NOT NULL CHECK (completes IN ('partially-executed', 'executed')),
  state        TEXT NOT NULL CHECK (state IN ('sending', 'delivered', 'failed', 'receiving', 'received')),
  created_at   TEXT NOT NULL,
  finished_at  TEXT
);
CREATE INDEX evidence_packages_by_case ON evidence_packages (case_id, created_at);
CREATE INDEX evidence_packages_by_state ON evidence_packages (direction, state);

CREATE TABLE evidence_items (
  package_id      TEXT NOT NULL REFERENCES evidence_packages (package_id),
  item_id         TEXT NOT NULL UNIQUE,
  position        INTEGER NOT NULL,
  name            TEXT NOT NULL,
  media_type      TEXT NOT NULL,
  size            BIGINT NOT NULL CHECK (size >= 0),
  sha256          TEXT NOT NULL,
  chunk_size      INTEGER NOT NULL,
  sealed_size     BIGINT NOT NULL,
  item_key        BYTEA NOT NULL CHECK (length(item_key) = 32),
  nonce_prefix    BYTEA NOT NULL CHECK (length(nonce_prefix) = 7),
  state           TEXT NOT NULL CHECK (state IN ('queued', 'receipted', 'failed', 'receiving', 'received')),
  acked_bytes     BIGINT NOT NULL DEFAULT 0,
  sent_bytes      BIGINT NOT NULL DEFAULT 0,
  source_path     TEXT,
  source_stat     TEXT,
  sealed_sha256   TEXT,
  receipt         TEXT,
  received_at     TEXT,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL DEFAULT 0,
  last_error      TEXT,
  updated_at      TEXT NOT NULL,
  PRIMARY KEY (package_id, item_id)
);
CREATE INDEX evidence_items_due ON evidence_items (state, next_attempt_at);

-- As SQLite's 007: refused evidence uploads, counted (the first audited, repeats summarised).
CREATE TABLE evidence_refusals (
  item_id       TEXT NOT NULL,
  code          TEXT NOT NULL,
  first_at      TEXT NOT NULL,
  last_at       TEXT NOT NULL,
  total         INTEGER NOT NULL DEFAULT 1,
  repeats       INTEGER NOT NULL DEFAULT 0,
  repeats_since TEXT,
  PRIMARY KEY (item_id, code)
);
CREATE INDEX evidence_refusals_unsummarised ON evidence_refusals (item_id) WHERE repeats > 0;

-- As SQLite's 008: Idempotency-Key of local API submissions.
CREATE TABLE idempotency_keys (
  token_id     TEXT NOT NULL REFERENCES tokens (token_id),
  key          TEXT NOT NULL,
  fingerprint  TEXT NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('pending', 'done')),
  holder       TEXT NOT NULL,
  status       INTEGER,
  response     TEXT,
  created_at   TEXT NOT NULL,
  PRIMARY KEY (token_id, key)
);
