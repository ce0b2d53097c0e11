/**
 * How the harness talks to the target: HTTPS with a client certificate (the
 * peer API), plain HTTP (the local API), and raw sockets for what an HTTP
 * client would not send (huge headers, bodies cut short). Every call ends:
 * with an answer, with "no answer" (the connection refused or closed), or
 * with a hang once `timeoutMs` passes.
 */
import http from "node:http";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";

/** How one request ended. */
export type Outcome =
  | { readonly kind: "answer"; readonly status: number; readonly code: string | undefined; readonly bytes: number }
  | { readonly kind: "no-answer"; readonly reason: string }
  | { readonly kind: "hang" };

/** TLS client material. */
export interface ClientTls {
  readonly cert: string;
  readonly key: string;
  readonly passphrase: string;
  readonly ca: string;
}

/** One HTTP request. */
export interface RequestSpec {
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer;
}

function codeOf(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown } };
    return typeof parsed.error?.code === "string" ? parsed.error.code : undefined;
  } catch {
    return undefined;
  }
}

function settle(req: http.ClientRequest, timeoutMs: number, resolve: (outcome: Outcome) => void): (outcome: Outcome) => void {
  let done = false;
  const timer = setTimeout(() => finish({ kind: "hang" }), timeoutMs);
  function finish(outcome: Outcome): void {
    if (done) return;
    done = true;
    clearTimeout(timer);
    if (outcome.kind === "hang") req.destroy();
    resolve(outcome);
  }
  return finish;
}

/** Sends `spec` over `agent`-less HTTP(S); `tlsOptions` makes it HTTPS. */
export function send(port: number, spec: RequestSpec, options: { tls?: ClientTls; agent?: http.Agent; timeoutMs: number }): Promise<Outcome> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { ...(spec.body === undefined ? {} : { "content-length": String(spec.body.length) }), ...spec.headers };
    const common = { host: "127.0.0.1", port, method: spec.method, path: spec.path, headers, agent: options.agent ?? false };
    const onResponse = (res: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        finish({ kind: "answer", status: res.statusCode ?? 0, code: codeOf(body.toString("utf8")), bytes: body.length });
      });
      res.on("error", (error) => finish({ kind: "no-answer", reason: error.message }));
    };
    const req =
      options.tls === undefined
        ? http.request(common, onResponse)
        : https.request({ ...common, ca: options.tls.ca, cert: options.tls.cert, key: options.tls.key, passphrase: options.tls.passphrase, minVersion: "TLSv1.3" }, onResponse);
    const finish = settle(req, options.timeoutMs, resolve);
    req.on("error", (error: NodeJS.ErrnoException) => finish({ kind: "no-answer", reason: error.code ?? error.message }));
    req.end(spec.body);
  });
}

/**
 * Writes `raw` bytes on a new connection (TLS when `tlsOptions` is given),
 * optionally half-closing after them, and reads whatever answer comes back
 * before the server closes.
 */
export function sendRaw(port: number, raw: Buffer, options: { tls?: ClientTls; endAfter: boolean; timeoutMs: number }): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = options.tls === undefined
      ? net.connect({ host: "127.0.0.1", port })
      : tls.connect({ host: "127.0.0.1", port, ca: options.tls.ca, cert: options.tls.cert, key: options.tls.key, passphrase: options.tls.passphrase, minVersion: "TLSv1.3" });
    const chunks: Buffer[] = [];
    let done = false;
    const timer = setTimeout(() => finish(), options.timeoutMs);
    const finish = (hang = true): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString("utf8");
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
      if (status !== undefined) resolve({ kind: "answer", status: Number(status), code: codeOf(text.slice(text.indexOf("\r\n\r\n") + 4)), bytes: text.length });
      else if (hang) resolve({ kind: "hang" });
      else resolve({ kind: "no-answer", reason: "closed" });
    };
    socket.on(options.tls === undefined ? "connect" : "secureConnect", () => {
      socket.write(raw);
      if (options.endAfter) socket.end();
    });
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      // One answer is all a case needs: a server keeping the connection alive is not hanging.
      const text = Buffer.concat(chunks).toString("latin1");
      const head = text.indexOf("\r\n\r\n");
      const length = /\r\ncontent-length: (\d+)/i.exec(text.slice(0, head))?.[1];
      if (head >= 0 && (length === undefined ? /^HTTP\/1\.1 (1\d\d|204|304)/.test(text) : text.length >= head + 4 + Number(length))) finish(false);
    });
    socket.on("error", () => finish(false));
    socket.on("close", () => finish(false));
  });
}
