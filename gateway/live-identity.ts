/**
 * The gateway's own identity, kept in step with its PKI folder while it runs.
 *
 * The CLI (`valise pki rotate|revoke|crl`) and the gateway are separate
 * processes sharing the home: the CLI rewrites `pki/index.json` and
 * `pki/crl.pem`, each atomically (temp file + rename), the CRL first on a
 * revocation. The gateway watches the folder (fs.watch, plus a stat of those
 * two files every few seconds wherever watching misses events) and, when
 * either changed, reloads its keys: new envelopes and receipts are signed
 * with the new `sign` key, new envelopes open with a new `encrypt` key,
 * checkpoints are signed with the new `log` key, and listeners (see
 * `onChange`) give the peer API server and the delivery client the new `tls`
 * certificate. The reload is cheap: the files are stat'ed, and read only
 * when they changed.
 *
 * Threat: a `sign` key revoked for compromise stays in use until a restart,
 * and every peer refuses what it signs (`ENVELOPE_SIGNER_REVOKED`) for as long
 * as the outbox retries. So reading {@link LiveIdentity.signer} checks the
 * key against the own CRL first — after a stat of the two files, so a
 * revocation written a moment ago is seen before the reload completes — and
 * throws `OWN_SIGNER_UNUSABLE` for a revoked or expired signer rather than
 * sign with it. With no current certificate of a use (revoked, not yet
 * rotated) the gateway holds on to the one it had: a sign key is then
 * refused as revoked; the `tls` and `log` keys stay in use (peers refuse a
 * revoked tls certificate themselves); and health is `degraded` until an
 * operator rotates.
 */
import { statSync, watch, type FSWatcher } from "node:fs";
import { join } from "node:path";
import type { KeyObject } from "node:crypto";
import type { AuthorityPki } from "../pki/store.js";
import { normalizeSerial } from "../pki/certificate.js";
import { isValiseError } from "../pki/errors.js";
import type { LeafUse } from "../pki/profiles.js";
import type { EnvelopeSigner } from "./envelope/seal.js";
import type { DecryptionKey } from "./envelope/open.js";
import { GatewayError } from "./errors.js";
import { loadIdentitySnapshot, type CertificateInUse, type GatewayIdentity, type IdentitySnapshot, type TlsMaterial } from "./identity.js";
import type { Logger } from "./log.js";

/** What a reload changed; given to {@link LiveIdentity.onChange} listeners. */
export interface IdentityChange {
  /** The serial in use per certificate use after the reload (null: none). */
  readonly serials: Readonly<Record<LeafUse, string | null>>;
  readonly tls: boolean;
  readonly sign: boolean;
  readonly encrypt: boolean;
  readonly log: boolean;
  /** Kids of `sign` keys that the own CRL lists now and did not at the previous reload. */
  readonly revokedSignerKids: readonly string[];
}

/** The state of one certificate the gateway uses, for the health view. */
export interface OwnCertificate {
  readonly use: LeafUse;
  readonly serial: string | null;
  readonly notAfter: string | null;
  /** `missing`: no current encrypt certificate (revoked, not yet rotated): peers have none to seal to. */
  readonly status: "ok" | "revoked" | "expired" | "missing";
}

/** A snapshot with the parts the gateway cannot run without. */
interface Held extends IdentitySnapshot {
  readonly signer: NonNullable<IdentitySnapshot["signer"]>;
  readonly log: NonNullable<IdentitySnapshot["log"]>;
  readonly tls: NonNullable<IdentitySnapshot["tls"]>;
}

const WATCHED = ["index.json", "crl.pem"] as const;

/** mtime, size and inode of the watched files: an atomic rewrite changes at least the inode. */
function stampOf(dir: string): string {
  return WATCHED.map((file) => {
    try {
      const stat = statSync(join(dir, file));
      return `${file}:${stat.mtimeMs}:${stat.size}:${stat.ino}`;
    } catch {
      return `${file}:none`;
    }
  }).join("|");
}

/** The identity of a running gateway; implements {@link GatewayIdentity} with the current keys. */
export class LiveIdentity implements GatewayIdentity {
  readonly #pki: AuthorityPki;
  readonly #passphrase: string;
  readonly #now: () => Date;
  readonly #logger: Logger;
  #held: Held;
  /** Stamp of the files the held snapshot was loaded from. */
  #loadedStamp: string;
  /** Serials the own CRL lists, and the stamp they were read at. */
  #revoked: { stamp: string; serials: ReadonlySet<string> };
  /** Serials already announced revoked to listeners. */
  #announced: ReadonlySet<string>;
  readonly #listeners: Array<(change: IdentityChange) => void> = [];
  #reloading: Promise<void> | undefined;
  #again = false;
  #watcher: FSWatcher | undefined;
  #poll: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;

