/**
 * The clocks of a case — pure functions of the case, its applied steps, the
 * clock settings and `now`, so both the gateway and the offline CLI compute
 * the same deadlines and tests run them on an injected clock.
 *
 * A request that names its legal instrument (document version 2) runs the
 * clocks of that instrument's profile (schemas/instruments.ts, in hours;
 * valise.json `clocks.instruments` overrides them):
 *
 * - acknowledgement: the requested authority acknowledges within
 *   `acknowledgeHours` of receipt (EIO Annex B: a week);
 * - recognition: it decides — accepts, refuses, or finds it cannot execute —
 *   within `recognitionHours` of receipt (EIO: 30 days), extended once by
 *   `recognitionExtensionHours` when it notifies a delay before deciding
 *   (EIO art. 12(5): 30 more days);
 * - completion: it answers (executed, refused, cannot execute) within
 *   `completionHours` for the request's priority, counted from receipt or
 *   from recognition, the first accept (EIO: 90 days after recognition;
 *   EPOC: 10 days, 8 hours in an emergency; treaty requests: 30 days);
 * - hop, where the profile has `hopHours` (treaty requests: 5 days).
 *
 * The request's own deadline (`deadline.dueBy`) caps recognition and
 * completion. Requests without an instrument (version 1) keep the settings
 * per peer below, in days.
 *
 * - hop: whoever holds the next step (gateway/cases/lifecycle.ts `holderOf`)
 *   must take one within `hopDays` (default 5) of the last step — the
 *   requested authority acknowledging, deciding, or reporting progress; the
 *   requesting authority answering questions.
 * - completion: the requested authority answers (executes, refuses, or finds
 *   it cannot execute) within `completionDays` of receiving the request
 *   (default 30; urgent 10; emergency 1; a quick freeze 3, 1, 1).
 * - preservation expiry: data preserved under a preservation request (its
 *   `executed` step) stays frozen for the instrument's period or the
 *   request's `preservationDays`, plus each extend-preservation step's days;
 *   the requesting authority must follow up before then. Closing the case,
 *   or confirming the follow-up request (the data is then kept until it is
 *   decided), stops it.
 *
 * Every clock but the hop pauses while the requesting side is asked
 * something (more information, a consultation, an alternative, conditions,
 * confidentiality) and while execution is postponed or on hold (a legal
 * challenge): the time in those states is added to the deadline. A
 * withdrawal stops them. Days are calendar days of 24 hours, in UTC.
 */
import type { ClockConfig, DaysByPriority } from "../config/config.js";
import type { Priority } from "../envelope/types.js";
import { INSTRUMENT_RULES, instrumentRules, type ClockProfile } from "../../schemas/instruments.js";
import { holderOf, type CaseStatus, type Side } from "./lifecycle.js";
import type { CaseFacts } from "./facts.js";

/** Milliseconds in an hour. */
export const HOUR_MS = 3600 * 1000;

/** Statuses in which the clocks (but the hop) pause: the requesting side was asked, or execution is paused. */
export const PAUSING_STATUSES: ReadonlySet<CaseStatus> = new Set<CaseStatus>([
  "more-info-requested",
  "in-consultation",
  "alternative-proposed",
  "conditions-offered",
  "confidentiality-not-possible",
  "postponed",
  "on-hold",
]);

/** Milliseconds in a day. */
export const DAY_MS = 24 * 3600 * 1000;

/** The clock settings of the cases with one peer. */
export interface ClockSettings {
  readonly hopDays: number;
  readonly completionDays: Readonly<Record<Priority, number>>;
  readonly preservationCompletionDays: Readonly<Record<Priority, number>>;
  /** How far ahead "due soon" looks. */
  readonly dueSoonDays: number;
  /** Clock profiles by instrument, in hours (schemas/instruments.ts, then valise.json's `clocks.instruments`). */
  readonly instruments: Readonly<Record<string, ClockProfile>>;
}

/** The defaults (DESIGN.md, "Cases"). */
export const DEFAULT_CLOCKS: ClockSettings = Object.freeze({
  hopDays: 5,
  completionDays: Object.freeze({ normal: 30, urgent: 10, emergency: 1 }),
  preservationCompletionDays: Object.freeze({ normal: 3, urgent: 1, emergency: 1 }),
  dueSoonDays: 2,
  instruments: Object.freeze(Object.fromEntries(Object.entries(INSTRUMENT_RULES).map(([name, rules]) => [name, rules.clocks]))),
});

/** Default seconds between two deadline checks of a running gateway. */
export const DEFAULT_CHECK_INTERVAL_SECONDS = 60;

function byPriority(base: Readonly<Record<Priority, number>>, ...overrides: Array<DaysByPriority | undefined>): Readonly<Record<Priority, number>> {
  return Object.assign({}, base, ...overrides.map((o) => Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)))) as Record<Priority, number>;
}

