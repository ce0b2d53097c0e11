/**
 * A typed client of the local API: the paths, parameters, bodies and answers
 * are the types `openapi-typescript` generates from the OpenAPI description
 * (scripts/cli/local-api-types.ts, written by `npm run openapi`), so a CLI
 * call that no longer matches the contract does not compile. Transport and
 * error mapping are {@link LocalApi}'s (an error answer throws with the
 * gateway's code).
 *
 * @example
 * const taken = await callApi(api, "post", "/api/v1/cases/{caseId}/status", { path: { caseId }, body: { step: "acknowledge" } });
 */
import type { paths } from "./local-api-types.js";
import type { LocalApi } from "./local-api.js";

/** Methods the typed client calls with a JSON answer. */
type Method = "get" | "post" | "put";

/** The operation at `P` for `M`. */
type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;

/** Path parameters, query and JSON body of an operation, as the description types them. */
type Inputs<O> = (O extends { parameters: { path: infer Path } } ? (Path extends undefined | never ? {} : { path: Path }) : {}) &
  (O extends { parameters: { query?: infer Query } } ? { query?: Query } : {}) &
  (O extends { requestBody: { content: { "application/json": infer Body } } } ? { body: Body } : {});

/** The JSON answer of the operation's 200 or 201. */
type Answer<O> = O extends { responses: { 201: { content: { "application/json": infer A } } } }
  ? A
  : O extends { responses: { 200: { content: { "application/json": infer A } } } }
    ? A
    : never;

/** The JSON body of an operation, as the description types it. */
export type BodyOf<P extends keyof paths, M extends Method> = Operation<P, M> extends { requestBody: { content: { "application/json": infer Body } } } ? Body : never;

/** Calls `method path` with typed inputs; resolves with the typed answer. */
export function callApi<P extends keyof paths, M extends Method>(api: LocalApi, method: M, path: P, inputs: Inputs<Operation<P, M>>): Promise<Answer<Operation<P, M>>> {
  const given = inputs as { path?: Record<string, string>; query?: Record<string, string | number | undefined>; body?: unknown };
  const filled = String(path).replace(/\{([A-Za-z]+)\}/g, (_m, name: string) => encodeURIComponent(String(given.path?.[name] ?? "")));
  const query = Object.entries(given.query ?? {}).filter((entry): entry is [string, string | number] => entry[1] !== undefined);
  const url = query.length === 0 ? filled : `${filled}?${new URLSearchParams(query.map(([k, v]): [string, string] => [k, String(v)])).toString()}`;
  return api.json<Answer<Operation<P, M>>>(method.toUpperCase(), url, given.body);
}
