/**
 * Local API routes of requirements profiles, mounted by local-api.ts under
 * /api/v1 behind its token check. Texts come in the caller's language
 * (`Accept-Language`) where the profile has it.
 *
 * | method | path | role | what |
 * | --- | --- | --- | --- |
 * | GET | /requirements | caseworker, operator, auditor | this authority's profile in force: `{authority, version, versions, view, profile}` |
 * | GET | /requirements/peers/:authority?version= | caseworker, operator, auditor | a peer's profile in force (or a version held), the same shape: the portal shows it beside the request form |
 * | POST | /requirements/peers/:authority/fetch | operator | fetch the peer's profile now → `{authority, outcome, version}` |
 */
import express, { type Request } from "express";
import { GatewayError } from "../errors.js";
import type { GatewayContext } from "../context.js";
import type { PeerClient } from "../delivery/peer-client.js";
import type { Allow } from "./cases-api.js";
import { acceptedLanguages } from "../requirements/language.js";
import { latestVersion, ownShelf, peerShelf, readShelved, shelvedVersions } from "../requirements/shelf.js";
import { profileView } from "../requirements/view.js";
import { fetchPeerRequirements } from "../requirements/fetch.js";
import { isAuthorityId } from "../../pki/authority.js";

const READERS = ["caseworker", "operator", "auditor"] as const;

/** The profile on `dir` at `version` (default: in force), readable for `req`'s languages. */
function shelvedAnswer(ctx: GatewayContext, dir: string, authority: string, req: Request): object {
  const asked = req.query["version"];
  const version = asked === undefined ? latestVersion(dir) : /^[1-9][0-9]{0,9}$/.test(String(asked)) ? Number(asked) : undefined;
  if (asked !== undefined && version === undefined) throw new GatewayError("USAGE", "version must be a positive whole number");
  const held = version === undefined ? undefined : readShelved(dir, version, ctx.validator);
  if (held === undefined) {
    throw new GatewayError("REQUIREMENTS_NOT_FOUND", asked === undefined ? `no requirements profile of ${authority} is held` : `version ${String(asked)} of ${authority}'s requirements is not held`, {
      details: { authority, versions: shelvedVersions(dir) },
    });
  }
  const { profile } = held.compiled;
  return { authority, version: profile.version, versions: shelvedVersions(dir), view: profileView(profile, acceptedLanguages(req.get("accept-language"))), profile };
}

function peerOf(ctx: GatewayContext, req: Request): string {
  const authority = String(req.params["authority"] ?? "");
  if (!isAuthorityId(authority) || ctx.peers.find(authority) === undefined) throw new GatewayError("PEER_UNKNOWN", `${authority.slice(0, 40)} is not a peer of this gateway`);
  return authority;
}

/** The routes (see the module comment). */
export function requirementsApiRoutes(ctx: GatewayContext, client: PeerClient, allow: Allow): express.Router {
  const router = express.Router();
  router.get(
    "/requirements",
    allow(READERS, (req, res) => {
      res.json(shelvedAnswer(ctx, ownShelf(ctx.paths), ctx.authority, req));
    }),
  );
  router.get(
    "/requirements/peers/:authority",
    allow(READERS, (req, res) => {
      const authority = peerOf(ctx, req);
      res.json(shelvedAnswer(ctx, peerShelf(ctx.paths, authority), authority, req));
    }),
  );
  router.post(
    "/requirements/peers/:authority/fetch",
    allow(["operator"], async (req, res) => {
      const authority = peerOf(ctx, req);
      const outcome = await fetchPeerRequirements(ctx, client, ctx.peers.get(authority));
      res.json({ authority, outcome, version: latestVersion(peerShelf(ctx.paths, authority)) ?? null });
    }),
  );
  return router;
}
