/**
 * Every route of the local API, as data: what the OpenAPI description says
 * of it (gateway/http/openapi/document.ts). A test compares this table with
 * the routes the express app really serves, both ways, so a route cannot be
 * added or removed without its description. Schemas are named, never
 * written here: `doc:<name>` is a document schema of schemas/, `api:<def>`
 * a definition of schemas/local-api.schema.json.
 */

/** Where a body or parameter's schema comes from. */
export type SchemaRef = `doc:${string}` | `api:${string}` | { readonly inline: Record<string, unknown> };

/** A query (or header) parameter. */
export interface RouteParameter {
  readonly name: string;
  readonly in?: "query" | "header";
  readonly description: string;
  readonly schema: SchemaRef;
  readonly required?: boolean;
}

/** One answer of a route. */
export interface RouteResponse {
  readonly description: string;
  /** JSON body schema; or other content types with their schema. */
  readonly json?: SchemaRef;
  readonly content?: Readonly<Record<string, SchemaRef>>;
  readonly headers?: Readonly<Record<string, string>>;
}

/** One route of the local API. */
export interface RouteSpec {
  readonly method: "get" | "post" | "put" | "head";
  /** OpenAPI form: `/api/v1/cases/{caseId}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  /** Roles allowed; empty for routes without a token. */
  readonly roles: readonly string[];
  readonly parameters?: readonly RouteParameter[];
  readonly body?: { readonly json?: SchemaRef; readonly content?: Readonly<Record<string, SchemaRef>>; readonly description?: string };
  readonly responses: Readonly<Record<string, RouteResponse>>;
  /** Error codes the route may answer (besides authentication and role). */
  readonly errors?: readonly string[];
}

const text = (description: string, extra: Record<string, unknown> = {}): SchemaRef => ({ inline: { type: "string", description, ...extra } });
const integer: SchemaRef = { inline: { type: "integer", minimum: 0 } };
const anyObject: SchemaRef = "api:anyObject";
const limit: RouteParameter = { name: "limit", description: "Page size, 1 to 500 (default 100).", schema: { inline: { type: "integer", minimum: 1, maximum: 500 } } };
const cursor: RouteParameter = { name: "cursor", description: "The `next` of the previous page, unchanged.", schema: "api:cursor" };
const ok = (description: string, json: SchemaRef = anyObject): Readonly<Record<string, RouteResponse>> => ({ "200": { description, json } });

