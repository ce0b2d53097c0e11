/**
 * Malformed HTTP on the peer API, over a genuine peer's (GB-UKCA's) client
 * certificate: paths with bad %-encoding, garbage compressed bodies, bodies of
 * the wrong type or shape, huge headers, bodies cut short, broken framing,
 * wrong methods, unknown paths, hostile query parameters and witness bodies.
 */
import type { Rng } from "./prng.js";
import { uuidFrom } from "./prng.js";
import { send, sendRaw, type ClientTls } from "./client.js";
import { ACCEPTED, refused, type Expectation, type FuzzCase } from "./model.js";
import type { FuzzNetwork } from "./network.js";

/** Percent-encodings that do not decode (and some that decode to odd things). */
export const BAD_PERCENT = ["%", "%Z", "%ZZ", "%E0%A4%A", "%C0%AF", "%ED%A0%80", "%FF", "a%2", "%%41", "%u0041", "%C3%28", "%F0%90%80"];

type PeerRequest =
  | { readonly raw?: undefined; readonly method: string; readonly path: string; readonly headers?: Record<string, string>; readonly body?: Buffer }
  | { readonly raw: Buffer; readonly endAfter: boolean };

type Make = (rng: Rng) => { request: PeerRequest; expect: Expectation };

const ENVELOPES = "/peer/v1/envelopes";

