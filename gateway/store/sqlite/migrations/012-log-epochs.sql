-- Valise gateway store, schema version 12: log epochs (disaster recovery).
-- A log that lost entries (a restore from an older backup) is never
-- rewritten: the gateway starts a new epoch, with its own checkpoint origin
-- (valise/<ID>/epoch-N), whose first entry after the restored ones is a
-- signed statement of the loss (gateway/audit/epochs.ts). Epoch 1 is
-- implicit: origin valise/<ID> from index 0.

-- Epochs of this gateway's own log, from 2 on. Append-only.
CREATE TABLE audit_epochs (
  epoch       INTEGER PRIMARY KEY CHECK (epoch >= 2),
  origin      TEXT NOT NULL UNIQUE,
  start_index INTEGER NOT NULL,             -- index of the statement entry; the epoch's checkpoints are larger
  statement   TEXT NOT NULL,                -- the statement entry (canonical JSON, as in audit_entries)
  created_at  TEXT NOT NULL
);
CREATE TRIGGER audit_epochs_no_update BEFORE UPDATE ON audit_epochs
BEGIN SELECT RAISE(ABORT, 'audit_epochs is append-only'); END;
CREATE TRIGGER audit_epochs_no_delete BEFORE DELETE ON audit_epochs
BEGIN SELECT RAISE(ABORT, 'audit_epochs is append-only'); END;

-- As a witness: epochs of peers' logs whose statements this gateway checked
-- and accepted (the request as submitted, for the record).
CREATE TABLE peer_epochs (
  authority       TEXT NOT NULL,
  epoch           INTEGER NOT NULL CHECK (epoch >= 2),
  origin          TEXT NOT NULL UNIQUE,
  previous_origin TEXT NOT NULL,
  start_index     INTEGER NOT NULL,
  forced          INTEGER NOT NULL CHECK (forced IN (0, 1)),
  lost_from       INTEGER,
  lost_to         INTEGER,
  statement       TEXT NOT NULL,          -- JSON: the statement entry, checkpoint and proofs submitted
  accepted_at     TEXT NOT NULL,
  PRIMARY KEY (authority, epoch)
);
CREATE TRIGGER peer_epochs_no_update BEFORE UPDATE ON peer_epochs
BEGIN SELECT RAISE(ABORT, 'peer_epochs is append-only'); END;
CREATE TRIGGER peer_epochs_no_delete BEFORE DELETE ON peer_epochs
BEGIN SELECT RAISE(ABORT, 'peer_epochs is append-only'); END;

-- An alarm closed by a peer's epoch statement: kept beside the alarm (which
-- stays, append-only), shown in health as resolved, never erased.
CREATE TABLE log_alarm_resolutions (
  alarm_id    INTEGER PRIMARY KEY REFERENCES log_alarms (id),
  origin      TEXT NOT NULL,               -- the epoch that closed it
  resolved_at TEXT NOT NULL,
  reason      TEXT NOT NULL
);
CREATE TRIGGER log_alarm_resolutions_no_update BEFORE UPDATE ON log_alarm_resolutions
BEGIN SELECT RAISE(ABORT, 'log_alarm_resolutions is append-only'); END;
CREATE TRIGGER log_alarm_resolutions_no_delete BEFORE DELETE ON log_alarm_resolutions
BEGIN SELECT RAISE(ABORT, 'log_alarm_resolutions is append-only'); END;
