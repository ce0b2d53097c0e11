-- Valise gateway store on PostgreSQL, schema version 2: leases (as SQLite's 010).
CREATE TABLE leases (
  name        TEXT PRIMARY KEY,
  owner       TEXT NOT NULL,
  expires_at  BIGINT NOT NULL,
  acquired_at BIGINT NOT NULL
);
ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
ALTER TABLE outbox ADD COLUMN lease_expires_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE evidence_items ADD COLUMN lease_owner TEXT;
ALTER TABLE evidence_items ADD COLUMN lease_expires_at BIGINT NOT NULL DEFAULT 0;
