/**
 * Tampered envelopes on POST /peer/v1/envelopes, every layer: the outer JWS
 * (bits, headers, algorithms, signer), the routing header (recipient, ids,
 * times, types, unknown members), the JWE (keys, algorithms, bits), the inner
 * JWS (signer, cty, eid, bits) and the document (kind, parties, urgency,
 * schema), plus replays, swaps, oversize bodies and other peers' certificates.
 * Every layer but the tampered one is honestly signed and encrypted with real
 * keys: the sender is GB-UKCA, a genuine peer gone rogue.
 */
import { readFileSync } from "node:fs";
import type { Rng } from "./prng.js";
import { uuidFrom } from "./prng.js";
import { craftEnvelope, flipBit, type CraftInput, type Crafted } from "./craft.js";
import { send, type ClientTls, type Outcome } from "./client.js";
import { ACCEPTED, refused, type Expectation, type FuzzCase } from "./model.js";
import type { FuzzNetwork, Party } from "./network.js";

const EXAMPLES = new URL("../../schemas/examples/", import.meta.url);
function example(kind: string, name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`${kind}/${name}.json`, EXAMPLES), "utf8")) as Record<string, unknown>;
}

/** An envelope US holds, delivered before the run (for replays and cases to address). */
export interface SeedEnvelope {
  readonly envelopeId: string;
  readonly caseId: string;
  readonly bytes: Buffer;
}

/** What envelope cases need. */
export interface EnvelopeWorld {
  readonly network: FuzzNetwork;
  readonly seeds: readonly SeedEnvelope[];
  readonly timeoutMs: number;
}

const REQUEST = example("mla-request", "valid-email-records");
const PRESERVATION = example("preservation-request", "valid-email-account");
const INTERNAL: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
  ["receipt", example("receipt", "valid-with-log")],
  ["audit-entry", example("audit-entry", "valid-envelope-received")],
  ["envelope", example("envelope", "valid-request")],
  ["audit-export", example("audit-export", "valid-us-log-after-one-request")],
  ["trust-bundle", { "valise-trust-bundle": 1, jws: "e30.e30.e30" }],
];
const DAY = 24 * 3600 * 1000;

function tlsOf(party: Party, us: Party): ClientTls {
  return { ...party.tls, ca: us.rootPem };
}

/** Honest inputs for a request from GB to US. */
function honest(world: EnvelopeWorld, rng: Rng, document: Record<string, unknown> = REQUEST, type = "mla-request", priority = "normal"): CraftInput & { routing: Record<string, unknown> } {
  const { gb, us } = world.network;
  return {
    document,
    routing: { valise: 1, id: uuidFrom(rng), type, from: gb.authority, to: us.authority, caseId: uuidFrom(rng), priority, createdAt: new Date().toISOString() },
    outerSigner: { key: gb.signKey, certificates: gb.signCertificates },
    recipientKey: us.encryptPublicKey,
  };
}

type Make = (world: EnvelopeWorld, rng: Rng) => Promise<{ crafted: Crafted | Buffer; expect: Expectation; fresh?: string; tls?: "fr" | "de"; detail?: string }>;

function withRouting(input: CraftInput & { routing: Record<string, unknown> }, routing: Record<string, unknown>): CraftInput & { routing: Record<string, unknown> } {
  return { ...input, routing: { ...input.routing, ...routing } };
}

const flipPart = (rng: Rng) => (compact: string): string => {
  const parts = compact.split(".");
  const index = rng.int(0, parts.length - 1);
  parts[index] = flipBit(parts[index]!, rng.next(), rng.int(0, 7));
  return parts.join(".");
};

