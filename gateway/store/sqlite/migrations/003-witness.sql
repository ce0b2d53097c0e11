-- Valise gateway store, schema version 3: witnessing (C2SP tlog-witness).

-- Cosignatures peers made on this gateway's checkpoints (signature lines).
CREATE TABLE audit_cosignatures (
  size        INTEGER NOT NULL REFERENCES audit_checkpoints (size),
  witness     TEXT NOT NULL,               -- the witness key name, valise-witness/<AUTHORITY>
  line        TEXT NOT NULL,               -- the signed-note signature line
  received_at TEXT NOT NULL,
  PRIMARY KEY (size, witness)
);

-- As a witness: the last checkpoint cosigned for each peer's log. Updated in
-- place (atomically) as the peer's log grows; a new checkpoint must be
-- consistent with this one.
CREATE TABLE witnessed_logs (
  origin     TEXT PRIMARY KEY,
  size       INTEGER NOT NULL,
  root       BLOB NOT NULL CHECK (length(root) = 32),
  note       TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- Evidence of a peer showing two inconsistent views of its log.
CREATE TABLE log_alarms (
  id          INTEGER PRIMARY KEY,
  origin      TEXT NOT NULL,
  detected_at TEXT NOT NULL,
  reason      TEXT NOT NULL,
  evidence    TEXT NOT NULL               -- JSON: both checkpoints and the failed proof
);
CREATE TRIGGER log_alarms_no_update BEFORE UPDATE ON log_alarms
BEGIN SELECT RAISE(ABORT, 'log_alarms is append-only'); END;
CREATE TRIGGER log_alarms_no_delete BEFORE DELETE ON log_alarms
BEGIN SELECT RAISE(ABORT, 'log_alarms is append-only'); END;
