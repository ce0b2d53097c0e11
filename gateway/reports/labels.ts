/**
 * Plain-English labels of the codes reports print: countries, kinds of
 * assistance, data categories, offence categories, outcomes, refusal grounds.
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
  other: "Other ground",
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
export type LabelTable = "country" | "assistance" | "data" | "offence" | "outcome" | "ground";

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
    case "offence":
      return key === "unknown" ? "Not recorded" : humanise(key);
  }
}
