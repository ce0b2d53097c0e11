/**
 * "Deadline due soon" for the event feed: once per deadline (case, clock,
 * hop, due time), when it falls within `clocks.dueSoonDays` (default 2) of
 * the gateway's clock, a `deadline.due-soon` audit entry — and so an event —
 * is written. What was announced is read back from the events themselves, so
 * no second table remembers it; the check runs as a singleton job (the
 * leader), beside the missed-deadline check, on the same interval.
 */
import type { GatewayContext } from "../context.js";
import type { Job } from "../jobs/runner.js";
import { appendEntry } from "../audit/append.js";
import { dueSoonDeadlines, type DeadlineItem } from "../cases/deadlines.js";
import { DEFAULT_CHECK_INTERVAL_SECONDS } from "../cases/clocks.js";

/** Identity of a deadline announced: a deadline moved by a pause is a new one. */
function keyOf(d: { clock: unknown; hop?: unknown; dueAt: unknown }): string {
  return `${String(d.clock)}\u0000${String(d.hop ?? "")}\u0000${String(d.dueAt)}`;
}

/** Announces the deadlines due soon not announced before; returns them. */
export async function announceDueSoon(ctx: GatewayContext): Promise<DeadlineItem[]> {
  const now = ctx.now();
  const due = (await ctx.store.read((tx) => dueSoonDeadlines(tx, ctx.config, now))).filter((d) => Date.parse(d.dueAt) > now.getTime());
  if (due.length === 0) return [];
  return ctx.store.transaction(async (tx) => {
    const announced: DeadlineItem[] = [];
    const seen = new Map<string, Set<string>>();
    for (const item of due) {
      let keys = seen.get(item.caseId);
      if (keys === undefined) {
        keys = new Set((await tx.events.ofCase(item.caseId, "deadline.due-soon")).map((row) => keyOf(JSON.parse(row.data) as { clock: unknown; hop?: unknown; dueAt: unknown })));
        seen.set(item.caseId, keys);
      }
      const hop = item.key === "" ? undefined : item.key;
      const key = keyOf({ clock: item.clock, hop, dueAt: item.dueAt });
      if (keys.has(key)) continue;
      keys.add(key);
      await appendEntry(tx, {
        kind: "deadline.due-soon",
        actor: "gateway",
        time: now,
        caseId: item.caseId,
        details: { clock: item.clock, dueAt: item.dueAt, holder: item.holderAuthority, side: item.holder, status: item.status, priority: item.priority, ...(hop === undefined ? {} : { hop }) },
      });
      announced.push(item);
    }
    return announced;
  });
}

/** The due-soon check as a singleton job, every `clocks.checkIntervalSeconds`. */
export function dueSoonJob(ctx: GatewayContext): Job {
  const intervalMs = (ctx.config.clocks?.checkIntervalSeconds ?? DEFAULT_CHECK_INTERVAL_SECONDS) * 1000;
  return {
    name: "deadlines-due-soon",
    singleton: true,
    idleMs: intervalMs,
    async run() {
      await announceDueSoon(ctx);
      return intervalMs;
    },
  };
}
