-- Valise gateway store, schema version 9: an outbox envelope can be superseded.
-- An envelope queued under a sign key that was revoked before it was
-- delivered is re-sealed under the current key as a new envelope (a new id:
-- the receiver refuses one id with other bytes) by gateway/delivery/reseal.ts.
-- The old row stays, state 'superseded', naming its replacement.
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt.
CREATE TABLE outbox_new (
  envelope_id     TEXT PRIMARY KEY REFERENCES envelopes (envelope_id),
  peer            TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed', 'superseded')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,         -- epoch ms
  last_error      TEXT,
  created_at      TEXT NOT NULL,            -- when delivery started (a re-sealed envelope keeps its original's)
  finished_at     TEXT,
  rank            INTEGER NOT NULL DEFAULT 2 CHECK (rank IN (0, 1, 2)),
  superseded_by   TEXT REFERENCES envelopes (envelope_id)   -- state 'superseded': the envelope that replaced it
);
INSERT INTO outbox_new (envelope_id, peer, state, attempts, next_attempt_at, last_error, created_at, finished_at, rank)
  SELECT envelope_id, peer, state, attempts, next_attempt_at, last_error, created_at, finished_at, rank FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (state, rank, next_attempt_at);