const KINDS: ReadonlyArray<readonly [string, number, Make]> = [
  ["hello (control)", 1, () => ({ request: { method: "GET", path: "/peer/v1/hello" }, expect: ACCEPTED })],
  ["log checkpoint (control)", 1, () => ({ request: { method: "GET", path: "/peer/v1/log/checkpoint" }, expect: ACCEPTED })],
  ["bad %-encoding in a path", 6, (rng) => {
    const bad = rng.pick(BAD_PERCENT);
    const method = rng.pick(["GET", "PUT", "HEAD", "POST"]);
    const path = rng.chance(0.5) ? `/peer/v1/evidence/${bad}/${uuidFrom(rng)}` : `/peer/v1/evidence/${uuidFrom(rng)}/${bad}`;
    return {
      request: { method, path, ...(method === "PUT" ? { headers: { "content-range": "bytes 0-0/1" }, body: Buffer.from("x") } : {}) },
      expect: method === "HEAD" ? { refused: true, codeless: true } : refused("REQUEST_PATH_MALFORMED", "NOT_FOUND"),
    };
  }],
  ["bad %-encoding in an unrouted path", 2, (rng) => ({ request: { method: rng.pick(["GET", "POST"]), path: `/peer/v1/${rng.pick(BAD_PERCENT)}` }, expect: refused("NOT_FOUND", "REQUEST_PATH_MALFORMED") })],
  ["garbage compressed body", 6, (rng) => ({
    request: { method: "POST", path: ENVELOPES, headers: { "content-type": "application/json", "content-encoding": rng.pick(["gzip", "deflate", "br"]) }, body: rng.chance(0.5) ? rng.bytes(rng.int(1, 4096)) : Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), rng.bytes(rng.int(0, 512))]) },
    // Random bytes now and then inflate to something: then it is not an envelope.
    expect: refused("REQUEST_ENCODING_INVALID", "ENVELOPE_MALFORMED"),
  })],
  ["unsupported content encoding", 2, (rng) => ({
    request: { method: "POST", path: ENVELOPES, headers: { "content-type": "application/json", "content-encoding": rng.pick(["compress", "zstd", "gzip, br", "x-unknown"]) }, body: rng.bytes(64) },
    expect: refused("REQUEST_MALFORMED"),
  })],
  ["body of another content type", 4, (rng) => ({
    request: { method: "POST", path: ENVELOPES, headers: { "content-type": rng.pick(["text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "application/json; charset=latin9", "image/png"]) }, body: rng.chance(0.5) ? rng.bytes(rng.int(1, 2048)) : Buffer.from("protected=a&payload=b") },
    expect: refused("ENVELOPE_MALFORMED", "REQUEST_MALFORMED"),
  })],
  ["body not an envelope", 5, (rng) => ({
    request: { method: "POST", path: ENVELOPES, headers: { "content-type": "application/json" }, body: Buffer.from(rng.pick(["", "[]", "{}", "null", "1", '"x"', '{"protected":1,"payload":2,"signature":3}', '{"protected":"","payload":"","signature":""}', "{".repeat(5000), '{"a":' + "[".repeat(10000)])) },
    expect: refused("ENVELOPE_MALFORMED"),
  })],
  ["huge headers", 2, (rng) => ({
    request: { raw: Buffer.from(`POST ${ENVELOPES} HTTP/1.1\r\nHost: x\r\nX-Pad: ${"a".repeat(rng.int(20_000, 80_000))}\r\nContent-Length: 2\r\n\r\n{}`), endAfter: false },
    expect: { refused: true, codes: ["REQUEST_TOO_LARGE"], noAnswerOk: true },
  })],
  ["body cut short", 4, (rng) => {
    const length = rng.int(100, 100_000);
    const sent = rng.int(0, 99);
    return { request: { raw: Buffer.concat([Buffer.from(`POST ${ENVELOPES} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`), rng.bytes(sent)]), endAfter: true }, expect: { refused: true, codes: ["REQUEST_MALFORMED"], noAnswerOk: true } };
  }],
  ["broken framing", 3, (rng) => ({
    request: {
      raw: Buffer.from(rng.pick([
        `POST ${ENVELOPES} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`,
        `POST ${ENVELOPES} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nabcdefg`,
        `POST ${ENVELOPES} HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n`,
        `GET /peer/v1/hello HTTP/9.9\r\n\r\n`,
        `GARBAGE\r\n\r\n`,
        `GET /peer/v1/hello\x00 HTTP/1.1\r\nHost: x\r\n\r\n`,
        `POST ${ENVELOPES} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
      ])),
      endAfter: true,
    },
    expect: { refused: true, codes: ["REQUEST_MALFORMED", "ENVELOPE_MALFORMED", "NOT_FOUND"], noAnswerOk: true },
  })],
  ["wrong method", 4, (rng) => {
    const [method, path] = rng.pick([["GET", ENVELOPES], ["DELETE", ENVELOPES], ["PATCH", ENVELOPES], ["PUT", ENVELOPES], ["POST", "/peer/v1/hello"], ["DELETE", "/peer/v1/log/checkpoint"], ["POST", "/peer/v1/trust-bundle"], ["OPTIONS", ENVELOPES]] as const);
    return { request: { method, path }, expect: refused("NOT_FOUND") };
  }],
  ["unknown path", 3, (rng) => ({
    request: { method: rng.pick(["GET", "POST"]), path: rng.pick(["/", "/peer/v2/envelopes", "/peer/v1/../../etc/passwd", "/api/v1/cases", `/peer/v1/${rng.text(rng.int(1, 300))}`, "/peer/v1/envelopes/..", "//peer/v1/hello"]) },
    expect: refused("NOT_FOUND"),
  })],
  ["hostile consistency proof query", 3, (rng) => ({
    request: { method: "GET", path: `/peer/v1/log/proof/consistency?old=${rng.pick(["-1", "01", "1e3", "x", "99999999999999999999", "%FF", ""])}&new=${rng.pick(["-1", "abc", "999999999", "1.5"])}` },
    expect: refused("AUDIT_INVALID_ARGUMENT"),
  })],
  ["garbage witness request", 3, (rng) => ({
    request: { method: "POST", path: "/peer/v1/log/witness", headers: { "content-type": "text/plain" }, body: rng.chance(0.5) ? rng.bytes(rng.int(0, 2000)) : Buffer.from(`old ${rng.int(0, 5)}\n\nvalise/GB-UKCA\n${rng.int(0, 9)}\n${rng.bytes(32).toString("base64")}\n\n— x y\n`) },
    expect: refused(),
  })],
  ["evidence upload for an unknown item", 3, (rng) => ({
    request: { method: "PUT", path: `/peer/v1/evidence/${uuidFrom(rng)}/${uuidFrom(rng)}`, headers: { "content-range": rng.pick(["bytes 0-9/10", "bytes */10", "garbage", "bytes 5-1/2"]) }, body: rng.bytes(10) },
    expect: refused("EVIDENCE_ITEM_UNKNOWN", "EVIDENCE_RANGE_INVALID"),
  })],
];

const TOTAL = KINDS.reduce((sum, [, weight]) => sum + weight, 0);

/** One peer-API HTTP case drawn from `rng`. */
export function peerHttpCase(network: FuzzNetwork, rng: Rng, timeoutMs: number): FuzzCase {
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
  const { request, expect } = make(rng.fork());
  const tls: ClientTls = { ...network.gb.tls, ca: network.us.rootPem };
  return {
    family: "peer-http",
    kind,
    expect,
    run: () =>
      request.raw !== undefined
        ? sendRaw(network.peerPort, request.raw, { tls, endAfter: request.endAfter, timeoutMs })
        : send(network.peerPort, { method: request.method, path: request.path, ...(request.headers === undefined ? {} : { headers: request.headers }), ...(request.body === undefined ? {} : { body: request.body }) }, { tls, timeoutMs }),
  };
}