/** The kinds of envelope case, with their weights. */
const KINDS: ReadonlyArray<readonly [kind: string, weight: number, make: Make]> = [
  ["valid request", 6, async (w, rng) => {
    const input = honest(w, rng);
    return { crafted: await craftEnvelope(input), expect: ACCEPTED, fresh: input.routing["id"] as string };
  }],
  ["valid preservation request", 2, async (w, rng) => {
    const input = honest(w, rng, PRESERVATION, "preservation-request", "urgent");
    return { crafted: await craftEnvelope(input), expect: ACCEPTED, fresh: input.routing["id"] as string };
  }],
  ["redelivery of a stored envelope", 3, async (w, rng) => ({ crafted: rng.pick(w.seeds).bytes, expect: ACCEPTED })],
  ["outer bit flipped", 8, async (w, rng) => {
    const input = honest(w, rng);
    const { wire } = await craftEnvelope(input);
    const part = rng.pick(["protected", "payload", "signature"] as const);
    const tampered = { ...wire, [part]: flipBit(wire[part], rng.next(), rng.int(0, 7)) };
    return { crafted: Buffer.from(JSON.stringify(tampered)), expect: refused(), fresh: input.routing["id"] as string };
  }],
  ["wire byte replaced", 6, async (w, rng) => {
    const input = honest(w, rng);
    const { bytes, wire } = await craftEnvelope(input);
    for (;;) {
      const copy = Buffer.from(bytes);
      const at = rng.int(0, copy.length - 1);
      copy[at] = rng.pick([0x00, 0x22, 0x7b, 0x7d, 0x2e, 0x41, 0x5f, 0xff, copy[at]! ^ 0x01]);
      if (!sameDecoded(copy, wire)) return { crafted: copy, expect: refused(), fresh: input.routing["id"] as string };
    }
  }],
  ["headers swapped between envelopes", 3, async (w, rng) => {
    const a = await craftEnvelope(honest(w, rng));
    const bInput = honest(w, rng);
    const b = await craftEnvelope(bInput);
    const swapped = rng.chance(0.5) ? { ...b.wire, protected: a.wire.protected } : { ...b.wire, signature: a.wire.signature };
    return { crafted: Buffer.from(JSON.stringify(swapped)), expect: refused("ENVELOPE_EID_MISMATCH", "ENVELOPE_BAD_SIGNATURE"), fresh: bInput.routing["id"] as string };
  }],
  ["addressed to another authority", 3, async (w, rng) => {
    const input = withRouting(honest(w, rng), { to: rng.pick(["FR-MJ-BEPI", "DE-BFJ", "GB-UKCA"]) });
    return { crafted: await craftEnvelope(input), expect: refused("ENVELOPE_WRONG_RECIPIENT"), fresh: input.routing["id"] as string };
  }],
  ["replay of a stored id with other bytes", 3, async (w, rng) => {
    const seed = rng.pick(w.seeds);
    const input = withRouting(honest(w, rng), { id: seed.envelopeId, caseId: seed.caseId });
    return { crafted: await craftEnvelope(input), expect: refused("ENVELOPE_REPLAY") };
  }],
  ["oversize body", 0.15, async (w, rng) => {
    const input = honest(w, rng);
    const { wire } = await craftEnvelope(input);
    const padded = { ...wire, payload: wire.payload + "A".repeat(16 * 1024 * 1024) };
    return { crafted: Buffer.from(JSON.stringify(padded)), expect: refused("ENVELOPE_TOO_LARGE", "REQUEST_TOO_LARGE"), fresh: input.routing["id"] as string };
  }],
  ["oversize header", 2, async (w, rng) => {
    const input = { ...honest(w, rng), outerHeader: { x5c: Array.from({ length: 40 }, () => rng.bytes(3000).toString("base64")) } };
    return { crafted: await craftEnvelope(input), expect: refused("ENVELOPE_TOO_LARGE", "ENVELOPE_MALFORMED"), fresh: input.routing["id"] as string };
  }],
  ["internal document type", 4, async (w, rng) => {
    const [type, document] = rng.pick(INTERNAL);
    const input = withRouting(honest(w, rng, document, type), { caseId: rng.pick(w.seeds).caseId });
    return { crafted: await craftEnvelope(input), expect: refused("ENVELOPE_DOCUMENT_TYPE_NOT_ALLOWED"), fresh: input.routing["id"] as string };
  }],
  ["unknown document type", 3, async (w, rng) => {
    const type = rng.pick(["common", "x", `t-${rng.text(rng.int(1, 20))}`, "mla-requests", "status"]);
    const input = withRouting(honest(w, rng, { ...REQUEST, kind: type }, type), {});
    return { crafted: await craftEnvelope(input), expect: refused("ENVELOPE_DOCUMENT_TYPE_NOT_ALLOWED"), fresh: input.routing["id"] as string };
  }],
  ["malformed document type", 2, async (w, rng) => {
    const type = rng.pick(["MLA-REQUEST", "", "mla request", "../receipt", "a".repeat(100)]);
    const input = withRouting(honest(w, rng), { type });
    return { crafted: await craftEnvelope(input), expect: refused("ENVELOPE_MALFORMED"), fresh: input.routing["id"] as string };
  }],
  ["inner cty differs from type", 3, async (w, rng) => {
    const input = { ...honest(w, rng), innerHeader: { cty: rng.pick(["preservation-request", "status-update", "receipt", "x"]) } };
    return { crafted: await craftEnvelope(input), expect: refused("ENVELOPE_TYPE_MISMATCH"), fresh: input.routing["id"] as string };
  }],
  ["document of another kind", 3, async (w, rng) => {
    const [document, type] = rng.pick([
      [PRESERVATION, "mla-request"],
      [REQUEST, "preservation-request"],
      [example("receipt", "valid-with-log"), "mla-request"],
      [{ ...REQUEST, kind: "status-update" }, "mla-request"],
    ] as ReadonlyArray<readonly [Record<string, unknown>, string]>);
    const input = honest(w, rng, document, type, (document["urgency"] as { level?: string } | undefined)?.level ?? "normal");
    return { crafted: await craftEnvelope(input), expect: refused("ENVELOPE_DOCUMENT_TYPE_NOT_ALLOWED"), fresh: input.routing["id"] as string };
  }],
  ["parties differ from the routing header", 4, async (w, rng) => {
    const field = rng.pick(["requestingAuthority", "requestedAuthority"]);
    const input = honest(w, rng, { ...REQUEST, [field]: rng.pick(["FR-MJ-BEPI", "DE-BFJ", "NL-OM", field === "requestingAuthority" ? "US-DOJ-OIA" : "GB-UKCA"]) });
    return { crafted: await craftEnvelope(input), expect: refused("ENVELOPE_PARTY_MISMATCH"), fresh: input.routing["id"] as string };
  }],
  ["urgency differs from the routing priority", 4, async (w, rng) => {
    const level = rng.pick(["urgent", "emergency"]);
    const document = { ...REQUEST, urgency: { level, reason: "The account will be deleted by the provider within days." } };
    const input = honest(w, rng, rng.chance(0.5) ? document : REQUEST, "mla-request", rng.chance(0.5) ? "normal" : level);
    const routed = input.routing["priority"];
    const inside = (input.document as { urgency: { level: string } }).urgency.level;
    if (routed === inside) return { crafted: await craftEnvelope(withRouting(input, { priority: routed === "normal" ? "emergency" : "normal" })), expect: refused("ENVELOPE_URGENCY_MISMATCH"), fresh: input.routing["id"] as string };
    return { crafted: await craftEnvelope(input), expect: refused("ENVELOPE_URGENCY_MISMATCH"), fresh: input.routing["id"] as string };
  }],
  ["stale or future timestamp", 4, async (w, rng) => {
    const offset = rng.pick([-8 * DAY - rng.int(0, 100) * DAY, 3600_000 + rng.int(0, 1000) * 60_000, 400 * DAY]);
    const input = withRouting(honest(w, rng), { createdAt: new Date(Date.now() + offset).toISOString() });
    return { crafted: await craftEnvelope(input), expect: refused("ENVELOPE_CLOCK_SKEW", "ENVELOPE_SIGNER_EXPIRED"), fresh: input.routing["id"] as string };
  }],
  ["malformed routing field", 4, async (w, rng) => {
    const [field, value] = rng.pick<readonly [string, unknown]>([
      ["valise", 2], ["id", "../../etc/passwd"], ["id", ""], ["caseId", "a b"], ["from", "gb-ukca"], ["priority", "asap"], ["createdAt", "yesterday"],
      ["createdAt", "2025-02-30T10:00:00Z"], ["inReplyTo", 42], ["extra", "member"], ["valise", null], ["id", "x".repeat(200)], ["payload", 7],
    ]);
    const input = withRouting(honest(w, rng), { [field]: value });
    if (value === null) delete input.routing[field];
    return { crafted: await craftEnvelope(input), expect: refused("ENVELOPE_MALFORMED"), fresh: input.routing["id"] as string, detail: `${field}: ${JSON.stringify(value)?.slice(0, 20)}` };
  }],
  ["outer signed with another peer's key", 3, async (w, rng) => {
    const input = { ...honest(w, rng), outerSigner: { key: w.network.fr.signKey, certificates: w.network.fr.signCertificates } };
    return { crafted: await craftEnvelope(input), expect: refused("ENVELOPE_SIGNER_UNTRUSTED", "ENVELOPE_SIGNER_AUTHORITY"), fresh: input.routing["id"] as string };
  }],
  ["inner signed with another peer's key", 3, async (w, rng) => {
    const input = { ...honest(w, rng), innerSigner: { key: w.network.fr.signKey, certificates: w.network.fr.signCertificates } };
    return { crafted: await craftEnvelope(input), expect: refused("ENVELOPE_SIGNER_UNTRUSTED", "ENVELOPE_SIGNER_AUTHORITY", "ENVELOPE_INNER_SIGNER_MISMATCH"), fresh: input.routing["id"] as string };
  }],
  ["sent over another peer's TLS certificate", 3, async (w, rng) => {
    const input = honest(w, rng);
    return { crafted: await craftEnvelope(input), expect: refused("ENVELOPE_TLS_IDENTITY"), fresh: input.routing["id"] as string, tls: "fr" };
  }],
  ["sent over an untrusted TLS certificate", 1, async (w, rng) => {
    const input = honest(w, rng);
    return { crafted: await craftEnvelope(input), expect: { refused: true, noAnswerOk: true }, fresh: input.routing["id"] as string, tls: "de" };
  }],
  ["inner JWS bit flipped", 5, async (w, rng) => {
    const input = { ...honest(w, rng), mutateInner: flipPart(rng) };
    return { crafted: await craftEnvelope(input), expect: refused(), fresh: input.routing["id"] as string };
  }],
  ["JWE bit flipped", 5, async (w, rng) => {
    const input = { ...honest(w, rng), mutateJwe: flipPart(rng) };
    return { crafted: await craftEnvelope(input), expect: refused(), fresh: input.routing["id"] as string };
  }],
  ["JWE to an unknown kid", 2, async (w, rng) => {
    const input = { ...honest(w, rng), jweHeader: { kid: rng.bytes(32).toString("base64url") } };
    return { crafted: await craftEnvelope(input), expect: refused("ENVELOPE_DECRYPT_FAILED"), fresh: input.routing["id"] as string };
  }],
  ["JWE encrypted to another authority", 2, async (w, rng) => {
    const input = { ...honest(w, rng), recipientKey: w.network.fr.encryptPublicKey };
    return { crafted: await craftEnvelope(input), expect: refused("ENVELOPE_DECRYPT_FAILED"), fresh: input.routing["id"] as string };
  }],
  ["JWE algorithm not allowed", 2, async (w, rng) => {
    const jweHeader = rng.pick([{ alg: "dir" }, { alg: "RSA1_5" }, { enc: "A128CBC-HS256" }, { alg: "PBES2-HS256+A128KW" }, { alg: null }]);
    const input = { ...honest(w, rng), jweHeader };
    return { crafted: await craftEnvelope(input), expect: refused("ENVELOPE_ALG_NOT_ALLOWED"), fresh: input.routing["id"] as string };
  }],
  ["signing algorithm not allowed", 3, async (w, rng) => {
    const alg = rng.pick(["none", "HS256", "RS256", "eddsa", null]);
    const layer = rng.pick(["outerHeader", "innerHeader"] as const);
    const input = { ...honest(w, rng), [layer]: { alg } };
    return { crafted: await craftEnvelope(input), expect: refused("ENVELOPE_ALG_NOT_ALLOWED"), fresh: input.routing["id"] as string };
  }],
  ["unexpected header member", 3, async (w, rng) => {
    const member = rng.pick([{ crit: ["b64"], b64: false }, { jku: "https://127.0.0.1/keys" }, { jwk: { kty: "OKP" } }, { zip: "DEF" }, { x5u: "https://127.0.0.1/x" }]);
    const layer = rng.pick(["outerHeader", "innerHeader", "jweHeader"] as const);
    const input = { ...honest(w, rng), [layer]: member };
    return { crafted: await craftEnvelope(input), expect: refused("ENVELOPE_MALFORMED"), fresh: input.routing["id"] as string };
  }],
  ["eid differs at a layer", 3, async (w, rng) => {
    const layer = rng.pick(["outerHeader", "innerHeader", "jweHeader"] as const);
    const input = { ...honest(w, rng), [layer]: { eid: uuidFrom(rng) } };
    return { crafted: await craftEnvelope(input), expect: refused("ENVELOPE_EID_MISMATCH"), fresh: input.routing["id"] as string };
  }],
  ["wrong typ at a layer", 2, async (w, rng) => {
    const layer = rng.pick(["outerHeader", "innerHeader", "jweHeader"] as const);
    const input = { ...honest(w, rng), [layer]: { typ: rng.pick(["JWT", "valise-receipt+jws", "x"]) } };
    return { crafted: await craftEnvelope(input), expect: refused("ENVELOPE_MALFORMED"), fresh: input.routing["id"] as string };
  }],
  ["kid not the signer's thumbprint", 2, async (w, rng) => {
    const layer = rng.pick(["outerHeader", "innerHeader"] as const);
    const input = { ...honest(w, rng), [layer]: { kid: rng.bytes(32).toString("base64url") } };
    return { crafted: await craftEnvelope(input), expect: refused("ENVELOPE_KID_MISMATCH"), fresh: input.routing["id"] as string };
  }],
  ["document breaks its schema", 4, async (w, rng) => {
    const broken: Record<string, unknown> = { ...REQUEST };
    const how = rng.int(0, 3);
    if (how === 0) delete broken[rng.pick(["facts", "offence", "legalBasis", "persons", "contact", "language"])];
    else if (how === 1) broken[rng.pick(["facts", "persons", "assistance"])] = rng.pick([42, null, true, "x", []]);
    else if (how === 2) broken[`unknown${rng.text(4)}`] = "field";
    else broken["facts"] = "x".repeat(rng.int(200_000, 300_000));
    const input = honest(w, rng, broken);
    return { crafted: await craftEnvelope(input), expect: refused("DOCUMENT_INVALID"), fresh: input.routing["id"] as string };
  }],
  ["inner payload not a JSON object", 2, async (w, rng) => {
    const input = { ...honest(w, rng), innerPayload: rng.pick([rng.bytes(rng.int(0, 64)), Buffer.from("[1,2,3]"), Buffer.from("null"), Buffer.from('"text"'), Buffer.from("{\"a\":")]) };
    return { crafted: await craftEnvelope(input), expect: refused("ENVELOPE_MALFORMED"), fresh: input.routing["id"] as string };
  }],
  ["request for a case US holds", 2, async (w, rng) => {
    const input = withRouting(honest(w, rng), { caseId: rng.pick(w.seeds).caseId });
    return { crafted: await craftEnvelope(input), expect: refused("CASE_CONFLICT"), fresh: input.routing["id"] as string };
  }],
  ["status update out of place", 3, async (w, rng) => {
    const seed = rng.pick(w.seeds);
    const known = rng.chance(0.7);
    const caseId = known ? seed.caseId : uuidFrom(rng);
    const base = honest(w, rng, { kind: "status-update", caseId, step: "withdraw", status: "withdrawn", at: new Date().toISOString() }, "status-update");
    const inReplyTo = rng.pick([undefined, uuidFrom(rng)]);
    const input = withRouting(base, { caseId, ...(inReplyTo === undefined ? {} : { inReplyTo }) });
    return {
      crafted: await craftEnvelope(input),
      expect: known ? refused("CASE_TRANSITION_INVALID", "CASE_STEP_EARLY") : refused("CASE_UNKNOWN"),
      fresh: input.routing["id"] as string,
    };
  }],
  ["evidence manifest on a case US did not request", 2, async (w, rng) => {
    const caseId = rng.pick(w.seeds).caseId;
    const input = withRouting(honest(w, rng, { ...example("evidence-manifest", "valid-two-items"), caseId }, "evidence-manifest"), { caseId });
    return { crafted: await craftEnvelope(input), expect: refused("EVIDENCE_CASE_DIRECTION", "EVIDENCE_MANIFEST_INVALID"), fresh: input.routing["id"] as string };
  }],
];

