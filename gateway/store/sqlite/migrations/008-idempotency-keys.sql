-- Valise gateway store, schema version 8: Idempotency-Key of local API submissions.

-- One row per (token, key): the request it was first used for (a SHA-256 of
-- method, path and body) and, once answered, the answer to replay. A row is
-- `pending` while its request runs; `holder` names the gateway process
-- running it, so that a row left pending by a process that died is taken
-- over by the next one rather than blocking the key for ever.
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
