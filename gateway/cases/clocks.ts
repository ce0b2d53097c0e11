/**
 * The clocks of a case — pure functions of the case, its applied steps, the
 * clock settings and `now`, so both the gateway and the offline CLI compute
 * the same deadlines and tests run them on an injected clock.
 *
 * - hop: whoever holds the next step (gateway/cases/lifecycle.ts `holderOf`)
 *   must take one within `hopDays` (default 5) of the last step — the
 *   requested authority acknowledging, deciding, or reporting progress; the
 *   requesting authority answering questions.
 * - completion: the requested authority answers (executes, or refuses)
 *   within `completionDays` of receiving the request (default 30; urgent 10;
 *   emergency 1; a quick freeze 3, 1, 1). The clock is paused while more
 *   information is awaited: the time between request-more-info and
 *   provide-more-info is added to the deadline. A withdrawal stops it.
 * - preservation expiry: data preserved under a preservation request (its
 *   `executed` step) stays frozen for the request's `preservationDays`; the
 *   requesting authority must follow up before then. Closing the case stops it.
 *
 * Days are calendar days of 24 hours, in UTC.
 */
import type { ClockConfig, DaysByPriority } from "../config/config.js";
import type { Priority } from "../envelope/types.js";
import { holderOf, type CaseStatus, type Side } from "./lifecycle.js";
import type { CaseFacts } from "./facts.js";

/** Milliseconds in a day. */
export const DAY_MS = 24 * 3600 * 1000;

/** The clock settings of the cases with one peer. */
export interface ClockSettings {
  readonly hopDays: number;
  readonly completionDays: Readonly<Record<Priority, number>>;
  readonly preservationCompletionDays: Readonly<Record<Priority, number>>;
  /** How far ahead "due soon" looks. */
  readonly dueSoonDays: number;
}

/** The defaults (DESIGN.md, "Cases"). */
export const DEFAULT_CLOCKS: ClockSettings = Object.freeze({
  hopDays: 5,
  completionDays: Object.freeze({ normal: 30, urgent: 10, emergency: 1 }),
  preservationCompletionDays: Object.freeze({ normal: 3, urgent: 1, emergency: 1 }),
  dueSoonDays: 2,
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
  };
}

/** What the clocks of a case are computed from. */
export interface ClockInput {
  readonly kind: string;
  readonly priority: Priority;
  readonly status: CaseStatus;
  /** When the requested authority received the request; clocks start here (null: not yet). */
  readonly receivedAt: string | null;
  readonly facts: Pick<CaseFacts, "preservationDays">;
  /** The envelope the current hop started with (the head of the history). */
  readonly headEnvelopeId: string | null;
  /** The applied steps, in order. */
  readonly steps: ReadonlyArray<{ readonly step: string; readonly from: CaseStatus; readonly to: CaseStatus; readonly at: string }>;
}

/** The three clocks. */
export type ClockName = "hop" | "completion" | "preservation-expiry";

/** A clock that is counting towards a deadline. */
export interface RunningClock {
  readonly clock: ClockName;
  readonly dueAt: string;
  /** The side that must act before `dueAt`. */
  readonly holder: Side;
  /** Names the hop (the envelope that started it); '' for the other clocks. */
  readonly key: string;
}

/** The completion clock, whatever its state. */
export interface CompletionClock {
  readonly days: number;
  /** running: counting; paused: more information awaited; met / missed: answered in time or late; stopped: withdrawn. */
  readonly state: "running" | "paused" | "met" | "missed" | "stopped";
  /** The deadline with the pauses so far (while paused, as if resumed now). */
  readonly dueAt: string;
  readonly pausedMs: number;
  /** When the request was answered (executed, refused, or closed after partial execution). */
  readonly completedAt: string | null;
}

/** Every clock of a case. */
export interface CaseClocks {
  readonly receivedAt: string | null;
  readonly hop: RunningClock | null;
  readonly completion: CompletionClock | null;
  readonly preservationExpiry: (RunningClock & { readonly preservedAt: string; readonly days: number; readonly stopped: boolean }) | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The time the request was answered: the step that reached executed or refused, or closed it from partially-executed. */
export function completionOf(steps: ClockInput["steps"]): string | null {
  const done = steps.find((s) => s.to === "executed" || s.to === "refused" || (s.to === "closed" && s.from === "partially-executed"));
  return done?.at ?? null;
}

/** Milliseconds spent awaiting more information, up to `now`, and since when if still awaited. */
export function pausesOf(steps: ClockInput["steps"], now: number): { pausedMs: number; pausedSince: number | null } {
  let pausedMs = 0;
  let pausedSince: number | null = null;
  for (const step of steps) {
    const at = Date.parse(step.at);
    if (pausedSince !== null) {
      pausedMs += Math.max(0, at - pausedSince);
      pausedSince = null;
    }
    if (step.to === "more-info-requested") pausedSince = at;
  }
  if (pausedSince !== null) pausedMs += Math.max(0, now - pausedSince);
  return { pausedMs, pausedSince };
}

/** The clocks of a case at `now`. */
export function caseClocks(input: ClockInput, settings: ClockSettings, now: Date): CaseClocks {
  if (input.receivedAt === null) return { receivedAt: null, hop: null, completion: null, preservationExpiry: null };
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

  let preservationExpiry: CaseClocks["preservationExpiry"] = null;
  const preserved = input.kind === "preservation-request" ? input.steps.find((s) => s.to === "executed") : undefined;
  if (preserved !== undefined && input.facts.preservationDays !== undefined) {
    preservationExpiry = {
      clock: "preservation-expiry",
      holder: "requesting",
      key: "",
      preservedAt: preserved.at,
      days: input.facts.preservationDays,
      dueAt: iso(Date.parse(preserved.at) + input.facts.preservationDays * DAY_MS),
      stopped: input.status !== "executed",
    };
  }
  return { receivedAt: input.receivedAt, hop, completion, preservationExpiry };
}

/** The clocks still counting towards a deadline (the completion clock only while running). */
export function runningClocks(clocks: CaseClocks): RunningClock[] {
  const running: RunningClock[] = [];
  if (clocks.hop !== null) running.push(clocks.hop);
  if (clocks.completion?.state === "running") running.push({ clock: "completion", holder: "requested", dueAt: clocks.completion.dueAt, key: "" });
  if (clocks.preservationExpiry !== null && !clocks.preservationExpiry.stopped) {
    const { clock, holder, dueAt, key } = clocks.preservationExpiry;
    running.push({ clock, holder, dueAt, key });
  }
  return running;
}
