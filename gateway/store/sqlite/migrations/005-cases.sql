-- Valise gateway store, schema version 5: the case lifecycle (gateway/cases/lifecycle.ts),
-- its clocks, and the metadata reports are computed from.

-- The envelope of the request, and the head of the case's history: the last
-- applied step (or the request), which the next status update follows
-- (its routing header's inReplyTo).
ALTER TABLE cases ADD COLUMN request_envelope_id TEXT REFERENCES envelopes (envelope_id);
ALTER TABLE cases ADD COLUMN head_envelope_id TEXT REFERENCES envelopes (envelope_id);
-- When the requested authority received the request (inbound: when we stored
-- it; outbound: the receivedAt of the peer's signed receipt). The clocks start here.
ALTER TABLE cases ADD COLUMN received_at TEXT;
-- Report metadata taken from the request when the case opens, as JSON:
-- {assistanceTypes, dataCategories, offenceCategory, preservationDays?}.
-- Categories and numbers only, never names, identifiers or facts.
ALTER TABLE cases ADD COLUMN facts TEXT NOT NULL DEFAULT '{}';

-- Every status update of a case, sent or received. The applied ones form one
-- chain from the request (each row's predecessor is the one before);
-- a step that lost to a concurrent step of the other side stays, superseded.
-- Refusal grounds are kept as codes; explanations, questions and answers stay
-- in the sealed documents (envelope_bodies).
CREATE TABLE case_steps (
  envelope_id   TEXT PRIMARY KEY REFERENCES envelopes (envelope_id),
  case_id       TEXT NOT NULL REFERENCES cases (case_id),
  seq           INTEGER NOT NULL CHECK (seq >= 1),   -- 1 for the step that follows the request
  predecessor   TEXT NOT NULL,                       -- envelope id of the request or step it follows
  step          TEXT NOT NULL,
  by_side       TEXT NOT NULL CHECK (by_side IN ('requesting', 'requested')),
  from_status   TEXT NOT NULL,
  to_status     TEXT NOT NULL,
  at            TEXT NOT NULL,                       -- the step's time, as its author signed it
  grounds       TEXT,                                -- JSON array of refusal ground codes
  state         TEXT NOT NULL CHECK (state IN ('applied', 'superseded')),
  superseded_by TEXT                                 -- the concurrent step that won
);
CREATE INDEX case_steps_by_case ON case_steps (case_id, seq);
CREATE UNIQUE INDEX case_steps_one_applied_per_seq ON case_steps (case_id, seq) WHERE state = 'applied';

-- Deadlines seen missed, one row per deadline, so each is alerted (log line
-- and audit entry) exactly once. hop_key names the hop: the envelope that
-- started it; '' for the case's completion and preservation-expiry clocks.
CREATE TABLE case_deadline_alerts (
  case_id     TEXT NOT NULL REFERENCES cases (case_id),
  clock       TEXT NOT NULL CHECK (clock IN ('hop', 'completion', 'preservation-expiry')),
  hop_key     TEXT NOT NULL DEFAULT '',
  due_at      TEXT NOT NULL,
  detected_at TEXT NOT NULL,
  PRIMARY KEY (case_id, clock, hop_key)
);

-- Cases opened before this version: their request, receipt time and facts.
UPDATE cases SET request_envelope_id = (
  SELECT e.envelope_id FROM envelopes e
   WHERE e.case_id = cases.case_id AND e.type IN ('mla-request', 'preservation-request')
   ORDER BY e.stored_at LIMIT 1);
UPDATE cases SET head_envelope_id = request_envelope_id;
UPDATE cases SET received_at = created_at WHERE direction = 'inbound';
UPDATE cases SET received_at = (
  SELECT json_extract(a.entry, '$.details.receivedAt') FROM audit_entries a
   WHERE a.envelope_id = cases.request_envelope_id AND a.kind = 'receipt.received'
   ORDER BY a.idx LIMIT 1)
 WHERE direction = 'outbound';
UPDATE cases SET facts = COALESCE((
  SELECT CASE cases.kind
    WHEN 'mla-request' THEN json_object(
      'assistanceTypes', (SELECT json_group_array(DISTINCT json_extract(a.value, '$.type')) FROM json_each(b.document, '$.assistance') a),
      'dataCategories', (SELECT json_group_array(DISTINCT json_extract(a.value, '$.type')) FROM json_each(b.document, '$.assistance') a
                          WHERE json_extract(a.value, '$.type') IN ('subscriber-data', 'traffic-data', 'content-data', 'bank-records')),
      'offenceCategory', json_extract(b.document, '$.offence.category'))
    ELSE json_object(
      'assistanceTypes', json_array('preservation'),
      'dataCategories', (SELECT json_group_array(DISTINCT CASE d.value WHEN 'other' THEN 'other-data' ELSE d.value END) FROM json_each(b.document, '$.dataTypes') d),
      'offenceCategory', json_extract(b.document, '$.offence.category'),
      'preservationDays', json_extract(b.document, '$.preservationDays'))
  END
  FROM envelope_bodies b WHERE b.envelope_id = cases.request_envelope_id), '{}');