function sameDecoded(bytes: Buffer, wire: { protected: string; payload: string; signature: string }): boolean {
  try {
    const parsed = JSON.parse(bytes.toString("utf8")) as Record<string, unknown>;
    const keys = Object.keys(parsed);
    if (keys.length !== 3) return false;
    return (["protected", "payload", "signature"] as const).every(
      (part) => typeof parsed[part] === "string" && /^[A-Za-z0-9_-]*$/.test(parsed[part] as string) && Buffer.from(parsed[part] as string, "base64url").equals(Buffer.from(wire[part], "base64url")),
    );
  } catch {
    return false;
  }
}

const TOTAL = KINDS.reduce((sum, [, weight]) => sum + weight, 0);

/** One envelope case drawn from `rng`. */
export function envelopeCase(world: EnvelopeWorld, rng: Rng): FuzzCase {
  let draw = rng.next() * TOTAL;
  let chosen = KINDS[KINDS.length - 1]!;
  for (const kind of KINDS) {
    draw -= kind[1];
    if (draw < 0) {
      chosen = kind;
      break;
    }
  }
  const [kind, , make] = chosen;
  // Built when run, not when drawn: a run's cases are not all held in memory at once.
  const caseRng = rng.fork();
  let freshId: string | undefined;
  let expectation: Expectation = refused();
  let detail: string | undefined;
  const fuzzCase: FuzzCase = {
    family: "envelope",
    get kind() {
      return detail === undefined ? kind : `${kind} (${detail})`;
    },
    get expect() {
      return expectation;
    },
    get envelopeId() {
      return freshId;
    },
    async run(): Promise<Outcome> {
      const { crafted, tls, expect, fresh, detail: what } = await make(world, caseRng);
      expectation = expect;
      detail = what;
      freshId = fresh;
      const body = Buffer.isBuffer(crafted) ? crafted : crafted.bytes;
      const { network } = world;
      const party = tls === "fr" ? network.fr : tls === "de" ? network.de : network.gb;
      return send(network.peerPort, { method: "POST", path: "/peer/v1/envelopes", headers: { "content-type": "application/json" }, body }, { tls: tlsOf(party, network.us), timeoutMs: world.timeoutMs });
    },
  };
  return fuzzCase;
}
