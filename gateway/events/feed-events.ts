/**
 * Which audit entries a case-management system hears of, as events of the
 * feed (GET /api/v1/events, SSE, webhooks). A rule as data: the table below
 * maps an audit kind to an event kind and picks the event's data from the
 * entry's details — metadata only, as the audit entry itself (ids, digests,
 * sizes, steps), never document content.
 *
 * | audit entry | event |
 * | --- | --- |
 * | envelope.received of an mla-request or preservation-request | request.received |
 * | status.changed (either side, or the peer's receipt) | status.changed |
 * | status.superseded (a step lost to the other side's) | status.superseded |
 * | evidence.item.received of an attachment / of evidence | attachment.received / evidence.received |
 * | delivery.failed, evidence.item.failed, evidence.package.failed | delivery.failed |
 * | deadline.missed, deadline.due-soon | deadline.missed, deadline.due-soon |
 *
 * {@link recordFeedEvent} runs inside {@link appendEntry}, so an event is
 * committed with the change it reports or not at all: a crash never loses
 * one nor invents one, and its `seq` is the entry's audit index (dense, in
 * commit order).
 */
import { randomUUID } from "node:crypto";
import type { Tx } from "../store/store.js";
import type { JsonValue } from "../envelope/canonical-json.js";

/** The kinds of event of the feed. */
export const EVENT_KINDS = [
  "request.received",
  "status.changed",
  "status.superseded",
  "attachment.received",
  "evidence.received",
  "delivery.failed",
  "deadline.missed",
  "deadline.due-soon",
] as const;

/** A kind of event. */
export type EventKind = (typeof EVENT_KINDS)[number];

/** An event as the feed and webhooks give it. */
export interface FeedEvent {
  /** Unique; receivers deduplicate by it. */
  readonly eventId: string;
  /** Position in the feed (the audit index of the entry it reports). */
  readonly seq: number;
  readonly kind: EventKind;
  readonly at: string;
  readonly caseId?: string;
  readonly data: { readonly [key: string]: JsonValue };
}

/** What an audit entry gives an event rule. */
interface EntryFacts {
  readonly kind: string;
  readonly envelopeId?: string;
  readonly details: { readonly [key: string]: JsonValue };
}

type Rule = (entry: EntryFacts) => { kind: EventKind; data: Record<string, JsonValue> } | undefined;

/** Only the named details that are present. */
function pick(details: EntryFacts["details"], names: readonly string[]): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const name of names) if (details[name] !== undefined) out[name] = details[name]!;
  return out;
}

function withEnvelope(entry: EntryFacts, data: Record<string, JsonValue>): Record<string, JsonValue> {
  return entry.envelopeId === undefined ? data : { envelopeId: entry.envelopeId, ...data };
}

/** Audit kind → event (the table of the module comment). */
const RULES: Readonly<Record<string, Rule>> = Object.freeze({
  "envelope.received": (e) =>
    e.details["type"] === "mla-request" || e.details["type"] === "preservation-request" ? { kind: "request.received", data: withEnvelope(e, pick(e.details, ["type", "from"])) } : undefined,
  "status.changed": (e) => ({ kind: "status.changed", data: withEnvelope(e, pick(e.details, ["step", "from", "to", "side", "by", "cause", "grounds"])) }),
  "status.superseded": (e) => ({ kind: "status.superseded", data: withEnvelope(e, pick(e.details, ["step", "from", "to", "side", "supersededBy"])) }),
  "evidence.item.received": (e) => ({
    kind: e.details["purpose"] === "attachments" ? "attachment.received" : "evidence.received",
    data: withEnvelope(e, pick(e.details, ["packageId", "itemId", "size", "sha256", "from"])),
  }),
  "delivery.failed": (e) => ({ kind: "delivery.failed", data: withEnvelope(e, { what: "envelope", ...pick(e.details, ["to", "code", "attempts"]) }) }),
  "evidence.item.failed": (e) => ({ kind: "delivery.failed", data: withEnvelope(e, { what: "item", ...pick(e.details, ["packageId", "itemId", "to", "code", "attempts"]) }) }),
  "evidence.package.failed": (e) => ({ kind: "delivery.failed", data: withEnvelope(e, { what: "package", ...pick(e.details, ["packageId", "reason"]) }) }),
  "deadline.missed": (e) => ({ kind: "deadline.missed", data: pick(e.details, ["clock", "dueAt", "holder", "side", "status", "priority"]) }),
  "deadline.due-soon": (e) => ({ kind: "deadline.due-soon", data: pick(e.details, ["clock", "dueAt", "holder", "side", "status", "priority", "hop"]) }),
});

/** The event an audit entry makes, if any (pure). */
export function feedEventOf(entry: EntryFacts): { kind: EventKind; data: Record<string, JsonValue> } | undefined {
  return Object.hasOwn(RULES, entry.kind) ? RULES[entry.kind]!(entry) : undefined;
}

/** Records the event of audit entry `index`, if it makes one (inside the entry's transaction). */
export async function recordFeedEvent(
  tx: Tx,
  index: number,
  entry: EntryFacts & { readonly time: string; readonly caseId?: string },
): Promise<void> {
  const event = feedEventOf(entry);
  if (event === undefined) return;
  await tx.events.insert({ seq: index, eventId: randomUUID(), kind: event.kind, at: entry.time, caseId: entry.caseId ?? null, data: JSON.stringify(event.data) });
}

/** A stored row as the feed gives it. */
export function feedEventFromRow(row: { seq: number; event_id: string; kind: string; at: string; case_id: string | null; data: string }): FeedEvent {
  return {
    eventId: row.event_id,
    seq: Number(row.seq),
    kind: row.kind as EventKind,
    at: row.at,
    ...(row.case_id === null ? {} : { caseId: row.case_id }),
    data: JSON.parse(row.data) as FeedEvent["data"],
  };
}
