/**
 * What reports and clocks may know of a request: its kind of assistance, the
 * categories of data it seeks, the offence category, its legal instrument,
 * the document version it was written in, the number of assistance items,
 * its deadline and, for a quick freeze, the preservation period. Taken from the (validated) request when its case
 * opens, on both sides. Categories and numbers only: never a name, an
 * identifier, a fact or a reference, so that nothing a report is computed
 * from can identify a person or an investigation.
 */

/** Categories of stored data a request may seek. */
export const DATA_CATEGORIES = ["subscriber-data", "identification-data", "traffic-data", "content-data", "bank-records", "other-data"] as const;
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
  /** The legal instrument the request is made under (schemas/instruments.ts); absent for a version 1 request. */
  readonly instrument?: string;
  /** The version of the forms the request is written in (absent: 1). */
  readonly documentVersion?: number;
  /** How many assistance items the request has (a partial refusal names some of them). */
  readonly assistanceCount?: number;
  /** The request's own deadline, an RFC 3339 time: the clocks count to it at the latest. */
  readonly deadlineAt?: string;
}

/** Facts of a case whose request could not be read (a case opened before facts were kept). */
export const NO_FACTS: CaseFacts = Object.freeze({ assistanceTypes: [], dataCategories: [], offenceCategory: null });

const MLA_DATA_TYPES = new Set<string>(["subscriber-data", "identification-data", "traffic-data", "content-data", "bank-records"]);

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
  const instrument = text(document["instrument"]);
  const version = document["schemaVersion"];
  const due = text((document["deadline"] as { dueBy?: unknown } | undefined)?.dueBy);
  const dueMs = due === null ? Number.NaN : Date.parse(due);
  const common = {
    ...(instrument === null ? {} : { instrument }),
    ...(typeof version === "number" ? { documentVersion: version } : {}),
    ...(Number.isNaN(dueMs) ? {} : { deadlineAt: new Date(dueMs).toISOString() }),
  };
  if (kind === "preservation-request") {
    const dataTypes = Array.isArray(document["dataTypes"]) ? (document["dataTypes"] as unknown[]).filter((t): t is string => typeof t === "string") : [];
    const days = document["preservationDays"];
    return {
      assistanceTypes: ["preservation"],
      dataCategories: distinctSorted(dataTypes.map((t) => (t === "other" ? "other-data" : t))),
      offenceCategory,
      ...(typeof days === "number" && Number.isInteger(days) && days > 0 ? { preservationDays: days } : {}),
      ...common,
    };
  }
  const assistance = Array.isArray(document["assistance"]) ? (document["assistance"] as Array<{ type?: unknown }>) : [];
  const types = assistance.map((item) => text(item?.type)).filter((t): t is string => t !== null);
  return {
    assistanceTypes: distinctSorted(types),
    dataCategories: distinctSorted(types.filter((t) => MLA_DATA_TYPES.has(t))),
    offenceCategory,
    assistanceCount: assistance.length,
    ...common,
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
      ...(typeof value.instrument === "string" ? { instrument: value.instrument } : {}),
      ...(typeof value.documentVersion === "number" ? { documentVersion: value.documentVersion } : {}),
      ...(typeof value.assistanceCount === "number" ? { assistanceCount: value.assistanceCount } : {}),
      ...(typeof value.deadlineAt === "string" ? { deadlineAt: value.deadlineAt } : {}),
    };
  } catch {
    return NO_FACTS;
  }
}
