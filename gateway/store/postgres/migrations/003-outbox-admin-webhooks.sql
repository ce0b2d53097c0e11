-- Valise gateway store on PostgreSQL, schema version 3: operators act on the
-- outbox, and alerts leave through webhooks (as SQLite's 011).
ALTER TABLE outbox DROP CONSTRAINT outbox_state_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_state_check CHECK (state IN ('pending', 'delivered', 'failed', 'superseded', 'cancelled'));
ALTER TABLE outbox ADD COLUMN retry_from TEXT;

CREATE TABLE webhook_deliveries (
  event_id         TEXT NOT NULL,
  target           TEXT NOT NULL,
  url              TEXT NOT NULL,
  kind             TEXT NOT NULL,
  body             TEXT NOT NULL,
  state            TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  BIGINT NOT NULL,
  last_error       TEXT,
  created_at       TEXT NOT NULL,
  finished_at      TEXT,
  lease_owner      TEXT,
  lease_expires_at BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (event_id, target)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
