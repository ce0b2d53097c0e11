/**
 * The legal instruments a request is made under, as one frozen table of
 * rules (data, not code): which document kinds an instrument covers, the
 * legal basis it must cite, who may issue or validate a request for content
 * or traffic data, the sections it requires, the refusal grounds it allows,
 * and its clock profile in hours. The request validator
 * (schemas/request-rules.ts), the lifecycle (gateway/cases/instrument-steps.ts)
 * and the clocks (gateway/cases/clocks.ts) all read this one table, so a
 * request, its refusal and its deadlines follow the same instrument.
 *
 * Sources: Directive 2014/41/EU (EIO) Arts 2, 11, 12, 16 and Annexes A-B;
 * Regulation (EU) 2023/1543 (EPOC, EPOC-PR) Arts 4, 5, 8, 10, 11, 12;
 * Budapest Convention (ETS 185) Arts 27-31; UN Model Treaty on Mutual
 * Assistance in Criminal Matters Art. 4. The 5-day hop and 30-day answer for
 * treaty requests follow the reform proposals for MLA, not a treaty text.
 */

/** Instruments a Valise request can be made under. */
export const INSTRUMENTS = ["mla-treaty", "convention", "reciprocity", "eio", "epoc", "epoc-pr", "budapest-29", "budapest-31"] as const;
/** An instrument. */
export type Instrument = (typeof INSTRUMENTS)[number];

/** Every refusal ground a status update may cite (document version 2). */
export const REFUSAL_GROUNDS = [
  "sovereignty-security-public-order",
  "national-security-intelligence",
  "political-offence",
  "discrimination",
  "double-jeopardy",
  "pending-proceedings",
  "military-offence",
  "human-rights",
  "death-penalty",
  "dual-criminality",
  "compulsory-measure-not-available",
  "immunity-or-privilege",
  "press-freedom",
  "territoriality",
  "offence-list-or-threshold",
  "lapse-of-time",
  "insufficient-justification",
  "disproportionate",
  "other",
] as const;
/** A refusal ground. */
export type RefusalGround = (typeof REFUSAL_GROUNDS)[number];

/** Kinds of request document. */
export type RequestKind = "mla-request" | "preservation-request";

/** Hours per request priority. */
export interface HoursByPriority {
  readonly normal: number;
  readonly urgent: number;
  readonly emergency: number;
}

/** The deadlines of an instrument, in hours (absent: no such clock). */
export interface ClockProfile {
  /** Whoever holds the next step takes it within this (treaty practice). */
  readonly hopHours?: number;
  /** The requested authority acknowledges receipt within this (EIO Annex B). */
  readonly acknowledgeHours?: number;
  /** The requested authority decides (accepts, refuses, cannot execute) within this of receipt. */
  readonly recognitionHours?: number;
  /** One extension of the recognition clock, by a notify-delay step with reasons. */
  readonly recognitionExtensionHours?: number;
  /** The requested authority answers (executed, refused, cannot execute) within this… */
  readonly completionHours: HoursByPriority;
  /** …counted from receipt, or from recognition (the first accept). */
  readonly completionFrom: "receipt" | "recognition";
  /** A preservation's period, when the instrument fixes it (else the request's preservationDays). */
  readonly preservationHours?: number;
  /** What one extend-preservation step may add at most. */
  readonly preservationExtensionHours?: number;
}

/** Who may issue, or must validate, a request for a category of data. */
export interface JudicialRule {
  /** Assistance types the rule applies to. */
  readonly types: readonly string[];
  /** Issuing authority types that need no validation for them. */
  readonly issuers: readonly string[];
  /** Validating authority types that make a request of another issuer lawful. */
  readonly validators: readonly string[];
}

/** The rules of one instrument. */
export interface InstrumentRules {
  readonly title: string;
  readonly kinds: readonly RequestKind[];
  /** The legalBasis entry the request must cite: its type and, for a named instrument, one of these codes. */
  readonly legalBasis: { readonly type: string; readonly codes?: readonly string[] };
  readonly judicial: readonly JudicialRule[];
  /** Top-level fields required under this instrument (JSON Pointers). */
  readonly requires: readonly string[];
  /** Fields every data item (subscriber, identification, traffic, content) requires. */
  readonly dataItemRequires: readonly string[];
  /** Assistance types allowed (absent: all). */
  readonly assistanceTypes?: readonly string[];
  /** Content data over more days needs dateRangeJustification (absent: no cap). */
  readonly maxContentRangeDays?: number;
  /** Days a preservation request may ask for (preservationDays). */
  readonly preservationDays?: { readonly min: number; readonly max: number };
  readonly refusalGrounds: readonly RefusalGround[];
  /** Grounds this instrument does not know as refusals, and the step to use instead. */
  readonly notRefusals: Readonly<Partial<Record<RefusalGround, "consult" | "request-more-info">>>;
  readonly clocks: ClockProfile;
}

