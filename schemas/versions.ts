/**
 * Versions of the Valise document forms on the wire.
 *
 * A request or status update carries `schemaVersion`; one without it is
 * version 1, the forms before legal instruments were modelled. Version 1
 * documents are read with the frozen `*-v1.schema.json` files and are never
 * rewritten: what was signed stays as it was signed. A gateway states the
 * versions it reads in its trust bundle (`documentVersions`; a bundle
 * without it comes from a gateway that reads version 1 only), and seals a
 * document only in a version its peer reads, so two authorities need not
 * upgrade on the same day.
 *
 * Only the request and status-update forms are versioned; evidence
 * manifests, receipts and envelopes keep their own format versions.
 */

/** Every document version this code reads, oldest first. */
export const DOCUMENT_VERSIONS = [1, 2] as const;
/** A document version. */
export type DocumentVersion = (typeof DOCUMENT_VERSIONS)[number];

/** The version new documents are written in. */
export const CURRENT_DOCUMENT_VERSION: DocumentVersion = 2;

/** What a peer that states no versions reads: the forms before versions existed. */
export const UNSTATED_DOCUMENT_VERSIONS: readonly DocumentVersion[] = Object.freeze([1]);

/** Document kinds whose schema changed between versions. */
export const VERSIONED_KINDS: readonly string[] = Object.freeze(["mla-request", "preservation-request", "status-update"]);

/** True when `value` is a version this code reads. */
export function isDocumentVersion(value: unknown): value is DocumentVersion {
  return typeof value === "number" && (DOCUMENT_VERSIONS as readonly number[]).includes(value);
}

/**
 * The version `document` is written in: its `schemaVersion`, or 1 when it
 * has none; undefined when `schemaVersion` is there but not a version this
 * code knows (hostile or from a newer Valise).
 */
export function documentVersionOf(document: unknown): DocumentVersion | undefined {
  const stated = typeof document === "object" && document !== null ? (document as Record<string, unknown>)["schemaVersion"] : undefined;
  if (stated === undefined) return 1;
  return isDocumentVersion(stated) ? stated : undefined;
}

/**
 * The schema a document of `kind` and `version` is read with: `mla-request`
 * for version 2, `mla-request-v1` for version 1; kinds that are not
 * versioned keep their one schema.
 *
 * @example schemaNameFor("status-update", 1) // "status-update-v1"
 */
export function schemaNameFor(kind: string, version: DocumentVersion): string {
  return version === 1 && VERSIONED_KINDS.includes(kind) ? `${kind}-v1` : kind;
}

/** The highest version both sides read, or undefined when they share none. */
export function highestCommonVersion(ours: readonly number[], theirs: readonly number[]): DocumentVersion | undefined {
  const shared = DOCUMENT_VERSIONS.filter((v) => ours.includes(v) && theirs.includes(v));
  return shared.at(-1);
}
