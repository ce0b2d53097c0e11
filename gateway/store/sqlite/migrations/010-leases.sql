-- Valise gateway store, schema version 10: leases, so that instances sharing
-- a database (PostgreSQL) do each duty once; SQLite uses the same tables.

-- Named leases: the leader's singleton jobs, evidence uploads.
CREATE TABLE leases (
  name        TEXT PRIMARY KEY,
  owner       TEXT NOT NULL,             -- instance id
  expires_at  INTEGER NOT NULL,          -- epoch ms
  acquired_at INTEGER NOT NULL           -- epoch ms, when this owner took it
);

-- Per-row leases of the outbox: the instance delivering an envelope.
ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
ALTER TABLE outbox ADD COLUMN lease_expires_at INTEGER NOT NULL DEFAULT 0;

-- Per-row leases of outbound evidence items: the instance uploading an item.
ALTER TABLE evidence_items ADD COLUMN lease_owner TEXT;
ALTER TABLE evidence_items ADD COLUMN lease_expires_at INTEGER NOT NULL DEFAULT 0;
