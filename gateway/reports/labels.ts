/**
 * Plain-English labels of the codes reports print: countries, kinds of
 * assistance, data categories, offence categories, outcomes, refusal grounds,
 * legal instruments and the reasons a request could not be executed.
 */

const ASSISTANCE: Readonly<Record<string, string>> = {
  "subscriber-data": "Subscriber data",
  "traffic-data": "Traffic data",
  "content-data": "Content data",
  preservation: "Preservation (quick freeze)",
  "witness-testimony": "Witness testimony",
  "search-and-seizure": "Search and seizure",
  "bank-records": "Bank records",
  "freezing-or-confiscation": "Freezing or confiscation",
  other: "Other assistance",
  unknown: "Not recorded",
};

const DATA: Readonly<Record<string, string>> = {
  "subscriber-data": "Subscriber data",
  "traffic-data": "Traffic data",
  "content-data": "Content data",
  "bank-records": "Bank records",
  "other-data": "Other data",
  none: "No stored data sought",
};

const OUTCOME: Readonly<Record<string, string>> = {
  executed: "Executed",
  "partially-executed": "Partially executed",
  refused: "Refused",
  "unable-to-execute": "Could not be executed (e.g. data not held)",
  withdrawn: "Withdrawn",
  pending: "Pending",
};

const GROUND: Readonly<Record<string, string>> = {
  "sovereignty-security-public-order": "Sovereignty, security or public order",
  "political-offence": "Political offence",
  discrimination: "Discrimination",
  "double-jeopardy": "Double jeopardy",
  "military-offence": "Military offence",
  "human-rights": "Human rights",
  "dual-criminality": "Dual criminality",
  "insufficient-justification": "Insufficient justification",
  disproportionate: "Disproportionate",
  "national-security-intelligence": "National security or intelligence",
  "pending-proceedings": "Proceedings pending in the requested state",
  "death-penalty": "Death penalty",
  "compulsory-measure-not-available": "Compulsory measure not available",
  "immunity-or-privilege": "Immunity or privilege",
  "press-freedom": "Freedom of the press or of expression",
  territoriality: "Territoriality",
  "offence-list-or-threshold": "Offence list or penalty threshold",
  "lapse-of-time": "Lapse of time",
  other: "Other ground",
  unknown: "Not recorded",
};

const INSTRUMENT: Readonly<Record<string, string>> = {
  "mla-treaty": "Bilateral MLA treaty",
  convention: "Multilateral convention",
  reciprocity: "Reciprocity",
  eio: "European Investigation Order",
  epoc: "European Production Order",
  "epoc-pr": "European Preservation Order",
  "budapest-29": "Budapest Convention, art. 29 (preservation)",
  "budapest-31": "Budapest Convention, art. 31",
  unknown: "Not recorded (earlier form)",
};

const UNABLE: Readonly<Record<string, string>> = {
  "data-not-held": "Data not held",
  "data-deleted": "Data deleted",
  "identifier-not-found": "Identifier not found",
  "person-not-found": "Person not found",
  "provider-not-in-jurisdiction": "Provider not in the jurisdiction",
  "measure-not-available": "Measure not available",
  "force-majeure": "Force majeure",
  "conflicting-foreign-law": "Conflict with a third state's law",
  "legal-standard-not-met": "Legal standard not met",
  other: "Other reason",
  unknown: "Not recorded",
};

/** `money-laundering` → `Money laundering`. */
function humanise(code: string): string {
  const words = code.replace(/-/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

let regions: Intl.DisplayNames | undefined;

/** The English name of an ISO 3166-1 alpha-2 country code (the code itself when unknown). */
export function countryName(code: string): string {
  try {
    regions ??= new Intl.DisplayNames(["en"], { type: "region", fallback: "code" });
    return regions.of(code) ?? code;
  } catch {
    return code;
  }
}

/** The tables of a transparency report, and how their keys read. */
export type LabelTable = "country" | "assistance" | "data" | "offence" | "outcome" | "ground" | "instrument" | "unable";

/** The label of `key` in `table`. */
export function labelOf(table: LabelTable, key: string): string {
  switch (table) {
    case "country":
      return countryName(key);
    case "assistance":
      return ASSISTANCE[key] ?? humanise(key);
    case "data":
      return DATA[key] ?? humanise(key);
    case "outcome":
      return OUTCOME[key] ?? humanise(key);
    case "ground":
      return GROUND[key] ?? humanise(key);
    case "instrument":
      return INSTRUMENT[key] ?? humanise(key);
    case "unable":
      return UNABLE[key] ?? humanise(key);
    case "offence":
      return key === "unknown" ? "Not recorded" : humanise(key);
  }
}
