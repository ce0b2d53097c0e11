/**
 * The paged list of cases for case-management systems (GET /api/v1/cases):
 * filters, emergency first then newest first, and a cursor for the next page
 * whenever there may be one — a list never stops silently.
 */
import type { Tx } from "../store/store.js";
import type { GatewayConfig } from "../config/config.js";
import { GatewayError } from "../errors.js";
import { overdueDeadlines } from "./deadlines.js";
import type { CaseSummary } from "./query.js";
import type { CaseRow } from "../store/repos/cases.js";

/** Filters of the case list, as checked strings. */
export interface CaseListFilters {
  readonly status?: string;
  readonly direction?: string;
  readonly peer?: string;
  readonly urgency?: string;
  readonly overdue?: string;
  readonly reference?: string;
  readonly updatedSince?: string;
}

/** A case as listed, with the requester's reference. */
export type ListedCase = CaseSummary & { readonly reference: string | null };

/** One page: cases, and the sort key of the last one when more may follow. */
export interface CasePage {
  readonly cases: readonly ListedCase[];
  readonly last: readonly [number, string, string] | null;
}

/** Reads one page of `limit` cases after `after`. */
export async function pageCases(
  tx: Tx,
  filters: CaseListFilters,
  page: { readonly limit: number; readonly after: readonly [number, string, string] | null },
  clock: { readonly config: GatewayConfig; readonly now: Date },
): Promise<CasePage> {
  let caseIds: string[] | null = null;
  if (filters.overdue !== undefined) {
    const overdue = new Set((await overdueDeadlines(tx, clock.config, clock.now)).map((d) => d.caseId));
    if (filters.overdue === "true") caseIds = [...overdue];
    else {
      // Not overdue: every case but those; the list of overdue ones is small, so filter after reading.
      const rows = await readPage(tx, filters, null, page, overdue);
      return rows;
    }
  }
  return readPage(tx, filters, caseIds, page, new Set());
}

async function readPage(
  tx: Tx,
  filters: CaseListFilters,
  caseIds: string[] | null,
  page: { readonly limit: number; readonly after: readonly [number, string, string] | null },
  exclude: ReadonlySet<string>,
): Promise<CasePage> {
  const out: Array<CaseRow & { rank: number }> = [];
  let after = page.after;
  // One more than the page tells whether another page follows; excluded rows are skipped by reading on.
  for (;;) {
    const rows = await tx.cases.page({
      direction: filters.direction ?? null,
      status: filters.status ?? null,
      peer: filters.peer ?? null,
      priority: filters.urgency ?? null,
      reference: filters.reference ?? null,
      updatedSince: filters.updatedSince ?? null,
      caseIds,
      after,
      limit: page.limit + 1,
    });
    for (const row of rows) if (!exclude.has(row.case_id)) out.push(row);
    if (out.length > page.limit || rows.length <= page.limit) break;
    const last = rows[rows.length - 1]!;
    after = [Number(last.rank), last.created_at, last.case_id];
  }
  const more = out.length > page.limit;
  const shown = out.slice(0, page.limit);
  const lastRow = shown[shown.length - 1];
  return {
    cases: shown.map((row) => ({
      caseId: row.case_id,
      direction: row.direction,
      kind: row.kind,
      peer: row.peer,
      status: row.status,
      priority: row.priority,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      reference: row.reference ?? null,
    })),
    last: more && lastRow !== undefined ? [Number(lastRow.rank), lastRow.created_at, lastRow.case_id] : null,
  };
}

/** The sort key a cursor carries, checked (a cursor passed the HMAC check, but its shape is still ours to verify). */
export function caseSortKey(position: readonly (string | number)[]): readonly [number, string, string] {
  const [rank, createdAt, caseId] = position;
  if (position.length !== 3 || typeof rank !== "number" || typeof createdAt !== "string" || typeof caseId !== "string") {
    throw new GatewayError("CURSOR_INVALID", "the cursor is not one of the case list");
  }
  return [rank, createdAt, caseId];
}