/** The local API, route by route. */
export const LOCAL_API_ROUTES: readonly RouteSpec[] = Object.freeze<RouteSpec[]>([
  { method: "get", path: "/healthz", operationId: "liveness", summary: "Liveness: 200 while the event loop and the thread pool answer, 503 while the thread pool is stalled.", tag: "operations", roles: [], responses: { "200": { description: "Alive.", json: anyObject }, "503": { description: "Degraded.", json: anyObject } } },
  { method: "get", path: "/metrics", operationId: "metrics", summary: "Prometheus metrics.", tag: "operations", roles: [], responses: { "200": { description: "Prometheus text format.", content: { "text/plain": text("Prometheus exposition format") } } } },
  { method: "get", path: "/api/v1/openapi.json", operationId: "openapi", summary: "This description of the local API.", tag: "operations", roles: [], responses: ok("The OpenAPI 3.1 document.") },
  {
    method: "post", path: "/api/v1/requests", operationId: "submitRequest", summary: "Submit an MLA or preservation request (with attachments uploaded before).", tag: "cases", roles: ["caseworker"],
    parameters: [{ name: "Idempotency-Key", in: "header", description: "Retries with the same key get the first answer.", schema: text("1 to 255 visible ASCII characters", { maxLength: 255 }) }],
    body: { json: { inline: { oneOf: [{ $ref: "#/components/schemas/mla-request-submission" }, { $ref: "#/components/schemas/preservation-request-submission" }] } } },
    responses: { "201": { description: "Case opened, envelope queued.", json: "api:submission" } },
    errors: ["DOCUMENT_INVALID", "DOCUMENT_VERSION_NOT_ACCEPTED", "REQUIREMENTS_NOT_MET", "ATTACHMENT_NOT_READY", "ATTACHMENT_ALREADY_USED", "ATTACHMENT_MISMATCH", "UPLOAD_UNKNOWN", "IDEMPOTENCY_KEY_INVALID", "IDEMPOTENCY_KEY_REUSED", "IDEMPOTENCY_KEY_IN_USE"],
  },
  {
    method: "get", path: "/api/v1/cases", operationId: "listCases", summary: "Cases, emergency first then newest, a page at a time.", tag: "cases", roles: ["caseworker"],
    parameters: [
      { name: "status", description: "A case status.", schema: { inline: { type: "string" } } },
      { name: "direction", description: "outbound or inbound.", schema: { inline: { enum: ["outbound", "inbound"] } } },
      { name: "peer", description: "The other authority.", schema: "doc:common#/$defs/authorityId" },
      { name: "urgency", description: "The request's urgency level.", schema: { inline: { enum: ["normal", "urgent", "emergency"] } } },
      { name: "overdue", description: "true: a deadline has passed; false: none has.", schema: { inline: { enum: ["true", "false"] } } },
      { name: "reference", description: "The requesting authority's reference.", schema: text("1 to 200 characters", { minLength: 1, maxLength: 200 }) },
      { name: "updatedSince", description: "Cases changed at or after this time.", schema: "doc:common#/$defs/timestamp" },
      limit,
      cursor,
    ],
    responses: ok("A page of cases.", "api:casePage"),
    errors: ["USAGE", "CURSOR_INVALID", "CURSOR_LIST_MISMATCH"],
  },
  { method: "get", path: "/api/v1/cases/overdue", operationId: "listOverdue", summary: "Deadlines passed, emergency first.", tag: "cases", roles: ["caseworker"], responses: ok("Overdue deadlines.") },
  { method: "get", path: "/api/v1/cases/due-soon", operationId: "listDueSoon", summary: "Deadlines falling within `days`.", tag: "cases", roles: ["caseworker"], parameters: [{ name: "days", description: "Days ahead (default clocks.dueSoonDays).", schema: { inline: { type: "number", minimum: 0 } } }], responses: ok("Deadlines due soon.") },
  { method: "get", path: "/api/v1/cases/{caseId}", operationId: "getCase", summary: "A case, its history of steps, clocks, envelopes and audit entries.", tag: "cases", roles: ["caseworker"], responses: ok("The case.", "api:caseDetail"), errors: ["CASE_UNKNOWN"] },
  { method: "get", path: "/api/v1/cases/{caseId}/documents/{envelopeId}", operationId: "readDocument", summary: "A document of the case (the read is audited).", tag: "cases", roles: ["caseworker"], responses: ok("The document."), errors: ["CASE_UNKNOWN", "NOT_FOUND"] },
  {
    method: "post", path: "/api/v1/cases/{caseId}/status", operationId: "takeStep", summary: "Take a lifecycle step (acknowledge, request-more-info, provide-more-info with attachments, refuse…).", tag: "cases", roles: ["caseworker"],
    parameters: [{ name: "Idempotency-Key", in: "header", description: "Retries with the same key get the first answer.", schema: text("1 to 255 visible ASCII characters", { maxLength: 255 }) }],
    body: { json: "api:stepRequest" },
    responses: { "201": { description: "The step, sealed and queued.", json: "api:stepTaken" } },
    errors: ["CASE_UNKNOWN", "CASE_TRANSITION_INVALID", "DOCUMENT_INVALID", "ATTACHMENT_NOT_READY", "ATTACHMENT_ALREADY_USED", "ATTACHMENT_MISMATCH", "UPLOAD_UNKNOWN"],
  },
  {
    method: "post", path: "/api/v1/cases/{caseId}/evidence", operationId: "sendEvidence", summary: "Send an evidence package (files by path on the gateway's host).", tag: "evidence", roles: ["caseworker"],
    body: { json: anyObject }, responses: { "201": { description: "The package, queued.", json: anyObject } },
    errors: ["CASE_UNKNOWN", "EVIDENCE_CASE_DIRECTION", "DOCUMENT_INVALID", "EVIDENCE_PATH_NOT_ALLOWED", "EVIDENCE_FILE_UNREADABLE", "EVIDENCE_SOURCE_CHANGED"],
  },
  { method: "get", path: "/api/v1/cases/{caseId}/evidence", operationId: "listEvidence", summary: "The case's evidence packages (audited; `view=progress`: states only, not audited).", tag: "evidence", roles: ["caseworker"], parameters: [{ name: "view", description: "progress", schema: { inline: { const: "progress" } } }, limit, cursor], responses: ok("A page of packages (`next`: the cursor of the next page, or null)."), errors: ["CASE_UNKNOWN", "USAGE", "CURSOR_INVALID", "CURSOR_LIST_MISMATCH"] },
  { method: "get", path: "/api/v1/cases/{caseId}/evidence/{itemId}", operationId: "readEvidenceItem", summary: "A received evidence item's bytes, verified as decrypted (the read is audited).", tag: "evidence", roles: ["caseworker"], responses: { "200": { description: "The plaintext.", content: { "application/octet-stream": { inline: { type: "string", contentMediaType: "application/octet-stream" } } }, headers: { "Repr-Digest": "sha-256 of the plaintext (RFC 9530)" } } }, errors: ["EVIDENCE_ITEM_UNKNOWN", "EVIDENCE_ITEM_NOT_RECEIVED"] },
  {
    method: "post", path: "/api/v1/uploads", operationId: "createUpload", summary: "Open an upload of a file to attach.", tag: "documents", roles: ["caseworker"],
    body: { json: "api:uploadCreate" }, responses: { "201": { description: "The upload.", json: "api:upload" } },
    errors: ["DOCUMENT_INVALID", "UPLOAD_TOO_LARGE", "UPLOAD_MEDIA_TYPE_NOT_ALLOWED"],
  },
  { method: "get", path: "/api/v1/uploads", operationId: "listUploads", summary: "The caller's uploads (its token's), newest first, a page at a time: to resume or attach them.", tag: "documents", roles: ["caseworker"], parameters: [limit, cursor], responses: ok("A page of uploads.", "api:uploadPage"), errors: ["USAGE", "CURSOR_INVALID", "CURSOR_LIST_MISMATCH"] },
  { method: "get", path: "/api/v1/uploads/{uploadId}", operationId: "getUpload", summary: "An upload.", tag: "documents", roles: ["caseworker"], responses: ok("The upload.", "api:upload"), errors: ["UPLOAD_UNKNOWN"] },
  { method: "head", path: "/api/v1/uploads/{uploadId}", operationId: "uploadOffset", summary: "Where an upload stands (Upload-Offset).", tag: "documents", roles: ["caseworker"], responses: { "200": { description: "Headers only.", headers: { "Upload-Offset": "bytes durably received", "Upload-Length": "the declared size", "Valise-Upload-State": "receiving, complete or attached" } } }, errors: ["UPLOAD_UNKNOWN"] },
  {
    method: "put", path: "/api/v1/uploads/{uploadId}", operationId: "sendUploadPart", summary: "Send bytes of an upload (Content-Range: bytes FIRST-LAST/SIZE).", tag: "documents", roles: ["caseworker"],
    parameters: [{ name: "Content-Range", in: "header", required: true, description: "bytes FIRST-LAST/SIZE; FIRST = Upload-Offset.", schema: text("bytes FIRST-LAST/SIZE") }],
    body: { content: { "application/octet-stream": { inline: { type: "string", contentMediaType: "application/octet-stream" } } } },
    responses: ok("The upload after this part.", "api:upload"),
    errors: ["UPLOAD_UNKNOWN", "EVIDENCE_RANGE_INVALID", "EVIDENCE_RANGE_MISMATCH", "EVIDENCE_ITEM_BUSY", "UPLOAD_DIGEST_MISMATCH"],
  },
  { method: "get", path: "/api/v1/cases/{caseId}/attachments", operationId: "listAttachments", summary: "The case's attachments both ways (the read is audited).", tag: "documents", roles: ["caseworker"], parameters: [limit, cursor], responses: ok("A page of attachments.", "api:attachmentPage"), errors: ["CASE_UNKNOWN", "CURSOR_INVALID", "CURSOR_LIST_MISMATCH"] },
  { method: "get", path: "/api/v1/cases/{caseId}/attachments/{itemId}", operationId: "readAttachment", summary: "A received attachment's bytes, verified as decrypted (the read is audited).", tag: "documents", roles: ["caseworker"], responses: { "200": { description: "The file.", content: { "application/octet-stream": { inline: { type: "string", contentMediaType: "application/octet-stream" } } }, headers: { "Repr-Digest": "sha-256 of the file (RFC 9530)" } } }, errors: ["EVIDENCE_ITEM_UNKNOWN", "EVIDENCE_ITEM_NOT_RECEIVED"] },
  {
    method: "get", path: "/api/v1/events", operationId: "events", summary: "The event feed: long-poll (`wait`), or Server-Sent Events with Accept: text/event-stream.", tag: "events", roles: ["caseworker"],
    parameters: [
      { name: "after", description: "The `next` of the previous answer (or an SSE id).", schema: "api:cursor" },
      { name: "kind", description: "One event kind.", schema: "api:event#/properties/kind" as SchemaRef },
      { name: "caseId", description: "One case.", schema: "doc:common#/$defs/uuid" },
      { name: "wait", description: "Seconds to wait for an event (0 to 60).", schema: { inline: { type: "integer", minimum: 0, maximum: 60 } } },
      limit,
      { name: "Last-Event-ID", in: "header", description: "SSE: resume after this event.", schema: "api:cursor" },
    ],
    responses: { "200": { description: "Events after the cursor.", json: "api:eventPage", content: { "text/event-stream": text("Server-Sent Events: id = cursor, event = kind, data = the event as JSON") } }, "503": { description: "Too many waiting clients.", json: "api:error" } },
    errors: ["USAGE", "CURSOR_INVALID", "CURSOR_LIST_MISMATCH", "FEED_TOO_MANY_WAITERS"],
  },
  { method: "get", path: "/api/v1/audit/checkpoint", operationId: "auditCheckpoint", summary: "The latest (or given) signed checkpoint with cosignatures.", tag: "audit", roles: ["auditor"], parameters: [{ name: "size", description: "Tree size.", schema: integer }], responses: ok("The checkpoint.") },
  { method: "get", path: "/api/v1/audit/entries", operationId: "auditEntries", summary: "Audit entries by range (digests and metadata only).", tag: "audit", roles: ["auditor"], parameters: [{ name: "from", description: "First index.", schema: integer }, { name: "count", description: "How many (at most 10,000).", schema: integer }], responses: ok("The entries.") },
  { method: "get", path: "/api/v1/audit/proof/inclusion", operationId: "auditInclusion", summary: "RFC 9162 inclusion proof.", tag: "audit", roles: ["auditor"], parameters: [{ name: "index", description: "Entry index.", schema: integer, required: true }, { name: "size", description: "Tree size.", schema: integer }], responses: ok("The proof.") },
  { method: "get", path: "/api/v1/audit/proof/consistency", operationId: "auditConsistency", summary: "RFC 9162 consistency proof.", tag: "audit", roles: ["auditor"], parameters: [{ name: "old", description: "Older size.", schema: integer, required: true }, { name: "new", description: "Newer size.", schema: integer, required: true }], responses: ok("The proof.") },
  { method: "get", path: "/api/v1/audit/custody/{caseId}", operationId: "auditCustody", summary: "A case's chain of custody.", tag: "audit", roles: ["auditor"], responses: ok("The custody report.") },
  { method: "get", path: "/api/v1/reports/kpi", operationId: "reportKpi", summary: "KPIs, overall and per peer.", tag: "reports", roles: ["auditor", "operator"], parameters: [{ name: "from", description: "First day, YYYY-MM-DD.", schema: "doc:common#/$defs/date" }, { name: "to", description: "Last day, YYYY-MM-DD.", schema: "doc:common#/$defs/date" }], responses: ok("The KPIs.") },
  {
    method: "get", path: "/api/v1/reports/transparency", operationId: "reportTransparency", summary: "The transparency report (json, csv or html).", tag: "reports", roles: ["auditor", "operator"],
    parameters: [{ name: "from", description: "First day.", schema: "doc:common#/$defs/date" }, { name: "to", description: "Last day.", schema: "doc:common#/$defs/date" }, { name: "format", description: "json, csv or html.", schema: { inline: { enum: ["json", "csv", "html"] } } }, { name: "suppressBelow", description: "Counts below this are suppressed.", schema: { inline: { type: "number", minimum: 0 } } }],
    responses: { "200": { description: "The report.", json: anyObject, content: { "text/csv": text("CSV"), "text/html": text("HTML") } } },
  },
  { method: "get", path: "/api/v1/health", operationId: "health", summary: "Peers, outbox, certificates, checkpoints, thread pool.", tag: "operations", roles: ["operator"], responses: ok("The health view.") },
  {
    method: "get", path: "/api/v1/outbox", operationId: "listOutbox", summary: "Envelopes waiting or failed (default open), or of one state, newest first, with attempts and last error.", tag: "operations", roles: ["operator"],
    parameters: [
      { name: "state", description: "open (default), pending, failed, delivered, cancelled or superseded.", schema: { inline: { enum: ["open", "pending", "failed", "delivered", "cancelled", "superseded"] } } },
      { name: "peer", description: "The receiving authority.", schema: "doc:common#/$defs/authorityId" },
      limit,
      cursor,
    ],
    responses: ok("The envelopes, newest first: `{outbox, next}` (`next`: the cursor of the next page, or null)."),
    errors: ["USAGE", "CURSOR_INVALID", "CURSOR_LIST_MISMATCH"],
  },
  { method: "get", path: "/api/v1/outbox/{envelopeId}", operationId: "showOutboxEntry", summary: "One envelope's delivery.", tag: "operations", roles: ["operator"], responses: ok("The envelope's delivery."), errors: ["OUTBOX_UNKNOWN"] },
  {
    method: "post", path: "/api/v1/outbox/{envelopeId}/retry", operationId: "retryOutboxEntry", summary: "Retry a pending or failed envelope now (the give-up clock restarts); audited.", tag: "operations", roles: ["operator"],
    body: { json: { inline: { type: "object", properties: { reason: { type: "string", maxLength: 2000 } }, additionalProperties: false } } },
    responses: ok("The envelope's delivery after the retry."),
    errors: ["OUTBOX_UNKNOWN", "OUTBOX_STATE_INVALID"],
  },
  {
    method: "post", path: "/api/v1/outbox/{envelopeId}/cancel", operationId: "cancelOutboxEntry", summary: "Stop delivering a pending or failed envelope; audited.", tag: "operations", roles: ["operator"],
    body: { json: { inline: { type: "object", properties: { reason: { type: "string", maxLength: 2000 } }, additionalProperties: false } } },
    responses: ok("The envelope's delivery after the cancel."),
    errors: ["OUTBOX_UNKNOWN", "OUTBOX_STATE_INVALID"],
  },
  {
    method: "get", path: "/api/v1/requirements", operationId: "ownRequirements", summary: "This authority's requirements profile in force, with a view in the Accept-Language asked for.", tag: "requirements", roles: ["caseworker", "operator", "auditor"],
    parameters: [{ name: "Accept-Language", in: "header", description: "The reader's languages: explanations come in the first one the profile has.", schema: text("an Accept-Language header") }],
    responses: ok("`{authority, version, versions, view, profile}`."),
    errors: ["REQUIREMENTS_NOT_FOUND"],
  },
  {
    method: "get", path: "/api/v1/requirements/peers/{authority}", operationId: "peerRequirements", summary: "A peer's requirements profile in force (or a version held), with a view in the Accept-Language asked for.", tag: "requirements", roles: ["caseworker", "operator", "auditor"],
    parameters: [
      { name: "version", description: "A version held (default: the one in force).", schema: { inline: { type: "integer", minimum: 1 } } },
      { name: "Accept-Language", in: "header", description: "The reader's languages: explanations come in the first one the profile has.", schema: text("an Accept-Language header") },
    ],
    responses: ok("`{authority, version, versions, view, profile}`."),
    errors: ["REQUIREMENTS_NOT_FOUND", "PEER_UNKNOWN", "USAGE"],
  },
  { method: "post", path: "/api/v1/requirements/peers/{authority}/fetch", operationId: "fetchPeerRequirements", summary: "Fetch the peer's requirements profile now.", tag: "requirements", roles: ["operator"], responses: ok("`{authority, outcome: updated|unchanged|none, version}`."), errors: ["PEER_UNKNOWN", "PEER_UNREACHABLE", "REQUIREMENTS_SIGNATURE", "REQUIREMENTS_INVALID", "REQUIREMENTS_RULE_UNKNOWN", "REQUIREMENTS_STALE"] },
]);
