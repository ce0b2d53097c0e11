/**
 * The selling point: an incomplete request is refused at the requesting
 * gateway, before anything leaves, with field-by-field guidance (path and a
 * plain-language hint) the caseworker can act on.
 */
import { readFileSync } from "node:fs";
import { expectThat } from "../check.js";
import { apiOf, tokenOf, type DemoStep } from "../scenario.js";

const EXAMPLES = new URL("../../../schemas/examples/mla-request/", import.meta.url);

/** Incomplete requests the demo submits, with the failing fields the schema examples expect. */
export const INCOMPLETE_REQUESTS = ["invalid-missing-facts", "invalid-several-fields"] as const;

interface FieldError {
  path: string;
  code: string;
  message: string;
  hint: string;
}

/** Submits each incomplete example and prints the guidance. */
export const refuseIncompleteRequest: DemoStep = {
  title: "An incomplete request is refused before it leaves GB, with field-by-field guidance",
  async run(state, report) {
    const { gb } = state;
    const before = await apiOf(gb).get("/api/v1/cases?direction=outbound", tokenOf(gb, "caseworker"));
    const casesBefore = (before.body as { cases?: unknown[] }).cases?.length;
    for (const name of INCOMPLETE_REQUESTS) {
      const document = JSON.parse(readFileSync(new URL(`${name}.json`, EXAMPLES), "utf8")) as unknown;
      const expected = JSON.parse(readFileSync(new URL(`${name}.expect.json`, EXAMPLES), "utf8")) as Array<{ path: string; code: string }>;
      report.say("");
      report.say(`Submitting schemas/examples/mla-request/${name}.json:`);
      const answer = await apiOf(gb).post("/api/v1/requests", tokenOf(gb, "caseworker"), document);
      const error = (answer.body as { error?: { code?: string; message?: string; details?: { errors?: FieldError[] } } }).error;
      const errors = error?.details?.errors ?? [];
      expectThat(answer.status === 422 && error?.code === "DOCUMENT_INVALID", `the incomplete request answered ${answer.status} ${String(error?.code)}`, [JSON.stringify(answer.body)]);
      report.ok(`422 ${error.code}: ${error.message ?? ""}`);
      for (const field of errors) {
        report.say(`  ${field.path}  (${field.code})`);
        report.block(wrap(`problem: ${field.message}`, 92, "         "));
        report.block(wrap(`hint:    ${field.hint}`, 92, "         "));
      }
      const got = errors.map((field) => `${field.path} ${field.code}`).sort();
      const want = expected.map((field) => `${field.path} ${field.code}`).sort();
      expectThat(JSON.stringify(got) === JSON.stringify(want), `the gateway reported ${got.join(", ")}; the schema example expects ${want.join(", ")}`);
    }
    const after = await apiOf(gb).get("/api/v1/cases?direction=outbound", tokenOf(gb, "caseworker"));
    const casesAfter = (after.body as { cases?: unknown[] }).cases?.length;
    expectThat(casesBefore !== undefined && casesAfter === casesBefore, `GB has ${String(casesAfter)} outbound cases, before ${String(casesBefore)}`);
    report.ok(`nothing was sealed or sent: GB still has ${casesAfter} outbound case(s)`);
  },
};

/** Splits `text` into lines of at most `width` characters, at spaces; continuation lines get `indent`. */
function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = `${indent}${word}`;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}