/** The settings for cases with `peer`: built-in defaults, then valise.json's `clocks`, then its entry for the peer. */
export function clockSettingsFor(config: ClockConfig | undefined, peer: string): ClockSettings {
  const own = config?.peers?.[peer];
  return {
    hopDays: own?.hopDays ?? config?.hopDays ?? DEFAULT_CLOCKS.hopDays,
    completionDays: byPriority(DEFAULT_CLOCKS.completionDays, config?.completionDays, own?.completionDays),
    preservationCompletionDays: byPriority(DEFAULT_CLOCKS.preservationCompletionDays, config?.preservationCompletionDays, own?.preservationCompletionDays),
    dueSoonDays: config?.dueSoonDays ?? DEFAULT_CLOCKS.dueSoonDays,
    instruments: instrumentProfiles(config),
  };
}

/** The instrument profiles: the table's, with valise.json's `clocks.instruments` over them. */
function instrumentProfiles(config: ClockConfig | undefined): Readonly<Record<string, ClockProfile>> {
  const overrides = config?.instruments;
  if (overrides === undefined) return DEFAULT_CLOCKS.instruments;
  return Object.fromEntries(
    Object.entries(DEFAULT_CLOCKS.instruments).map(([name, profile]) => {
      const own = overrides[name];
      if (own === undefined) return [name, profile];
      const { completionHours, ...rest } = own;
      return [name, { ...profile, ...rest, completionHours: { ...profile.completionHours, ...(completionHours ?? {}) } }];
    }),
  );
}

/** What the clocks of a case are computed from. */
export interface ClockInput {
  readonly kind: string;
  readonly priority: Priority;
  readonly status: CaseStatus;
  /** When the requested authority received the request; clocks start here (null: not yet). */
  readonly receivedAt: string | null;
  readonly facts: Pick<CaseFacts, "preservationDays" | "instrument" | "deadlineAt">;
  /** The envelope the current hop started with (the head of the history). */
  readonly headEnvelopeId: string | null;
  /** The applied steps, in order. */
  readonly steps: ReadonlyArray<{ readonly step: string; readonly from: CaseStatus; readonly to: CaseStatus; readonly at: string; readonly grounds?: readonly string[] }>;
}

/** The clocks. */
export type ClockName = "hop" | "acknowledgement" | "recognition" | "completion" | "preservation-expiry";

/** A clock that is counting towards a deadline. */
export interface RunningClock {
  readonly clock: ClockName;
  readonly dueAt: string;
  /** The side that must act before `dueAt`. */
  readonly holder: Side;
  /** Names the hop (the envelope that started it); '' for the other clocks. */
  readonly key: string;
}

/** A clock of the instrument's profile that ends at a step (acknowledgement, recognition). */
export interface StepClock {
  readonly hours: number;
  /** running: counting; paused: the requesting side was asked, or execution is paused; met / missed; stopped: withdrawn or closed before. */
  readonly state: "running" | "paused" | "met" | "missed" | "stopped";
  readonly dueAt: string;
  /** When the step that ends it was taken. */
  readonly metAt: string | null;
}

/** The completion clock, whatever its state. */
export interface CompletionClock {
  readonly days: number;
  /** running: counting; paused: more information awaited; met / missed: answered in time or late; stopped: withdrawn. */
  readonly state: "running" | "paused" | "met" | "missed" | "stopped";
  /** The deadline with the pauses so far (while paused, as if resumed now). */
  readonly dueAt: string;
  readonly pausedMs: number;
  /** When the request was answered (executed, refused, cannot execute, or closed after partial execution). */
  readonly completedAt: string | null;
  /** From when it counts (instrument profiles: receipt or recognition). */
  readonly from?: "receipt" | "recognition";
  /** True when the request's own deadline came before the clock's. */
  readonly cappedByDeadline?: boolean;
}

