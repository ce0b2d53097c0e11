/**
 * Checks answers of the local API against its OpenAPI description: the
 * schema of (method, path, status, application/json) is compiled from the
 * document the gateway serves, with Ajv (draft 2020-12, the dialect of
 * OpenAPI 3.1), so API tests fail when an answer and the contract part.
 */
import { expect } from "chai";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { localApiOpenApi } from "../../../gateway/http/openapi/document.js";

const DOCUMENT_ID = "https://valise.example/local-api.openapi.json";

/** A validator of answers against the description. */
export interface ResponseChecker {
  /** Fails the test unless `body` matches the JSON schema of `method path` answering `status`. */
  check(method: string, path: string, status: number, body: unknown): void;
}

function escape(segment: string): string {
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** A checker over the description the code builds. */
export function responseChecker(): ResponseChecker {
  const document = localApiOpenApi() as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>> };
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  ajv.addSchema({ ...document, $id: DOCUMENT_ID } as object);
  const compiled = new Map<string, ValidateFunction>();
  return {
    check(method, path, status, body) {
      const operation = document.paths[path]?.[method.toLowerCase()];
      expect(operation, `${method} ${path} is described`).to.not.equal(undefined);
      const response = operation!.responses[String(status)];
      expect(response, `${method} ${path} answers ${status} in the description`).to.not.equal(undefined);
      expect(response!.content?.["application/json"], `${method} ${path} ${status} has a JSON schema`).to.not.equal(undefined);
      const pointer = `#/paths/${escape(path)}/${method.toLowerCase()}/responses/${status}/content/application~1json/schema`;
      let validate = compiled.get(pointer);
      if (validate === undefined) {
        validate = ajv.compile({ $ref: `${DOCUMENT_ID}${pointer}` });
        compiled.set(pointer, validate);
      }
      const valid = validate(body);
      expect(valid, `${method} ${path} ${status}: ${JSON.stringify(validate.errors?.slice(0, 3))}`).to.equal(true);
    },
  };
}
