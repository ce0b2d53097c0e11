/**
 * Helpers of the evidence tests: manifests and sealed streams made the way a
 * sender makes them (real keys, real STREAM sealing), and small readers of
 * the evidence tables.
 */
import http from "node:http";
import { createCipheriv, createHash, randomUUID } from "node:crypto";
import type { Store } from "../../../gateway/store/store.js";
import { itemAad, newItemKey, sealItem, type StreamParams } from "../../../gateway/evidence/stream.js";
import type { EvidenceManifest, ManifestItem } from "../../../gateway/evidence/manifest.js";

/** The chunk size of test items: the smallest a manifest allows. */
export const TEST_CHUNK = 64 * 1024;

/** One item as a test builds it: its manifest entry, plaintext and sealed stream. */
export interface TestItem {
  readonly manifest: ManifestItem;
  readonly plaintext: Buffer;
  readonly params: StreamParams;
  readonly sealed: Buffer;
}

/** Provenance fields every test item shares. */
export const PROVENANCE = {
  description: "Login records of the account, exported by the provider.",
  source: { organisation: "Mailbridge Inc.", country: "US", custodian: "Custodian of Records" },
  acquiredAt: "2026-01-08T16:20:00.000Z",
  legalInstrument: "Order under 18 U.S.C. 3512, D.D.C., Misc. No. 25-1182",
} as const;

/** A deterministic pseudo-random plaintext of `size` bytes (an AES-CTR keystream keyed by `seed`). */
export function plaintextOf(size: number, seed = "evidence"): Buffer {
  const key = createHash("sha256").update(seed).digest();
  return createCipheriv("aes-256-ctr", key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

/** An item of `plaintext` for `packageId`, sealed with a fresh key. */
export function testItem(packageId: string, plaintext: Buffer, options: { name?: string; sha256?: string; chunkSize?: number } = {}): TestItem {
  const itemId = randomUUID();
  const chunkSize = options.chunkSize ?? TEST_CHUNK;
  const key = newItemKey();
  const params: StreamParams = { ...key, size: plaintext.byteLength, chunkSize, aad: itemAad(packageId, itemId) };
  return {
    plaintext,
    params,
    sealed: sealItem(params, plaintext),
    manifest: {
      itemId,
      name: options.name ?? "login-records.csv",
      mediaType: "text/csv",
      size: plaintext.byteLength,
      sha256: options.sha256 ?? createHash("sha256").update(plaintext).digest("hex"),
      ...PROVENANCE,
      encryption: { alg: "A256GCM-STREAM", key: Buffer.from(key.key).toString("base64url"), noncePrefix: Buffer.from(key.noncePrefix).toString("base64url"), chunkSize },
    },
  };
}

/** A manifest of `items` for `caseId`. */
export function manifestOf(caseId: string, packageId: string, items: readonly TestItem[], completes: "executed" | "partially-executed" = "executed"): EvidenceManifest {
  return { kind: "evidence-manifest", caseId, packageId, createdAt: new Date().toISOString(), completes, items: items.map((item) => item.manifest) };
}

/** An evidence item row (a few columns). */
export async function itemRow(store: Store, itemId: string): Promise<{ state: string; acked_bytes: number; sealed_sha256: string | null; receipt: string | null; last_error: string | null } | undefined> {
  return (await store.inspect<{ state: string; acked_bytes: number; sealed_sha256: string | null; receipt: string | null; last_error: string | null }>("SELECT state, acked_bytes, sealed_sha256, receipt, last_error FROM evidence_items WHERE item_id = ?", [itemId]))[0];
}

/** Audit entries of `kind` (parsed). */
export async function entriesOfKind(store: Store, kind: string): Promise<Array<{ index: number; kind: string; caseId?: string; details: Record<string, unknown> }>> {
  return (await store.inspect<{ entry: string }>("SELECT entry FROM audit_entries WHERE kind = ? ORDER BY idx", [kind])).map((row) => JSON.parse(row.entry));
}

/** GET `path` on the local API at `port` as raw bytes (the fixtures' client decodes text). */
export function getBytes(port: number, path: string, token: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method: "GET", agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (part: Buffer) => parts.push(part));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), complete: res.complete }));
      res.on("error", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), complete: false }));
      res.on("aborted", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), complete: false }));
    });
    req.on("error", reject);
    req.end();
  });
}
