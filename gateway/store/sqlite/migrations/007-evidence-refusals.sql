-- Valise gateway store, schema version 7: refused evidence uploads, counted.
-- The first refusal of an item for a code is audited at once (evidence.item.rejected);
-- repeats are counted here and audited in summaries (evidence.item.rejected.repeated),
-- so a peer repeating a refused upload cannot grow the audit log without bound.
CREATE TABLE evidence_refusals (
  item_id     TEXT NOT NULL,
  code        TEXT NOT NULL,
  first_at    TEXT NOT NULL,                -- the refusal that was audited
  last_at     TEXT NOT NULL,
  total       INTEGER NOT NULL DEFAULT 1,   -- every refusal of the item for the code
  repeats     INTEGER NOT NULL DEFAULT 0,   -- refusals not audited yet (counted since the last summary)
  repeats_since TEXT,                       -- the first of those
  PRIMARY KEY (item_id, code)
);
CREATE INDEX evidence_refusals_unsummarised ON evidence_refusals (item_id) WHERE repeats > 0;
