/**
 * What reports may know of a request: its kind of assistance, the categories
 * of data it seeks, the offence category and, for a quick freeze, the
 * preservation period. Taken from the (validated) request when its case
 * opens, on both sides. Categories and numbers only: never a name, an
 * identifier, a fact or a reference, so that nothing a report is computed
 * from can identify a person or an investigation.
 */

/** Categories of stored data a request may seek. */
export const DATA_CATEGORIES = ["subscriber-data", "traffic-data", "content-data", "bank-records", "other-data"] as const;
/** A category of stored data. */
export type DataCategory = (typeof DATA_CATEGORIES)[number];

/** The report metadata of a case (the `facts` column, JSON). */
export interface CaseFacts {
  /** Kinds of assistance asked for (mla-request `assistance[].type`; `preservation` for a quick freeze). */
  readonly assistanceTypes: readonly string[];
  /** Categories of stored data sought; empty when none (e.g. only witness testimony). */
  readonly dataCategories: readonly string[];
  /** The offence category of the request. */
  readonly offenceCategory: string | null;
  /** A preservation request's period, in days. */
  readonly preservationDays?: number;
}

/** Facts of a case whose request could not be read (a case opened before facts were kept). */
export const NO_FACTS: CaseFacts = Object.freeze({ assistanceTypes: [], dataCategories: [], offenceCategory: null });

const MLA_DATA_TYPES = new Set<string>(["subscriber-data", "traffic-data", "content-data", "bank-records"]);

function distinctSorted(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

function text(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

/**
 * The facts of a request document of `kind` (already validated against its
 * schema; anything unexpected is left out rather than trusted).
 */
export function requestFacts(kind: string, document: Record<string, unknown>): CaseFacts {
  const offence = document["offence"] as { category?: unknown } | undefined;
  const offenceCategory = text(offence?.category);
  if (kind === "preservation-request") {
    const dataTypes = Array.isArray(document["dataTypes"]) ? (document["dataTypes"] as unknown[]).filter((t): t is string => typeof t === "string") : [];
    const days = document["preservationDays"];
    return {
      assistanceTypes: ["preservation"],
      dataCategories: distinctSorted(dataTypes.map((t) => (t === "other" ? "other-data" : t))),
      offenceCategory,
      ...(typeof days === "number" && Number.isInteger(days) && days > 0 ? { preservationDays: days } : {}),
    };
  }
  const assistance = Array.isArray(document["assistance"]) ? (document["assistance"] as Array<{ type?: unknown }>) : [];
  const types = assistance.map((item) => text(item?.type)).filter((t): t is string => t !== null);
  return {
    assistanceTypes: distinctSorted(types),
    dataCategories: distinctSorted(types.filter((t) => MLA_DATA_TYPES.has(t))),
    offenceCategory,
  };
}

/** Parses the stored `facts` column; tolerant of rows written before facts were kept. */
export function parseFacts(json: string | null | undefined): CaseFacts {
  if (json === null || json === undefined) return NO_FACTS;
  try {
    const value = JSON.parse(json) as Partial<Record<keyof CaseFacts, unknown>>;
    const list = (v: unknown): string[] => (Array.isArray(v) ? distinctSorted(v.filter((x): x is string => typeof x === "string")) : []);
    return {
      assistanceTypes: list(value.assistanceTypes),
      dataCategories: list(value.dataCategories),
      offenceCategory: typeof value.offenceCategory === "string" ? value.offenceCategory : null,
      ...(typeof value.preservationDays === "number" ? { preservationDays: value.preservationDays } : {}),
    };
  } catch {
    return NO_FACTS;
  }
}
