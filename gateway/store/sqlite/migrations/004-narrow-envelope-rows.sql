-- Valise gateway store, schema version 4.
-- Envelope bodies (wire form and document, tens of KB) move out of the
-- envelopes row, which is updated when a receipt arrives: SQLite rewrites a
-- whole row on update, so a narrow row keeps those writes (and the WAL) small.
CREATE TABLE envelope_bodies (
  envelope_id TEXT PRIMARY KEY REFERENCES envelopes (envelope_id),
  wire        TEXT NOT NULL,                -- the flattened JWS JSON, as travelled
  document    TEXT NOT NULL                 -- the business document (canonical JSON)
);
INSERT INTO envelope_bodies (envelope_id, wire, document) SELECT envelope_id, wire, document FROM envelopes;
ALTER TABLE envelopes DROP COLUMN wire;
ALTER TABLE envelopes DROP COLUMN document;

-- The delivery order (emergency first) as an indexed column of the outbox,
-- so picking due envelopes does not sort the whole backlog.
ALTER TABLE outbox ADD COLUMN rank INTEGER NOT NULL DEFAULT 2 CHECK (rank IN (0, 1, 2));
UPDATE outbox SET rank = (
  SELECT CASE c.priority WHEN 'emergency' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END
    FROM envelopes e JOIN cases c ON c.case_id = e.case_id WHERE e.envelope_id = outbox.envelope_id);
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (state, rank, next_attempt_at);
