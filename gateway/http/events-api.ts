/**
 * The event feed of the local API (role `caseworker`):
 *
 * - `GET /api/v1/events?after=&limit=&caseId=&kind=&wait=` — the events
 *   after the cursor `after` (from the start without it), oldest first, and
 *   `next`, the cursor to pass as `after` next time (always present: an
 *   empty page gives back a cursor at the same place). `wait` (seconds, at
 *   most 60) makes it a long-poll: with nothing new, the answer waits until
 *   an event is committed or `wait` runs out.
 * - The same URL with `Accept: text/event-stream` streams the feed as
 *   Server-Sent Events: `id:` is each event's cursor (a reconnecting client
 *   sends it back as `Last-Event-ID`), `event:` its kind, `data:` the event
 *   as JSON; a comment line every 15 s keeps proxies from closing it.
 *
 * Events are read from the store (the `events` table), never from memory, so
 * every instance serves the same feed and a restart loses nothing. Waiting
 * readers poll the store; their number is bounded (`FEED_TOO_MANY_WAITERS`),
 * so slow or idle clients cannot pile up connections without limit.
 */
import express, { type Request, type Response } from "express";
import type { GatewayContext } from "../context.js";
import { GatewayError } from "../errors.js";
import { EVENT_KINDS, feedEventFromRow, type FeedEvent } from "../events/feed-events.js";
import type { EventFilter } from "../store/repos/events.js";
import type { Allow } from "./cases-api.js";
import type { Cursors, ListFilters } from "./cursor.js";
import { matching, oneOf, parseListQuery } from "./list-query.js";

/** Tuning of the feed. */
export interface FeedOptions {
  /** How often a waiting reader looks at the store (default 200 ms). */
  readonly pollMs: number;
  /** Long-polls and streams open at once, over all clients (default 64). */
  readonly maxWaiters: number;
  /** Comment lines on an idle stream (default 15 s). */
  readonly keepAliveMs: number;
}

const DEFAULTS: FeedOptions = Object.freeze({ pollMs: 200, maxWaiters: 64, keepAliveMs: 15_000 });

/** Longest long-poll, in seconds. */
export const MAX_WAIT_SECONDS = 60;

const RULES = {
  caseId: matching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, "a case id (a lowercase UUID)"),
  kind: oneOf(EVENT_KINDS),
};

/** The list name in the feed's cursors. */
const LIST = "events";

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

/** The feed's routes; mount on the authenticated `/api/v1` router. */
export function eventsApi(ctx: GatewayContext, allow: Allow, cursors: Cursors, options: Partial<FeedOptions> = {}): express.Router {
  const tuning = { ...DEFAULTS, ...options };
  const router = express.Router();
  let waiters = 0;

  const filterOf = (filters: ListFilters): EventFilter => ({ caseId: filters["caseId"] ?? null, kinds: filters["kind"] === undefined ? null : [filters["kind"]] });
  const read = (after: number, limit: number, filters: ListFilters): Promise<FeedEvent[]> =>
    ctx.store.read(async (tx) => (await tx.events.after(after, limit, filterOf(filters))).map(feedEventFromRow));
  const positionOf = async (filters: ListFilters, text: string | undefined): Promise<number> => {
    if (text === undefined) return -1;
    const [seq] = (await cursors.decode(LIST, filters, text)).position;
    if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < -1) throw new GatewayError("CURSOR_INVALID", "the cursor is not one of the event feed");
    return seq;
  };
  const cursorAt = (filters: ListFilters, seq: number): Promise<string> => cursors.encode({ list: LIST, filters, position: [seq] });

  /** Counts a waiter for as long as `work` runs. */
  const waiting = async <T>(work: () => Promise<T>): Promise<T> => {
    if (waiters >= tuning.maxWaiters) throw new GatewayError("FEED_TOO_MANY_WAITERS", `${waiters} long-polls and streams are open; retry shortly`);
    waiters += 1;
    try {
      return await work();
    } finally {
      waiters -= 1;
    }
  };

  router.get(
    "/events",
    allow(["caseworker"], async (req: Request, res: Response) => {
      const query = parseListQuery(req.query as Record<string, unknown>, RULES, ["wait"], "after");
      const stream = (req.get("accept") ?? "").includes("text/event-stream");
      const lastEventId = req.get("last-event-id");
      const after = await positionOf(query.filters, query.cursor ?? (stream && lastEventId !== undefined && lastEventId !== "" ? lastEventId : undefined));
      if (stream) {
        await waiting(() => streamEvents(req, res, after, query.filters, query.limit));
        return;
      }
      const rawWait = (req.query as Record<string, unknown>)["wait"];
      let wait = 0;
      if (rawWait !== undefined) {
        if (typeof rawWait !== "string" || !/^[0-9]{1,2}$/.test(rawWait) || Number(rawWait) > MAX_WAIT_SECONDS) {
          throw new GatewayError("USAGE", `wait must be a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}`, { details: { wait: String(rawWait).slice(0, 32) } });
        }
        wait = Number(rawWait);
      }
      let events = await read(after, query.limit, query.filters);
      if (events.length === 0 && wait > 0) {
        events = await waiting(async () => {
          const gone = new AbortController();
          const onClose = (): void => gone.abort();
          res.on("close", onClose);
          try {
            const until = Date.now() + wait * 1000;
            for (;;) {
              await delay(Math.min(tuning.pollMs, Math.max(0, until - Date.now())), gone.signal);
              if (gone.signal.aborted) return [];
              const found = await read(after, query.limit, query.filters);
              if (found.length > 0 || Date.now() >= until) return found;
            }
          } finally {
            res.off("close", onClose);
          }
        });
      }
      const last = events[events.length - 1]?.seq ?? after;
      res.json({ events, next: await cursorAt(query.filters, last) });
    }),
  );

  /** Streams events after `after` as Server-Sent Events until the client goes away. */
  async function streamEvents(req: Request, res: Response, after: number, filters: ListFilters, batch: number): Promise<void> {
    const gone = new AbortController();
    req.on("close", () => gone.abort());
    res.on("close", () => gone.abort());
    res.status(200).set({ "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-store", "X-Accel-Buffering": "no" });
    res.flushHeaders();
    res.write(": valise event feed\n\n");
    let position = after;
    let quietSince = Date.now();
    while (!gone.signal.aborted) {
      const events = await read(position, batch, filters);
      for (const event of events) {
        res.write(`id: ${await cursorAt(filters, event.seq)}\nevent: ${event.kind}\ndata: ${JSON.stringify(event)}\n\n`);
        position = event.seq;
      }
      if (events.length > 0) {
        quietSince = Date.now();
        continue;
      }
      if (Date.now() - quietSince >= tuning.keepAliveMs) {
        res.write(": keep-alive\n\n");
        quietSince = Date.now();
      }
      await delay(tuning.pollMs, gone.signal);
    }
    res.end();
  }

  return router;
}
