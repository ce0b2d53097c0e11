#!/usr/bin/env python3
"""Interoperability check of Valise envelopes with jwcrypto (a JOSE
implementation that is not jose), driven by interop.test.ts.

  interop_jwcrypto.py open DIR   verify and decrypt DIR/envelope.json made by
                                 Valise, print {"routing", "document",
                                 "outerHeader", "jweHeader", "innerHeader"}
  interop_jwcrypto.py seal DIR   build DIR/envelope.json the same three-layer
                                 way (sign, encrypt, sign) from DIR/input.json

Keys come as JWKs in DIR/keys.json (private parts only where needed). The
algorithms are pinned to Valise's allow-list, as a careful receiver would.
"""
import json
import sys

from jwcrypto import jwe, jwk, jws

SIGNING_ALGS = ["EdDSA", "ES256", "ES384"]
JWE_ALGS = ["ECDH-ES+A256KW", "A256GCM"]


def canonical(value):
    """RFC 8785 for the values used here (strings, integers, objects, lists)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def load(directory, name):
    with open(f"{directory}/{name}", encoding="utf-8") as handle:
        return json.load(handle)


def open_envelope(directory):
    keys = load(directory, "keys.json")
    sender = jwk.JWK(**keys["senderSignPublic"])
    recipient = jwk.JWK(**keys["recipientEncryptPrivate"])
    envelope = load(directory, "envelope.json")

    outer = jws.JWS()
    outer.allowed_algs = SIGNING_ALGS
    outer.deserialize(json.dumps(envelope), key=sender)
    routing = json.loads(outer.payload)
    outer_header = json.loads(jws.base64url_decode(envelope["protected"]))

    middle = jwe.JWE()
    middle.allowed_algs = JWE_ALGS
    middle.deserialize(routing["payload"], key=recipient)
    jwe_header = json.loads(jws.base64url_decode(routing["payload"].split(".")[0]))

    inner_compact = middle.payload.decode("ascii")
    inner = jws.JWS()
    inner.allowed_algs = SIGNING_ALGS
    inner.deserialize(inner_compact, key=sender)
    inner_header = json.loads(jws.base64url_decode(inner_compact.split(".")[0]))

    for layer in (outer_header, jwe_header, inner_header):
        if layer.get("eid") != routing["id"]:
            raise SystemExit("eid mismatch")
    print(json.dumps({
        "routing": {k: v for k, v in routing.items() if k != "payload"},
        "document": json.loads(inner.payload),
        "outerHeader": outer_header,
        "jweHeader": jwe_header,
        "innerHeader": inner_header,
    }))


def seal_envelope(directory):
    keys = load(directory, "keys.json")
    spec = load(directory, "input.json")
    signer = jwk.JWK(**keys["senderSignPrivate"])
    recipient = jwk.JWK(**keys["recipientEncryptPublic"])
    envelope_id = spec["id"]

    inner = jws.JWS(canonical(spec["document"]))
    inner.add_signature(signer, None, protected=json.dumps({
        "alg": spec["alg"], "kid": spec["signKid"], "x5c": spec["x5c"], "eid": envelope_id,
        "typ": "valise-document+jws", "cty": spec["type"],
    }))
    inner_compact = inner.serialize(compact=True)

    middle = jwe.JWE(inner_compact.encode("ascii"), protected=json.dumps({
        "alg": "ECDH-ES+A256KW", "enc": "A256GCM", "kid": spec["encryptKid"], "eid": envelope_id,
        "typ": "valise-document+jwe",
    }))
    middle.add_recipient(recipient)

    routing = {
        "valise": 1, "id": envelope_id, "type": spec["type"], "from": spec["from"], "to": spec["to"],
        "caseId": spec["caseId"], "priority": spec["priority"], "createdAt": spec["createdAt"],
        "payload": middle.serialize(compact=True),
    }
    outer = jws.JWS(canonical(routing))
    outer.add_signature(signer, None, protected=json.dumps({
        "alg": spec["alg"], "kid": spec["signKid"], "x5c": spec["x5c"], "eid": envelope_id,
        "typ": "valise-envelope+jws",
    }))
    with open(f"{directory}/envelope.json", "w", encoding="utf-8") as handle:
        handle.write(outer.serialize())


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("open", "seal"):
        raise SystemExit(__doc__)
    (open_envelope if sys.argv[1] == "open" else seal_envelope)(sys.argv[2])