/** Every clock of a case. */
export interface CaseClocks {
  readonly receivedAt: string | null;
  /** The instrument whose profile runs the clocks (absent: the settings per peer). */
  readonly instrument?: string;
  readonly acknowledgement?: StepClock | null;
  readonly recognition?: StepClock | null;
  readonly hop: RunningClock | null;
  readonly completion: CompletionClock | null;
  readonly preservationExpiry: (RunningClock & { readonly preservedAt: string; readonly days: number; readonly stopped: boolean }) | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The time the request was answered: the step that reached executed or refused, or closed it from partially-executed. */
export function completionOf(steps: ClockInput["steps"]): string | null {
  const done = steps.find(
    (s) => s.to === "executed" || s.to === "refused" || s.to === "unable-to-execute" || (s.to === "closed" && s.from === "partially-executed"),
  );
  return done?.at ?? null;
}

/**
 * Milliseconds spent in a pausing status (PAUSING_STATUSES) between `since`
 * and `until` (default: now), and since when if still paused at the end.
 */
export function pausesOf(steps: ClockInput["steps"], now: number, since = Number.NEGATIVE_INFINITY, until = now): { pausedMs: number; pausedSince: number | null } {
  let pausedMs = 0;
  let pausedSince: number | null = null;
  const add = (from: number, to: number): void => {
    pausedMs += Math.max(0, Math.min(to, until) - Math.max(from, since));
  };
  for (const step of steps) {
    const at = Date.parse(step.at);
    if (pausedSince !== null) {
      add(pausedSince, at);
      pausedSince = null;
    }
    if (PAUSING_STATUSES.has(step.to)) pausedSince = at;
  }
  if (pausedSince !== null) add(pausedSince, now);
  return { pausedMs, pausedSince: pausedSince !== null && until >= now ? pausedSince : null };
}

/** The first step reaching one of `statuses`. */
function firstTo(steps: ClockInput["steps"], statuses: readonly CaseStatus[]): ClockInput["steps"][number] | undefined {
  return steps.find((s) => statuses.includes(s.to));
}

/** The days one extend-preservation step recorded (its code `days:N`). */
function extensionDays(step: ClockInput["steps"][number]): number {
  const code = (step.grounds ?? []).find((g) => g.startsWith("days:"));
  const days = code === undefined ? Number.NaN : Number(code.slice(5));
  return Number.isFinite(days) && days > 0 ? days : 0;
}

/** The preservation expiry of a quick freeze, if its data was preserved. */
function preservationExpiryOf(input: ClockInput, fixedDays: number | undefined): CaseClocks["preservationExpiry"] {
  const preserved = input.kind === "preservation-request" ? input.steps.find((s) => s.to === "executed") : undefined;
  const base = fixedDays ?? input.facts.preservationDays;
  if (preserved === undefined || base === undefined) return null;
  const days = base + input.steps.filter((s) => s.step === "extend-preservation").reduce((sum, s) => sum + extensionDays(s), 0);
  // Confirmed follow-up (EPOC-PR Annex V): the data is kept until the request for it is decided.
  const followedUp = input.steps.some((s) => s.step === "confirm-follow-up");
  return {
    clock: "preservation-expiry",
    holder: "requesting",
    key: "",
    preservedAt: preserved.at,
    days,
    dueAt: iso(Date.parse(preserved.at) + days * DAY_MS),
    stopped: input.status !== "executed" || followedUp,
  };
}

/** A clock that ends at the first step reaching `ends`, paused in the pausing statuses. */
function stepClock(input: ClockInput, startMs: number, hours: number, ends: readonly CaseStatus[], capMs: number, nowMs: number): StepClock {
  const done = firstTo(input.steps, ends);
  const doneMs = done === undefined ? nowMs : Date.parse(done.at);
  const { pausedMs, pausedSince } = pausesOf(input.steps, nowMs, startMs, doneMs);
  const dueMs = Math.min(startMs + hours * HOUR_MS + pausedMs, capMs);
  const state: StepClock["state"] =
    done !== undefined
      ? doneMs <= dueMs
        ? "met"
        : "missed"
      : input.status === "withdrawn" || input.status === "closed" || !isRunning(input.status)
        ? "stopped"
        : pausedSince !== null
          ? "paused"
          : "running";
  return { hours, state, dueAt: iso(dueMs), metAt: done?.at ?? null };
}

/** While the request is still being handled. */
function isRunning(status: CaseStatus): boolean {
  return holderOf(status) !== undefined;
}

/** The clocks of a request made under an instrument, from its profile. */
function instrumentClocks(input: ClockInput, profile: ClockProfile, instrument: string, nowMs: number): CaseClocks {
  const receivedAt = input.receivedAt as string;
  const received = Date.parse(receivedAt);
  const capMs = input.facts.deadlineAt === undefined ? Number.POSITIVE_INFINITY : Date.parse(input.facts.deadlineAt);
  const last = input.steps.at(-1);
  const holder = holderOf(input.status);
  const hop: RunningClock | null =
    holder === undefined || profile.hopHours === undefined
      ? null
      : { clock: "hop", holder, dueAt: iso(Date.parse(last?.at ?? receivedAt) + profile.hopHours * HOUR_MS), key: input.headEnvelopeId ?? "" };

  const acknowledgement =
    profile.acknowledgeHours === undefined ? null : stepClock(input, received, profile.acknowledgeHours, ["acknowledged", "under-review", "accepted", "refused", "unable-to-execute"], Number.POSITIVE_INFINITY, nowMs);

  const decided: readonly CaseStatus[] = ["accepted", "refused", "unable-to-execute"];
  const recognitionStep = firstTo(input.steps, decided);
  let recognition: StepClock | null = null;
  if (profile.recognitionHours !== undefined) {
    // One notice of delay before the decision extends it once (EIO art. 12(5)).
    const noticeBefore = input.steps.some((s) => s.step === "notify-delay" && (recognitionStep === undefined || Date.parse(s.at) <= Date.parse(recognitionStep.at)));
    const hours = profile.recognitionHours + (noticeBefore ? (profile.recognitionExtensionHours ?? 0) : 0);
    recognition = stepClock(input, received, hours, decided, capMs, nowMs);
  }

  const hours = profile.completionHours[input.priority];
  const firstAccept = firstTo(input.steps, ["accepted"]);
  const fromRecognition = profile.completionFrom === "recognition";
  let completion: CompletionClock | null = null;
  if (!fromRecognition || firstAccept !== undefined) {
    const startMs = fromRecognition && firstAccept !== undefined ? Date.parse(firstAccept.at) : received;
    const completedAt = completionOf(input.steps);
    const { pausedMs, pausedSince } = pausesOf(input.steps, nowMs, startMs, completedAt === null ? nowMs : Date.parse(completedAt));
    const uncapped = startMs + hours * HOUR_MS + pausedMs;
    const dueMs = Math.min(uncapped, capMs);
    const state: CompletionClock["state"] =
      completedAt !== null
        ? Date.parse(completedAt) <= dueMs
          ? "met"
          : "missed"
        : input.status === "withdrawn" || input.status === "closed"
          ? "stopped"
          : pausedSince !== null
            ? "paused"
            : "running";
    completion = { days: hours / 24, state, dueAt: iso(dueMs), pausedMs, completedAt, from: fromRecognition ? "recognition" : "receipt", cappedByDeadline: capMs < uncapped };
  }
  const fixed = profile.preservationHours === undefined ? undefined : profile.preservationHours / 24;
  return { receivedAt, instrument, acknowledgement, recognition, hop, completion, preservationExpiry: preservationExpiryOf(input, fixed) };
}

/** The clocks of a case at `now`. */
export function caseClocks(input: ClockInput, settings: ClockSettings, now: Date): CaseClocks {
  if (input.receivedAt === null) return { receivedAt: null, hop: null, completion: null, preservationExpiry: null };
  const instrument = input.facts.instrument;
  const profile = instrument === undefined || instrumentRules(instrument) === undefined ? undefined : settings.instruments[instrument];
  if (instrument !== undefined && profile !== undefined) return instrumentClocks(input, profile, instrument, now.getTime());
  const received = Date.parse(input.receivedAt);
  const nowMs = now.getTime();
  const last = input.steps.at(-1);

  const holder = holderOf(input.status);
  const hop: RunningClock | null =
    holder === undefined
      ? null
      : { clock: "hop", holder, dueAt: iso(Date.parse(last?.at ?? input.receivedAt) + settings.hopDays * DAY_MS), key: input.headEnvelopeId ?? "" };

  const days = (input.kind === "preservation-request" ? settings.preservationCompletionDays : settings.completionDays)[input.priority];
  const { pausedMs, pausedSince } = pausesOf(input.steps, nowMs);
  const dueMs = received + days * DAY_MS + pausedMs;
  const completedAt = completionOf(input.steps);
  const state: CompletionClock["state"] =
    completedAt !== null
      ? Date.parse(completedAt) <= dueMs
        ? "met"
        : "missed"
      : input.status === "withdrawn" || input.status === "closed"
        ? "stopped"
        : pausedSince !== null
          ? "paused"
          : "running";
  const completion: CompletionClock = { days, state, dueAt: iso(dueMs), pausedMs, completedAt };

  return { receivedAt: input.receivedAt, hop, completion, preservationExpiry: preservationExpiryOf(input, undefined) };
}

/** The clocks still counting towards a deadline (acknowledgement, recognition and completion only while running). */
export function runningClocks(clocks: CaseClocks): RunningClock[] {
  const running: RunningClock[] = [];
  if (clocks.hop !== null) running.push(clocks.hop);
  if (clocks.acknowledgement?.state === "running") running.push({ clock: "acknowledgement", holder: "requested", dueAt: clocks.acknowledgement.dueAt, key: "" });
  if (clocks.recognition?.state === "running") running.push({ clock: "recognition", holder: "requested", dueAt: clocks.recognition.dueAt, key: "" });
  if (clocks.completion?.state === "running") running.push({ clock: "completion", holder: "requested", dueAt: clocks.completion.dueAt, key: "" });
  if (clocks.preservationExpiry !== null && !clocks.preservationExpiry.stopped) {
    const { clock, holder, dueAt, key } = clocks.preservationExpiry;
    running.push({ clock, holder, dueAt, key });
  }
  return running;
}