  private constructor(pki: AuthorityPki, passphrase: string, now: () => Date, logger: Logger, held: Held, stamp: string, revoked: ReadonlySet<string>) {
    this.#pki = pki;
    this.#passphrase = passphrase;
    this.#now = now;
    this.#logger = logger;
    this.#held = held;
    this.#loadedStamp = stamp;
    this.#revoked = { stamp, serials: revoked };
    this.#announced = revoked;
  }

  /**
   * Loads the identity from `pki`. At start every use must have a current
   * certificate (`PKI_NO_CURRENT_CERTIFICATE`), and a wrong passphrase fails
   * with `PKI_BAD_PASSPHRASE`.
   */
  static async open(pki: AuthorityPki, passphrase: string, now: () => Date, logger: Logger): Promise<LiveIdentity> {
    const stamp = stampOf(pki.dir);
    const revoked = new Set(pki.crl().entries.map((entry) => entry.serial));
    const snapshot = await loadIdentitySnapshot(pki, passphrase, now());
    // Every use needs a current certificate to start: these throw PKI_NO_CURRENT_CERTIFICATE.
    if (snapshot.signer === undefined) pki.currentCertificate("sign");
    if (snapshot.log === undefined) pki.currentCertificate("log");
    if (snapshot.tls === undefined) pki.currentCertificate("tls");
    return new LiveIdentity(pki, passphrase, now, logger, snapshot as Held, stamp, revoked);
  }

  get authority(): string {
    return this.#held.authority;
  }

  /**
   * The current sign key, checked first against the own CRL as it is on
   * disk now. Throws `OWN_SIGNER_UNUSABLE` (details.reason `revoked` or
   * `expired`) instead of returning a key peers would refuse.
   */
  get signer(): Required<EnvelopeSigner> {
    const held = this.#held.signer;
    const { serial, notAfter } = held.certificate;
    if (this.#revokedSerials().has(normalizeSerial(serial))) {
      throw new GatewayError("OWN_SIGNER_UNUSABLE", `this gateway's sign certificate ${serial} is revoked; run valise pki rotate sign`, {
        details: { use: "sign", serial, reason: "revoked" },
      });
    }
    if (notAfter.getTime() <= this.#now().getTime()) {
      throw new GatewayError("OWN_SIGNER_UNUSABLE", `this gateway's sign certificate ${serial} expired at ${notAfter.toISOString()}; run valise pki rotate sign`, {
        details: { use: "sign", serial, reason: "expired" },
      });
    }
    return held.signer;
  }

  get decryptionKeys(): readonly DecryptionKey[] {
    return this.#held.decryptionKeys;
  }

  get logKey(): KeyObject {
    return this.#held.log.key;
  }

  get tls(): TlsMaterial {
    return this.#held.tls.material;
  }

  /** Whether the own CRL (as on disk now) lists the `sign` certificate of the key `kid`. */
  isRevokedSigner(kid: string): boolean {
    return this.revokedSignerKids().includes(kid);
  }

