import { expect } from "chai";
import { assertAuthorityId, authorityOfCertificate, authorityUri, isAuthorityId } from "../../pki/authority.js";
import { expectCode, makeAuthority } from "./fixtures.js";

describe("pki/authority", () => {
  it("accepts well-formed ids and refuses malformed ones with PKI_INVALID_AUTHORITY_ID", () => {
    for (const id of ["GB-UKCA", "US-DOJ-OIA", "FR-MJ-DACG-BEPI", "DE-BFJ"]) expect(isAuthorityId(id), id).to.equal(true);
    for (const id of ["gb-ukca", "GB", "GBR-UKCA", "GB-U", "GB-UKCA-A-B-C", "GB-UKCA ", "GB_UKCA", "../GB-UKCA", "", 42]) {
      expectCode(() => assertAuthorityId(id), "PKI_INVALID_AUTHORITY_ID");
    }
  });

  it("builds the authority URI", () => {
    expect(authorityUri("GB-UKCA")).to.equal("urn:valise:authority:GB-UKCA");
    expectCode(() => authorityUri("gb"), "PKI_INVALID_AUTHORITY_ID");
  });

  it("reads the authority from the SAN URI, never the CN", async () => {
    const a = await makeAuthority("ed25519", "US-DOJ-OIA");
    expect(authorityOfCertificate(a.leaves.sign)).to.equal("US-DOJ-OIA");
    expectCode(() => authorityOfCertificate({ san: { uris: [], dns: [], ips: [], other: 0 } }), "PKI_AUTHORITY_URI");
    expectCode(
      () => authorityOfCertificate({ san: { uris: ["urn:valise:authority:GB-UKCA", "urn:valise:authority:FR-MJ"], dns: [], ips: [], other: 0 } }),
      "PKI_AUTHORITY_URI",
    );
    expectCode(() => authorityOfCertificate({ san: { uris: ["urn:valise:authority:nope"], dns: [], ips: [], other: 0 } }), "PKI_INVALID_AUTHORITY_ID");
  });
});
