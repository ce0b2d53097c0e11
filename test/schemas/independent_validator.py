"""Validates Valise example documents with python-jsonschema (Draft 2020-12),
an implementation independent of ajv. Reads lines "<schema-name> <path>" on
stdin, prints "<path> valid" or "<path> invalid" for each. Custom x- keywords
are unknown to it and ignored; formats are not asserted."""
import json
import os
import sys

import jsonschema

SCHEMA_DIR = sys.argv[1]
schemas = {}
for name in os.listdir(SCHEMA_DIR):
    if name.endswith(".schema.json"):
        with open(os.path.join(SCHEMA_DIR, name), encoding="utf-8") as f:
            s = json.load(f)
        schemas[s["$id"]] = s


def validator_for(schema_name):
    base = "https://valise.example/schemas/"
    root_name, _, fragment = schema_name.partition("#")
    root = schemas[base + root_name + ".schema.json"]
    schema = root
    if fragment:
        for seg in fragment.strip("/").split("/"):
            schema = schema[seg]
        schema = {"$ref": base + root_name + ".schema.json#" + fragment}
    try:
        from referencing import Registry, Resource

        registry = Registry().with_resources((uri, Resource.from_contents(s)) for uri, s in schemas.items())
        return jsonschema.Draft202012Validator(schema, registry=registry)
    except ImportError:  # python3-jsonschema before 4.18 (Debian bookworm: 4.10)
        resolver = jsonschema.RefResolver(base_uri=root["$id"], referrer=root, store=dict(schemas))
        return jsonschema.Draft202012Validator(schema, resolver=resolver)


for line in sys.stdin:
    schema_name, path = line.strip().split(" ", 1)
    with open(path, encoding="utf-8") as f:
        document = json.load(f)
    ok = validator_for(schema_name).is_valid(document)
    print(f"{path} {'valid' if ok else 'invalid'}")
