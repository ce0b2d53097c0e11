-- Valise gateway store on PostgreSQL, schema version 4: log epochs (as SQLite's 012).
CREATE TABLE audit_epochs (
  epoch       INTEGER PRIMARY KEY CHECK (epoch >= 2),
  origin      TEXT NOT NULL UNIQUE,
  start_index BIGINT NOT NULL,
  statement   TEXT NOT NULL,
  created_at  TEXT NOT NULL
);
CREATE TRIGGER audit_epochs_append_only BEFORE UPDATE OR DELETE ON audit_epochs FOR EACH ROW EXECUTE FUNCTION valise_append_only();

CREATE TABLE peer_epochs (
  authority       TEXT NOT NULL,
  epoch           INTEGER NOT NULL CHECK (epoch >= 2),
  origin          TEXT NOT NULL UNIQUE,
  previous_origin TEXT NOT NULL,
  start_index     BIGINT NOT NULL,
  forced          INTEGER NOT NULL CHECK (forced IN (0, 1)),
  lost_from       BIGINT,
  lost_to         BIGINT,
  statement       TEXT NOT NULL,
  accepted_at     TEXT NOT NULL,
  PRIMARY KEY (authority, epoch)
);
CREATE TRIGGER peer_epochs_append_only BEFORE UPDATE OR DELETE ON peer_epochs FOR EACH ROW EXECUTE FUNCTION valise_append_only();

CREATE TABLE log_alarm_resolutions (
  alarm_id    BIGINT PRIMARY KEY REFERENCES log_alarms (id),
  origin      TEXT NOT NULL,
  resolved_at TEXT NOT NULL,
  reason      TEXT NOT NULL
);
CREATE TRIGGER log_alarm_resolutions_append_only BEFORE UPDATE OR DELETE ON log_alarm_resolutions FOR EACH ROW EXECUTE FUNCTION valise_append_only();
