/**
 * Writes the OpenAPI description of the local API to
 * schemas/local-api.openapi.json (npm run openapi), from the schemas and the
 * route table; test/gateway/http/openapi.test.ts fails while the committed
 * file differs from what the code builds.
 */
import { writeFileSync } from "node:fs";
import { localApiOpenApi } from "../gateway/http/openapi/document.js";

/** Where the description is kept in the repository. */
export const OPENAPI_FILE = new URL("../schemas/local-api.openapi.json", import.meta.url);

/** The file's text. */
export function openApiText(): string {
  return `${JSON.stringify(localApiOpenApi(), null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(OPENAPI_FILE, openApiText());
  console.log(`wrote ${OPENAPI_FILE.pathname}`);
}
