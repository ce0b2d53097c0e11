/**
 * The requirements evaluator against a table of rules and requests: every
 * named rule passing and failing, `appliesTo` and `when`, each language
 * fallback, and the profile checks that refuse what cannot be enforced.
 */
import { expect } from "chai";
import { documentValidator } from "../../../schemas/validate.js";
import { checkProfile, type CompiledProfile } from "../../../gateway/requirements/profile.js";
import { evaluateRequirements } from "../../../gateway/requirements/evaluate.js";
import { acceptedLanguages, chooseText } from "../../../gateway/requirements/language.js";
import { isValiseError } from "../../../pki/errors.js";
import { example } from "../fixtures.js";

const EN = { en: "English explanation.", fr: "Explication en français." };

function compiled(rules: object[], language = "en"): CompiledProfile {
  return checkProfile(documentValidator(), {
    "valise-requirements": 1,
    authority: "US-DOJ-OIA",
    version: 1,
    language,
    contactPoints: [{ kind: "24-7", name: "Duty desk", email: "duty@doj.example", phone: "+1 202 555 0100", hours: "always" }],
    timeLimits: { completionDays: { normal: 30, urgent: 10, emergency: 1 }, explanation: EN },
    rules: rules.map((rule, i) => ({ id: `r${i}`, explanation: EN, ...rule })),
  });
}

const request = (): Record<string, unknown> => example("mla-request", "valid-email-records");
const preservation = (): Record<string, unknown> => example("preservation-request", "valid-email-account");

function failures(rules: object[], kind: string, document: Record<string, unknown>): Array<[string, string]> {
  return evaluateRequirements(compiled(rules), kind, document).map((e) => [e.rule, e.path]);
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return isValiseError(error) ? error.code : String(error);
  }
  return "no error";
}

interface Row {
  readonly name: string;
  readonly rule: object;
  readonly kind?: string;
  readonly document: () => Record<string, unknown>;
  readonly fails: string[];
}

const withDocument = (base: () => Record<string, unknown>, change: (d: any) => void) => () => {
  const d = base();
  change(d);
  return d;
};

