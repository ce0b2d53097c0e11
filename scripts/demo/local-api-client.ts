/**
 * A caseworker's (or auditor's) system calling a gateway's local API with a
 * bearer token: JSON in, status and JSON out.
 */

/** One answer of the local API. */
export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** Calls the local API at `baseUrl` (e.g. http://127.0.0.1:8444). */
export class LocalApiClient {
  readonly #baseUrl: string;

  constructor(baseUrl: string) {
    this.#baseUrl = baseUrl;
  }

  /** GET `path` with `token`. */
  get(path: string, token: string): Promise<ApiAnswer> {
    return this.#call("GET", path, token);
  }

  /** POST `body` as JSON to `path` with `token` (and extra `headers`, e.g. Accept-Language). */
  post(path: string, token: string, body: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer> {
    return this.#call("POST", path, token, body, headers);
  }

  /** PUT raw `bytes` to `path` with `headers` (an upload's part). */
  async putBytes(path: string, token: string, bytes: Uint8Array, headers: Record<string, string>): Promise<ApiAnswer> {
    const response = await fetch(new URL(path, this.#baseUrl), {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream", ...headers },
      body: bytes,
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    return { status: response.status, body: text === "" ? undefined : (JSON.parse(text) as unknown) };
  }

  /** GET `path` as bytes (a file). */
  async getBytes(path: string, token: string): Promise<{ status: number; bytes: Buffer }> {
    const response = await fetch(new URL(path, this.#baseUrl), { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(60_000) });
    return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()) };
  }

  async #call(method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer> {
    const response = await fetch(new URL(path, this.#baseUrl), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // keep the text: an error page is still worth showing
    }
    return { status: response.status, body: parsed };
  }
}

/** Polls `probe` every `intervalMs` until it returns a value, at most `attempts` times. */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, attempts = 100, intervalMs = 100): Promise<T | undefined> {
  for (let i = 0; i < attempts; i += 1) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return undefined;
}
