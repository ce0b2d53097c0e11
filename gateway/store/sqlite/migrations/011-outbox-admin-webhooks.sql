-- Valise gateway store, schema version 11: operators act on the outbox, and
-- alerts leave through webhooks.

-- The outbox gains the state 'cancelled' (an operator stopped the delivery)
-- and retry_from (when an operator's retry restarted the give-up clock).
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt.
CREATE TABLE outbox_v11 (
  envelope_id      TEXT PRIMARY KEY REFERENCES envelopes (envelope_id),
  peer             TEXT NOT NULL,
  state            TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed', 'superseded', 'cancelled')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER NOT NULL,         -- epoch ms
  last_error       TEXT,
  created_at       TEXT NOT NULL,
  finished_at      TEXT,
  rank             INTEGER NOT NULL DEFAULT 2 CHECK (rank IN (0, 1, 2)),
  lease_owner      TEXT,
  lease_expires_at INTEGER NOT NULL DEFAULT 0,
  superseded_by    TEXT REFERENCES envelopes (envelope_id),   -- state 'superseded': the re-sealed envelope that replaced it
  retry_from       TEXT                      -- ISO time of the last operator retry (null: created_at)
);
INSERT INTO outbox_v11 (envelope_id, peer, state, attempts, next_attempt_at, last_error, created_at, finished_at, rank, lease_owner, lease_expires_at, superseded_by)
  SELECT envelope_id, peer, state, attempts, next_attempt_at, last_error, created_at, finished_at, rank, lease_owner, lease_expires_at, superseded_by FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v11 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (state, rank, next_attempt_at);

-- Webhook deliveries: one row per event and target, delivered at least once
-- (gateway/webhooks/). The body is kept exactly as signed, so a retry sends
-- the same bytes with the same event id.
CREATE TABLE webhook_deliveries (
  event_id         TEXT NOT NULL,
  target           TEXT NOT NULL,            -- the webhook's name in valise.json
  url              TEXT NOT NULL,
  kind             TEXT NOT NULL,            -- e.g. alert.delivery-failed
  body             TEXT NOT NULL,            -- JSON, as signed and sent
  state            TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER NOT NULL,         -- epoch ms
  last_error       TEXT,
  created_at       TEXT NOT NULL,
  finished_at      TEXT,
  lease_owner      TEXT,
  lease_expires_at INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (event_id, target)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
