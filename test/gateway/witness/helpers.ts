/**
 * Helpers of the witnessing tests: gateways whose witness client runs only
 * when a test calls `runNow`, and small readers of the witness tables.
 */
import type { KeyObject } from "node:crypto";
import { createGateway, type Gateway } from "../../../gateway/gateway.js";
import { createLogger } from "../../../gateway/log.js";
import type { Store } from "../../../gateway/store/store.js";
import type { SqlValue } from "../../../gateway/store/sql.js";
import { FAST_DELIVERY, PASSPHRASE, localRequest, waitFor, example, type TestAuthority } from "../fixtures.js";
import { waitForDelivered } from "../cases/helpers.js";

/** A silent gateway whose witness client never runs on its own (tests call `witness.runNow`). */
export function manualWitnessGateway(authority: TestAuthority): Gateway {
  return createGateway({
    home: authority.home,
    passphrase: PASSPHRASE,
    logger: createLogger({ authority: authority.authority, silent: true }),
    delivery: FAST_DELIVERY,
    witness: { activityPollMs: 3_600_000, periodMs: 3_600_000 },
  });
}

/** The current `log` public key of `authority`. */
export function logPublicKey(authority: TestAuthority): KeyObject {
  return authority.pki().currentCertificate("log").publicKey;
}

/** Submits an MLA request from `sender` to its peer and waits until the sender holds the receipt. */
export async function exchangeRequest(sender: TestAuthority): Promise<string> {
  const submitted = await localRequest(sender.localPort, "POST", "/api/v1/requests", {
    token: sender.tokens.caseworker,
    body: example("mla-request", "valid-email-records"),
  });
  if (submitted.status !== 201) throw new Error(`submit answered ${submitted.status}: ${submitted.text}`);
  const caseId = (submitted.json as { caseId: string }).caseId;
  await waitFor("the request to be received", async () => {
    const answer = await localRequest(sender.localPort, "GET", `/api/v1/cases/${caseId}`, { token: sender.tokens.caseworker });
    return answer.json?.status === "received" ? true : undefined;
  });
  return caseId;
}

/** Rows of `table` (a witness table) matching `where`. */
export function rows<T>(store: Store, table: "audit_cosignatures" | "witnessed_logs" | "log_alarms" | "audit_entries", where = "1 = 1", ...params: SqlValue[]): Promise<T[]> {
  return store.inspect<T>(`SELECT * FROM ${table} WHERE ${where}`, params);
}

/**
 * A request from `sender` that `receiver` has accepted (both sides see it
 * accepted, and the receiver holds the sender's receipt of the acceptance):
 * what a case must be before the requested side sends evidence. The sender
 * shows the step before the receiver has recorded its receipt, so waiting on
 * the sender alone would leave a write pending at the receiver.
 */
export async function acceptedRequest(sender: TestAuthority, receiver: TestAuthority): Promise<string> {
  const caseId = await exchangeRequest(sender);
  const accepted = await localRequest(receiver.localPort, "POST", `/api/v1/cases/${caseId}/status`, { token: receiver.tokens.caseworker, body: { step: "accept" } });
  if (accepted.status !== 201) throw new Error(`accept answered ${accepted.status}: ${accepted.text}`);
  await waitFor("the acceptance to reach the requesting side", async () => {
    const answer = await localRequest(sender.localPort, "GET", `/api/v1/cases/${caseId}`, { token: sender.tokens.caseworker });
    return answer.json?.status === "accepted" ? true : undefined;
  });
  await waitForDelivered(receiver, caseId);
  return caseId;
}
