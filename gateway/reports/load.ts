/**
 * Reads the cases reports are computed from: every case row with its
 * applied steps. Metadata only — never `envelope_bodies`.
 */
import type { Tx } from "../store/store.js";
import { caseRecordOf, stepsByCase } from "../cases/history.js";
import type { ReportCase } from "./report-case.js";

/** Every case, oldest first, with its applied steps. */
export async function loadReportCases(tx: Tx): Promise<ReportCase[]> {
  const rows = await tx.cases.all();
  const steps = await stepsByCase(tx);
  return rows.map((row) => {
    const record = caseRecordOf(row);
    return {
      caseId: record.caseId,
      direction: record.direction,
      kind: record.kind,
      peer: record.peer,
      priority: record.priority,
      status: record.status,
      createdAt: record.createdAt,
      receivedAt: record.receivedAt,
      facts: record.facts,
      steps: (steps.get(record.caseId) ?? [])
        .filter((s) => s.state === "applied")
        .map(({ step, by, from, to, at, grounds }) => ({ step, by, from, to, at, grounds })),
    };
  });
}
