/**
 * Which version of the document forms (schemas/versions.ts) a document is
 * read and sealed in. A gateway reads the versions its configuration lists
 * (default: all this code knows) and states them in its trust bundle; a
 * peer's bundle states the peer's. A document from a peer is read with the
 * schema of the version it names, if we read that version; a document we
 * seal is in a version the peer reads. Pure: configuration and peer are
 * arguments.
 */
import { GatewayError } from "../errors.js";
import type { GatewayConfig } from "../config/config.js";
import type { FieldError } from "../../schemas/validate.js";
import { hintFor } from "../../schemas/hints.js";
import { DOCUMENT_VERSIONS, documentVersionOf, highestCommonVersion, schemaNameFor, type DocumentVersion } from "../../schemas/versions.js";

/** The versions this gateway reads and writes. */
export function acceptedDocumentVersions(config: Pick<GatewayConfig, "documentVersions">): readonly number[] {
  return config.documentVersions ?? DOCUMENT_VERSIONS;
}

/**
 * The schema a document of `kind` from a peer is read with. The version is
 * the sender's word: one we do not read is refused before the schema runs.
 *
 * @throws GatewayError `DOCUMENT_VERSION_NOT_ACCEPTED` (details: version, accepted).
 */
export function inboundSchemaName(config: Pick<GatewayConfig, "documentVersions">, kind: string, document: Record<string, unknown>): string {
  const version = documentVersionOf(document);
  const accepted = acceptedDocumentVersions(config);
  if (version === undefined || !accepted.includes(version)) {
    const stated = document["schemaVersion"];
    throw new GatewayError("DOCUMENT_VERSION_NOT_ACCEPTED", `This gateway does not read version ${typeof stated === "number" ? stated : JSON.stringify(stated)?.slice(0, 20) ?? "?"} of the ${kind} form.`, {
      details: { kind, version: typeof stated === "number" ? stated : null, accepted },
    });
  }
  return schemaNameFor(kind, version);
}

/** A field error naming the versions both sides read. */
function versionError(kind: string, version: unknown, ours: readonly number[], theirs: readonly number[], peer: string): FieldError {
  const shared = ours.filter((v) => theirs.includes(v));
  return {
    path: "/schemaVersion",
    code: "version-not-accepted",
    message: `${peer} does not read version ${String(version)} of the ${kind} form (it reads ${theirs.join(", ")}; this gateway ${ours.join(", ")}).`,
    hint:
      shared.length === 0
        ? `This gateway and ${peer} share no version of the forms; an operator must upgrade one of them.`
        : `Write the ${kind} in version ${shared.join(" or ")} of the form${shared.includes(1) ? " (version 1: without schemaVersion)" : ""}, which ${peer} reads.`,
  };
}

/**
 * The version and schema of a request a caseworker submits to `peer`: the
 * version the document names, which both this gateway and the peer must
 * read. Returns the field errors instead when they do not.
 */
export function outboundRequestVersion(
  config: Pick<GatewayConfig, "documentVersions">,
  peer: { readonly authority: string; readonly documentVersions: readonly number[] },
  kind: string,
  document: Record<string, unknown>,
): { version: DocumentVersion; schema: string } | { errors: FieldError[] } {
  const version = documentVersionOf(document);
  const ours = acceptedDocumentVersions(config);
  if (version === undefined) {
    return { errors: [{ path: "/schemaVersion", code: "enum", message: `"schemaVersion" must be one of: ${ours.join(", ")}.`, hint: hintFor(kind, "/schemaVersion", "enum") }] };
  }
  if (!ours.includes(version) || !peer.documentVersions.includes(version)) return { errors: [versionError(kind, version, ours, peer.documentVersions, peer.authority)] };
  return { version, schema: schemaNameFor(kind, version) };
}

/**
 * The version a status update to `peer` is sealed in: the highest both read.
 *
 * @throws GatewayError `DOCUMENT_VERSION_NOT_ACCEPTED` when they share none.
 */
export function statusUpdateVersion(config: Pick<GatewayConfig, "documentVersions">, peer: { readonly authority: string; readonly documentVersions: readonly number[] }): DocumentVersion {
  const ours = acceptedDocumentVersions(config);
  const version = highestCommonVersion(ours, peer.documentVersions);
  if (version === undefined) {
    throw new GatewayError("DOCUMENT_VERSION_NOT_ACCEPTED", `This gateway and ${peer.authority} share no version of the document forms.`, {
      details: { kind: "status-update", accepted: ours, peer: peer.documentVersions },
    });
  }
  return version;
}
