-- Valise gateway store, schema version 2: the audit log becomes an RFC 9162
-- Merkle tree with signed checkpoints.

-- Perfect subtree hashes: level 0 holds the leaf hash of entry idx; level h,
-- idx i the hash of the aligned subtree of 2^h leaves from leaf i * 2^h.
CREATE TABLE audit_nodes (
  level INTEGER NOT NULL,
  idx   INTEGER NOT NULL,
  hash  BLOB NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TRIGGER audit_nodes_no_update BEFORE UPDATE ON audit_nodes
BEGIN SELECT RAISE(ABORT, 'audit_nodes is append-only'); END;
CREATE TRIGGER audit_nodes_no_delete BEFORE DELETE ON audit_nodes
BEGIN SELECT RAISE(ABORT, 'audit_nodes is append-only'); END;

-- Checkpoints this gateway signed with its log key (C2SP signed notes).
CREATE TABLE audit_checkpoints (
  size       INTEGER PRIMARY KEY,
  root       BLOB NOT NULL CHECK (length(root) = 32),
  note       TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;

-- Checkpoints of peers' logs that this gateway verified (from receipts and
-- witnessing): its evidence of what each peer's log held, and when.
CREATE TABLE peer_checkpoints (
  origin      TEXT NOT NULL,
  size        INTEGER NOT NULL,
  root        BLOB NOT NULL CHECK (length(root) = 32),
  note        TEXT NOT NULL,
  received_at TEXT NOT NULL,
  PRIMARY KEY (origin, size)
);