  /** The kids of the `sign` keys the own CRL (as on disk now) lists. */
  revokedSignerKids(): string[] {
    const revoked = this.#revokedSerials();
    return [...this.#held.signerKids].filter(([serial]) => revoked.has(normalizeSerial(serial))).map(([, kid]) => kid);
  }

  /** The certificates in use (tls, sign, encrypt, log) and whether each is still good. */
  certificates(): OwnCertificate[] {
    const revoked = this.#revokedSerials();
    const now = this.#now().getTime();
    const state = (use: LeafUse, certificate: CertificateInUse | undefined): OwnCertificate =>
      certificate === undefined
        ? { use, serial: null, notAfter: null, status: "missing" }
        : {
            use,
            serial: certificate.serial,
            notAfter: certificate.notAfter.toISOString(),
            status: revoked.has(normalizeSerial(certificate.serial)) ? "revoked" : certificate.notAfter.getTime() <= now ? "expired" : "ok",
          };
    const held = this.#held;
    return [state("tls", held.tls.certificate), state("sign", held.signer.certificate), state("encrypt", held.encrypt), state("log", held.log.certificate)];
  }

  /** Calls `listener` after each reload that changed a key or revoked a sign key. */
  onChange(listener: (change: IdentityChange) => void): void {
    this.#listeners.push(listener);
  }

  /** Watches the PKI folder, and checks it every `pollMs` too. */
  start(pollMs = 2000): void {
    try {
      this.#watcher = watch(this.#pki.dir, { persistent: false }, () => this.#soon());
      this.#watcher.on("error", (error) => {
        this.#logger.warn("watching the PKI folder failed; checking it periodically", { reason: error.message });
        this.#watcher?.close();
        this.#watcher = undefined;
      });
    } catch (error) {
      this.#logger.warn("cannot watch the PKI folder; checking it periodically", { reason: error instanceof Error ? error.message : String(error) });
    }
    this.#poll = setInterval(() => void this.refresh(), pollMs);
    this.#poll.unref();
  }

  /** Stops watching; waits for a reload in progress. */
  async stop(): Promise<void> {
    this.#watcher?.close();
    this.#watcher = undefined;
    clearInterval(this.#poll);
    clearTimeout(this.#debounce);
    await this.#reloading;
  }

  /** Reloads when `index.json` or `crl.pem` changed since the last load. Never rejects. */
  refresh(): Promise<void> {
    if (this.#reloading !== undefined) {
      this.#again = true;
      return this.#reloading;
    }
    this.#reloading = this.#reloadWhileChanged().finally(() => {
      this.#reloading = undefined;
    });
    return this.#reloading;
  }

  /** A watch event: several come per CLI command (temp file, rename); reload once, shortly after. */
  #soon(): void {
    if (this.#debounce !== undefined) return;
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      void this.refresh();
    }, 50);
    this.#debounce.unref();
  }

  /** The own CRL's serials as on disk now (re-read only when a watched file changed). */
  #revokedSerials(): ReadonlySet<string> {
    const stamp = stampOf(this.#pki.dir);
    if (stamp !== this.#revoked.stamp) {
      try {
        this.#revoked = { stamp, serials: new Set(this.#pki.crl().entries.map((entry) => entry.serial)) };
      } catch (error) {
        // Keep the serials known so far (a CRL only grows), and try again next time.
        this.#logger.error("reading the own CRL failed", { code: isValiseError(error) ? error.code : "INTERNAL", reason: error instanceof Error ? error.message : String(error) });
      }
      if (stamp !== this.#loadedStamp) void this.refresh();
    }
    return this.#revoked.serials;
  }

  async #reloadWhileChanged(): Promise<void> {
    do {
      this.#again = false;
      const stamp = stampOf(this.#pki.dir);
      if (stamp !== this.#loadedStamp) await this.#reload(stamp);
    } while (this.#again);
  }

  async #reload(stamp: string): Promise<void> {
    const previous = this.#held;
    let next: Held;
    let revoked: ReadonlySet<string>;
    try {
      revoked = new Set(this.#pki.crl().entries.map((entry) => entry.serial));
      const loaded = await loadIdentitySnapshot(this.#pki, this.#passphrase, this.#now(), previous.signerKids);
      // With no current certificate of a use, the one held stays (signer: refused by `signer` as revoked).
      next = { ...loaded, signer: loaded.signer ?? previous.signer, log: loaded.log ?? previous.log, tls: loaded.tls ?? previous.tls };
    } catch (error) {
      // Recorded as loaded: the next change of the files tries again (not every poll).
      this.#loadedStamp = stamp;
      this.#logger.error("reloading the own PKI failed; the keys loaded before stay in use", {
        code: isValiseError(error) ? error.code : "INTERNAL",
        reason: error instanceof Error ? error.message : String(error),
      });
      return;
    }
    this.#held = next;
    this.#loadedStamp = stamp;
    this.#revoked = { stamp, serials: revoked };
    const newlyRevoked = [...revoked].filter((serial) => !this.#announced.has(serial));
    this.#announced = revoked;
    const kids = new Set(newlyRevoked.flatMap((serial) => [...next.signerKids].filter(([s]) => normalizeSerial(s) === serial).map(([, kid]) => kid)));
    const decryptKids = (snapshot: IdentitySnapshot): string => snapshot.decryptionKeys.map((k) => k.kid).sort().join(",");
    const change: IdentityChange = {
      serials: {
        tls: next.tls.certificate.serial,
        sign: next.signer.certificate.serial,
        encrypt: next.encrypt?.serial ?? null,
        log: next.log.certificate.serial,
      },
      tls: next.tls.certificate.serial !== previous.tls.certificate.serial,
      sign: next.signer.certificate.serial !== previous.signer.certificate.serial,
      encrypt: decryptKids(next) !== decryptKids(previous) || next.encrypt?.serial !== previous.encrypt?.serial,
      log: next.log.certificate.serial !== previous.log.certificate.serial,
      revokedSignerKids: [...kids],
    };
    if (!change.tls && !change.sign && !change.encrypt && !change.log && newlyRevoked.length === 0) return;
    this.#logger.info("own PKI reloaded", { ...change.serials, revoked: newlyRevoked });
    const unusable = this.certificates().filter((c) => c.status !== "ok");
    if (unusable.length > 0) {
      this.#logger.error("own certificates unusable: rotate them (valise pki rotate <use>)", { certificates: unusable.map((c) => `${c.use}:${c.status}`) });
    }
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (error) {
        this.#logger.error("applying the reloaded PKI failed", { reason: error instanceof Error ? error.message : String(error) });
      }
    }
  }
}