const DATA_ITEMS = ["subscriber-data", "identification-data", "traffic-data", "content-data"] as const;
const JUDGES = ["court", "judge", "investigating-judge"] as const;

/** UN Model Treaty art. 4 and common treaty practice: every ground but the EU-only ones. */
const TREATY_GROUNDS: readonly RefusalGround[] = [
  "sovereignty-security-public-order",
  "political-offence",
  "discrimination",
  "double-jeopardy",
  "pending-proceedings",
  "military-offence",
  "human-rights",
  "death-penalty",
  "dual-criminality",
  "compulsory-measure-not-available",
  "immunity-or-privilege",
  "lapse-of-time",
  "insufficient-justification",
  "disproportionate",
  "other",
];

/** EIO art. 11(1)(a)-(h): no political-offence, military-offence or public-order ground. */
const EIO_GROUNDS: readonly RefusalGround[] = [
  "immunity-or-privilege",
  "press-freedom",
  "national-security-intelligence",
  "compulsory-measure-not-available",
  "double-jeopardy",
  "territoriality",
  "human-rights",
  "dual-criminality",
  "offence-list-or-threshold",
  "other",
];

/** Regulation 2023/1543 art. 12 (grounds of the enforcing authority). */
const EPOC_GROUNDS: readonly RefusalGround[] = ["immunity-or-privilege", "press-freedom", "double-jeopardy", "human-rights", "dual-criminality", "other"];

/** Budapest art. 27(4) and 29(5): strictly limited. */
const BUDAPEST_GROUNDS: readonly RefusalGround[] = ["sovereignty-security-public-order", "political-offence", "dual-criminality", "other"];

const TREATY_CLOCKS: ClockProfile = { hopHours: 120, completionHours: { normal: 720, urgent: 240, emergency: 24 }, completionFrom: "receipt" };
const QUICK_FREEZE_CLOCKS: ClockProfile = { hopHours: 120, completionHours: { normal: 72, urgent: 24, emergency: 24 }, completionFrom: "receipt", preservationExtensionHours: 2160 };

/** Content and traffic data only on a judicial decision (police requests need a judge's or prosecutor's validation). */
const TREATY_JUDICIAL: readonly JudicialRule[] = [
  { types: ["traffic-data", "content-data", "search-and-seizure", "interception", "real-time-traffic-data"], issuers: ["court", "investigating-judge", "prosecutor"], validators: [...JUDGES, "prosecutor"] },
];

