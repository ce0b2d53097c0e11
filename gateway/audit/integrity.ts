/**
 * The check a gateway makes of its own log before it starts: every stored
 * entry still hashes to the stored leaf, the tree still has the root of the
 * last signed checkpoint, and that checkpoint carries a valid signature of
 * the log key. A log edited behind the gateway's back (a changed, deleted,
 * reordered or truncated row) does not match what was signed — and what
 * peers hold in receipts and cosignatures — so the gateway refuses to run on it.
 */
import type { KeyObject } from "node:crypto";
import type { Tx } from "../store/store.js";
import { GatewayError } from "../errors.js";
import { latestCheckpoint } from "./checkpoints.js";
import { withStoredTree } from "./stored-tree.js";
import { verifyCheckpoint } from "./checkpoint.js";
import { isOriginOf, noteOrigin, parseLogOrigin } from "./epoch-origin.js";
import { allEpochs } from "./epochs.js";
import { leafHash, treeRoot } from "./merkle.js";

/** What the check found. */
export interface LogIntegrity {
  readonly entries: number;
  readonly checkpointSize: number;
}

/**
 * Verifies the stored log against its last signed checkpoint.
 * Throws `AUDIT_LOG_TAMPERED` naming the first bad index.
 */
export async function checkLogIntegrity(tx: Tx, authority: string, logKeys: readonly KeyObject[]): Promise<LogIntegrity> {
  const tampered = (index: number, reason: string): GatewayError =>
    new GatewayError("AUDIT_LOG_TAMPERED", `the audit log does not match what was signed: ${reason} (index ${index})`, { details: { index, reason } });

  // Pages of entries with their leaves: memory stays flat whatever the log's size.
  let expected = 0;
  for (;;) {
    const page = await tx.audit.entriesWithLeaves(expected, 5000);
    for (const row of page) {
      if (row.idx !== expected) throw tampered(expected, "entry missing");
      if (row.hash === null) throw tampered(row.idx, "tree leaf missing");
      if (!leafHash(Buffer.from(row.entry, "utf8")).equals(row.hash)) throw tampered(row.idx, "entry differs from its leaf hash");
      const parsed = JSON.parse(row.entry) as { index?: unknown };
      if (parsed.index !== row.idx) throw tampered(row.idx, "entry stored at another index");
      expected += 1;
    }
    if (page.length < 5000) break;
  }
  if ((await tx.audit.leafCount()) > expected) throw tampered(expected, "tree has more leaves than entries");

  const checkpoint = await latestCheckpoint(tx);
  if (checkpoint === undefined) return { entries: expected, checkpointSize: 0 };
  if (checkpoint.size > expected) throw tampered(expected, `log truncated below the signed checkpoint of size ${checkpoint.size}`);
  // The checkpoint names its epoch; that epoch must be one of this log's, and the checkpoint larger than its start.
  const origin = noteOrigin(checkpoint.note);
  const epoch = (await allEpochs(tx, authority)).find((e) => e.origin === origin);
  if (!isOriginOf(authority, origin) || epoch === undefined || parseLogOrigin(origin)?.epoch !== epoch.epoch || (epoch.epoch > 1 && checkpoint.size <= epoch.startIndex)) {
    throw tampered(checkpoint.size - 1, "the last checkpoint names no epoch of this log");
  }
  if (!logKeys.some((publicKey) => verifies(() => verifyCheckpoint(checkpoint.note, { origin, publicKey })))) {
    throw tampered(checkpoint.size - 1, "the last checkpoint's signature does not verify");
  }
  // Leaves match entries, so a differing root means the stored inner nodes
  // (or the stored checkpoint) were rewritten; no single entry is to blame.
  const root = await withStoredTree(tx, expected, (reader) => treeRoot(reader, checkpoint.size));
  if (!root.equals(checkpoint.root) || !verifiedRoot(checkpoint.note, origin, logKeys).equals(root)) {
    throw tampered(checkpoint.size - 1, "the tree's root differs from the last signed checkpoint");
  }
  return { entries: expected, checkpointSize: checkpoint.size };
}

function verifies(check: () => unknown): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}

function verifiedRoot(note: string, origin: string, logKeys: readonly KeyObject[]): Buffer {
  for (const publicKey of logKeys) {
    try {
      return verifyCheckpoint(note, { origin, publicKey }).checkpoint.rootHash;
    } catch {
      // try the next key
    }
  }
  return Buffer.alloc(0);
}