const TABLE: Row[] = [
  { name: "required: present fields pass", rule: { rule: "required", fields: ["/offence/limitation", "/persons/*/id"] }, document: request, fails: [] },
  { name: "required: a missing member is reported where it is missing", rule: { rule: "required", fields: ["/offence/limitation"] }, document: withDocument(request, (d) => delete d.offence.limitation), fails: ["/offence/limitation"] },
  { name: "required: a missing parent is reported, not its child", rule: { rule: "required", fields: ["/deadline/reason"] }, document: withDocument(request, (d) => delete d.deadline), fails: ["/deadline"] },
  { name: "required: * checks every item", rule: { rule: "required", fields: ["/persons/*/nationalities"] }, document: request, fails: ["/persons/0/nationalities", "/persons/1/nationalities"] },
  { name: "required: blank text counts as missing", rule: { rule: "required", fields: ["/contact/availability"] }, document: withDocument(request, (d) => (d.contact.availability = "  ")), fails: ["/contact/availability"] },
  { name: "min-length: long enough passes", rule: { rule: "min-length", field: "/facts", characters: 1000 }, document: request, fails: [] },
  { name: "min-length: too short fails", rule: { rule: "min-length", field: "/facts", characters: 2000 }, document: request, fails: ["/facts"] },
  { name: "min-length: * checks every item", rule: { rule: "min-length", field: "/assistance/*/description", characters: 120 }, document: request, fails: ["/assistance/2/description"] },
  { name: "maximum: at the limit passes", rule: { rule: "maximum", field: "/preservationDays", value: 90 }, kind: "preservation-request", document: preservation, fails: [] },
  { name: "maximum: over the limit fails", rule: { rule: "maximum", field: "/preservationDays", value: 60 }, kind: "preservation-request", document: preservation, fails: ["/preservationDays"] },
  { name: "max-period-days: only the data types named count", rule: { rule: "max-period-days", dataTypes: ["content-data"], days: 90 }, document: request, fails: ["/assistance/2/dateRange"] },
  { name: "max-period-days: within the limit passes", rule: { rule: "max-period-days", dataTypes: ["content-data"], days: 122 }, document: request, fails: [] },
  { name: "max-period-days: a preservation request's range counts for its data types", rule: { rule: "max-period-days", dataTypes: ["content-data"], days: 90 }, kind: "preservation-request", document: preservation, fails: ["/dateRange"] },
  { name: "legal-basis: a cited treaty matched by its text passes", rule: { rule: "legal-basis", accepted: [{ type: "treaty", name: "the MLAT", match: ["mutual legal assistance"] }] }, document: request, fails: [] },
  { name: "legal-basis: nothing accepted fails", rule: { rule: "legal-basis", accepted: [{ type: "reciprocity", name: "reciprocity" }] }, document: request, fails: ["/legalBasis"] },
  { name: "legal-basis: a preservation request's single instrument is matched by text", rule: { rule: "legal-basis", accepted: [{ type: "multilateral-convention", name: "Budapest", match: ["ETS No. 185"] }] }, kind: "preservation-request", document: preservation, fails: [] },
  { name: "legal-basis: no legal basis at all fails", rule: { rule: "legal-basis", accepted: [{ type: "treaty", name: "any treaty" }] }, kind: "preservation-request", document: withDocument(preservation, (d) => delete d.legalBasis), fails: ["/legalBasis"] },
  { name: "languages: an accepted language passes, en-GB counts as en", rule: { rule: "languages", accepted: ["en"] }, document: withDocument(request, (d) => (d.language = "en-GB")), fails: [] },
  { name: "languages: another language fails, every field named", rule: { rule: "languages", accepted: ["fr"], fields: ["/language", "/contact/languages/*"] }, document: request, fails: ["/language", "/contact/languages/0"] },
  { name: "translation: a request in an accepted language needs none", rule: { rule: "translation", into: ["en"] }, document: request, fails: [] },
  { name: "translation: another language without a translation fails", rule: { rule: "translation", into: ["en"] }, document: withDocument(request, (d) => (d.language = "es")), fails: ["/attachments"] },
  { name: "translation: an attached translation passes", rule: { rule: "translation", into: ["en"] }, document: withDocument(request, (d) => ((d.language = "es"), (d.attachments[0].language = "en"))), fails: [] },
  { name: "schema: a matching fragment passes", rule: { rule: "schema", schema: { required: ["deadline"] } }, document: request, fails: [] },
  { name: "schema: each failing field of the fragment", rule: { rule: "schema", schema: { properties: { urgency: { properties: { level: { const: "urgent" } } } }, required: ["nonexistent"] } }, document: request, fails: ["/nonexistent", "/urgency/level"] },
  { name: "appliesTo: a rule for another kind is skipped", rule: { rule: "required", appliesTo: ["preservation-request"], fields: ["/nonexistent"] }, document: request, fails: [] },
  { name: "when: a condition that does not hold skips the rule", rule: { rule: "required", when: { field: "/urgency/level", in: ["emergency"] }, fields: ["/nonexistent"] }, document: request, fails: [] },
  { name: "when: a condition that holds applies the rule", rule: { rule: "required", when: { field: "/urgency/level", in: ["normal"] }, fields: ["/nonexistent"] }, document: request, fails: ["/nonexistent"] },
];

