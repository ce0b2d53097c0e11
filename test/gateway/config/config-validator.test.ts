/**
 * The configuration's validator is compiled ahead of time (start-up time of
 * every command): the committed module must be what Ajv generates from
 * today's config.schema.json, and it must refuse what the schema refuses,
 * naming every failing field.
 */
import { readFileSync } from "node:fs";
import { expect } from "chai";
import { CONFIG_VALIDATOR_FILE, configValidatorSource } from "../../../scripts/generate-config-validator.js";
import { newConfig, validateConfig } from "../../../gateway/config/config.js";
import { GatewayError } from "../../../gateway/errors.js";

describe("configuration validator (compiled ahead of time)", () => {
  it("is the code Ajv generates from config.schema.json today (else: npm run generate:config-validator)", () => {
    expect(readFileSync(CONFIG_VALIDATOR_FILE, "utf8") === configValidatorSource(), "gateway/config/config.validate.generated.ts is stale: run npm run generate:config-validator").to.equal(true);
  });

  it("accepts a new configuration and refuses a broken one with every failing field", () => {
    const config = newConfig({ authority: "GB-UKCA", endpoint: "https://127.0.0.1:18443", profile: "ed25519", dns: [], ips: [] });
    expect(validateConfig(JSON.parse(JSON.stringify(config))).authority).to.equal("GB-UKCA");
    const broken = { ...JSON.parse(JSON.stringify(config)), authority: "gb", surplus: true, profile: "rsa" };
    try {
      validateConfig(broken);
      expect.fail("a broken configuration was accepted");
    } catch (error) {
      expect(error).to.be.instanceOf(GatewayError);
      const e = error as GatewayError;
      expect(e.code).to.equal("CONFIG_INVALID");
      const errors = (e.details as { errors: { path: string; property?: string }[] }).errors;
      expect(errors.map((x) => x.path)).to.include.members(["/authority", "/profile", "/"]);
      expect(errors.find((x) => x.path === "/")?.property).to.equal("surplus");
    }
  });
});