/** The instrument table. */
export const INSTRUMENT_RULES: Readonly<Record<Instrument, InstrumentRules>> = Object.freeze({
  "mla-treaty": {
    title: "a bilateral mutual legal assistance treaty",
    kinds: ["mla-request", "preservation-request"],
    legalBasis: { type: "treaty" },
    judicial: TREATY_JUDICIAL,
    requires: [],
    dataItemRequires: ["serviceProvider"],
    // Narrow tailoring, as many treaty partners apply it: a policy, not a treaty rule.
    maxContentRangeDays: 180,
    refusalGrounds: TREATY_GROUNDS,
    notRefusals: {},
    clocks: TREATY_CLOCKS,
  },
  convention: {
    title: "a multilateral convention (e.g. UNTOC, UNCAC, the 1959 European Convention)",
    kinds: ["mla-request", "preservation-request"],
    legalBasis: { type: "multilateral-convention" },
    judicial: TREATY_JUDICIAL,
    requires: [],
    dataItemRequires: ["serviceProvider"],
    refusalGrounds: TREATY_GROUNDS,
    notRefusals: {},
    clocks: TREATY_CLOCKS,
  },
  reciprocity: {
    title: "reciprocity (no treaty)",
    kinds: ["mla-request", "preservation-request"],
    legalBasis: { type: "reciprocity" },
    judicial: TREATY_JUDICIAL,
    // Without a treaty the requested state has only the requester's word on these.
    requires: ["/humanRightsAssurances"],
    dataItemRequires: ["serviceProvider"],
    maxContentRangeDays: 180,
    refusalGrounds: TREATY_GROUNDS,
    notRefusals: {},
    clocks: TREATY_CLOCKS,
  },
  eio: {
    title: "a European Investigation Order (Directive 2014/41/EU)",
    kinds: ["mla-request"],
    legalBasis: { type: "eu-instrument", codes: ["eu-dir-2014-41"] },
    // Art. 2(c): an EIO is issued by a judge, court, investigating judge or prosecutor, or validated by one.
    judicial: [{ types: ["traffic-data", "content-data", "search-and-seizure", "interception", "real-time-traffic-data"], issuers: ["court", "investigating-judge", "prosecutor"], validators: [...JUDGES, "prosecutor"] }],
    requires: [],
    dataItemRequires: [],
    refusalGrounds: EIO_GROUNDS,
    // Art. 6(3): disproportion is consulted on; art. 16(2)(a): an incomplete order is completed, not refused.
    notRefusals: { disproportionate: "consult", "insufficient-justification": "request-more-info" },
    clocks: { acknowledgeHours: 168, recognitionHours: 720, recognitionExtensionHours: 720, completionHours: { normal: 2160, urgent: 2160, emergency: 2160 }, completionFrom: "recognition" },
  },
  epoc: {
    title: "a European Production Order Certificate (Regulation (EU) 2023/1543)",
    kinds: ["mla-request"],
    legalBasis: { type: "eu-instrument", codes: ["eu-reg-2023-1543"] },
    // Art. 4(2): traffic data (other than for identification) and content data only from a judge, court or investigating judge, or validated by one.
    judicial: [
      { types: ["traffic-data", "content-data"], issuers: ["court", "investigating-judge"], validators: [...JUDGES] },
      { types: ["subscriber-data", "identification-data"], issuers: ["court", "investigating-judge", "prosecutor"], validators: [...JUDGES, "prosecutor"] },
    ],
    requires: [],
    // Section B names the addressee; art. 8(2) turns on the residence of the person whose data are sought.
    dataItemRequires: ["serviceProvider", "dataSubject"],
    assistanceTypes: [...DATA_ITEMS],
    refusalGrounds: EPOC_GROUNDS,
    notRefusals: { disproportionate: "consult", "insufficient-justification": "request-more-info" },
    // Art. 10(2)-(4): 10 days; 8 hours in an emergency.
    clocks: { completionHours: { normal: 240, urgent: 240, emergency: 8 }, completionFrom: "receipt" },
  },
  "epoc-pr": {
    title: "a European Preservation Order Certificate (Regulation (EU) 2023/1543)",
    kinds: ["preservation-request"],
    legalBasis: { type: "eu-instrument", codes: ["eu-reg-2023-1543"] },
    judicial: [],
    requires: [],
    dataItemRequires: [],
    preservationDays: { min: 60, max: 60 },
    refusalGrounds: EPOC_GROUNDS,
    notRefusals: { disproportionate: "consult", "insufficient-justification": "request-more-info" },
    // Art. 11(1): 60 days, extended by 30 (Annex VI).
    clocks: { completionHours: { normal: 24, urgent: 24, emergency: 8 }, completionFrom: "receipt", preservationHours: 1440, preservationExtensionHours: 720 },
  },
  "budapest-29": {
    title: "expedited preservation, Budapest Convention art. 29",
    kinds: ["preservation-request"],
    legalBasis: { type: "multilateral-convention", codes: ["coe-ets-185"] },
    judicial: [],
    requires: [],
    dataItemRequires: [],
    // Art. 29(7): not less than 60 days; a state may grant 90 and extend by 90.
    preservationDays: { min: 60, max: 90 },
    refusalGrounds: BUDAPEST_GROUNDS,
    notRefusals: {},
    clocks: QUICK_FREEZE_CLOCKS,
  },
  "budapest-31": {
    title: "mutual assistance for stored computer data, Budapest Convention art. 31",
    kinds: ["mla-request"],
    legalBasis: { type: "multilateral-convention", codes: ["coe-ets-185"] },
    judicial: TREATY_JUDICIAL,
    requires: [],
    dataItemRequires: ["serviceProvider"],
    refusalGrounds: [...BUDAPEST_GROUNDS, "double-jeopardy", "human-rights", "death-penalty", "insufficient-justification", "disproportionate"],
    notRefusals: {},
    clocks: TREATY_CLOCKS,
  },
});

/** True when `value` names an instrument. */
export function isInstrument(value: unknown): value is Instrument {
  return typeof value === "string" && (INSTRUMENTS as readonly string[]).includes(value);
}

/** The rules of `instrument`, or undefined for a request without one (document version 1). */
export function instrumentRules(instrument: unknown): InstrumentRules | undefined {
  return isInstrument(instrument) ? INSTRUMENT_RULES[instrument] : undefined;
}

/** The assistance types that are stored data (an addressee and its data subject apply). */
export const DATA_ITEM_TYPES: readonly string[] = DATA_ITEMS;