describe("requirements evaluator", () => {
  for (const row of TABLE) {
    it(row.name, () => {
      expect(failures([row.rule], row.kind ?? "mla-request", row.document()).map(([, path]) => path)).to.deep.equal(row.fails);
    });
  }

  it("covers every named rule in the table", () => {
    const named = new Set(TABLE.map((row) => (row.rule as { rule: string }).rule));
    expect([...named].sort()).to.deep.equal(["languages", "legal-basis", "max-period-days", "maximum", "min-length", "required", "schema", "translation"]);
  });

  it("reports each failure as a field error with the rule, the explanation and its language", () => {
    const [error] = evaluateRequirements(compiled([{ rule: "required", fields: ["/nonexistent"] }]), "mla-request", request(), { languages: ["fr"] });
    expect(error).to.deep.equal({ path: "/nonexistent", code: "requirement", rule: "r0", language: "fr", hint: EN.fr, message: '"nonexistent" is required by US-DOJ-OIA.' });
  });

  describe("language fallback", () => {
    const explanation = { en: "in English", fr: "en français", es: "en español" };
    it("takes the first language the reader accepts that the explanation has", () => {
      expect(chooseText(explanation, ["de", "es", "fr"], "en")).to.deep.equal({ language: "es", text: "en español" });
    });
    it("falls back to the profile's language", () => {
      expect(chooseText(explanation, ["ru"], "fr")).to.deep.equal({ language: "fr", text: "en français" });
    });
    it("then to English", () => {
      expect(chooseText(explanation, ["ru"], "ar")).to.deep.equal({ language: "en", text: "in English" });
    });
    it("then to the first UN language present", () => {
      expect(chooseText({ ru: "по-русски", zh: "中文" }, ["de"], "en")).to.deep.equal({ language: "zh", text: "中文" });
    });
    it("reads Accept-Language by weight, primary subtags only, skipping q=0, * and malformed ranges", () => {
      expect(acceptedLanguages("en;q=0.5, fr-CA, zh-Hans-CN;q=0.8, de;q=0, *, 12$;q=1")).to.deep.equal(["fr", "zh", "en"]);
      expect(acceptedLanguages(undefined)).to.deep.equal([]);
      expect(acceptedLanguages("x".repeat(5000))).to.deep.equal([]);
    });
    it("reaches the evaluator: an Accept-Language the profile lacks gets the profile's language", () => {
      const [error] = evaluateRequirements(compiled([{ rule: "required", fields: ["/nonexistent"] }]), "mla-request", request(), { languages: ["ru"] });
      expect(error?.language).to.equal("en");
    });
  });

  describe("profile checks", () => {
    it("refuses an unknown rule with its own code, before the schema", () => {
      expect(codeOf(() => compiled([{ rule: "must-be-nice" }]))).to.equal("REQUIREMENTS_RULE_UNKNOWN");
    });
    it("refuses a rule without its parameters", () => {
      expect(codeOf(() => compiled([{ rule: "min-length", field: "/facts" }]))).to.equal("REQUIREMENTS_INVALID");
    });
    it("refuses a parameter the rule does not have", () => {
      expect(codeOf(() => compiled([{ rule: "required", fields: ["/facts"], days: 3 }]))).to.equal("REQUIREMENTS_INVALID");
    });
    it("refuses duplicate rule ids", () => {
      expect(codeOf(() => compiled([{ rule: "required", fields: ["/facts"], id: "same" }, { rule: "required", fields: ["/reference"], id: "same" }]))).to.equal("REQUIREMENTS_INVALID");
    });
    it("refuses regular expressions and references in fragments (ReDoS, other schemas)", () => {
      expect(codeOf(() => compiled([{ rule: "schema", schema: { properties: { facts: { pattern: "^(a+)+$" } } } }]))).to.equal("REQUIREMENTS_INVALID");
      expect(codeOf(() => compiled([{ rule: "schema", schema: { $ref: "common.schema.json" } }]))).to.equal("REQUIREMENTS_INVALID");
    });
    it("refuses a fragment keyword ajv does not know (a rule that would never fire)", () => {
      expect(codeOf(() => compiled([{ rule: "schema", schema: { requird: ["facts"] } }]))).to.equal("REQUIREMENTS_INVALID");
    });
  });

  describe("the example profiles", () => {
    const us = checkProfile(documentValidator(), example("requirements-profile", "valid-us-doj-oia"));
    const gb = checkProfile(documentValidator(), example("requirements-profile", "valid-gb-ukca"));

    it("US refuses the demo request's 122 days of content data, in French when asked", () => {
      const errors = evaluateRequirements(us, "mla-request", request(), { languages: acceptedLanguages("fr-FR,fr;q=0.9") });
      expect(errors.map((e) => [e.rule, e.path, e.language])).to.deep.equal([["us-content-period", "/assistance/2/dateRange", "fr"]]);
      expect(errors[0]?.hint).to.contain("90 jours");
    });

    it("US accepts the request once the content period is narrowed to 90 days", () => {
      const fixed = withDocument(request, (d) => (d.assistance[2].dateRange = { from: "2025-03-01", to: "2025-05-29" }))();
      expect(evaluateRequirements(us, "mla-request", fixed)).to.deep.equal([]);
    });

    it("differ in substance: GB takes reciprocity and Welsh, US neither", () => {
      const reciprocity = withDocument(request, (d) => (d.legalBasis = [{ type: "reciprocity", assurance: "The requesting state will assist the requested state in a comparable case." }]))();
      expect(evaluateRequirements(gb, "mla-request", reciprocity)).to.deep.equal([]);
      expect(evaluateRequirements(us, "mla-request", reciprocity).map((e) => e.rule)).to.include("us-legal-basis");
      const welsh = withDocument(request, (d) => (d.language = "cy"))();
      expect(evaluateRequirements(gb, "mla-request", welsh)).to.deep.equal([]);
      expect(evaluateRequirements(us, "mla-request", welsh).map((e) => e.rule)).to.deep.equal(["us-content-period", "us-language", "us-translation"]);
    });

    it("GB asks a US prosecutor for a death-penalty assurance", () => {
      const fromUs = withDocument(request, (d) => (d.issuingAuthority.country = "US"))();
      expect(evaluateRequirements(gb, "mla-request", fromUs).map((e) => [e.rule, e.path])).to.deep.equal([["gb-death-penalty-assurance", "/humanRightsAssurances"]]);
    });
  });
});
