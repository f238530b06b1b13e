#!/usr/bin/env python3
"""Runs every shipped scenario once (its default policy) and validates the
artifact against results/artifact.schema.json: the whole document, with each
iteration's timeline cut to its first 50 events of every kind (the schema
validator costs about 1 ms per event in Python, and the shipped scenarios
record millions; every event kind keeps examples).  Usage:
validate_artifacts.py ADMITSIM SOURCE_DIR OUT_DIR"""
import glob
import json
import os
import subprocess
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("validate_artifacts: python3-jsonschema is missing (scripts/setup.sh installs it)")

admitsim, src, out = sys.argv[1:4]
schema = json.load(open(os.path.join(src, "results", "artifact.schema.json")))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
failed = 0
scenarios = sorted(glob.glob(os.path.join(src, "scenarios", "*.json")))
for path in scenarios:
    name = os.path.splitext(os.path.basename(path))[0]
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    subprocess.run([admitsim, "run", path, "--no-db", "--out", d, "--format", "json"], check=True,
                   stdout=subprocess.DEVNULL)
    for art in glob.glob(os.path.join(d, "*.json")):
        doc = json.load(open(art))
        for it in doc.get("iterations", []):
            if isinstance(it, dict) and isinstance(it.get("timeline"), list):
                seen = {}
                keep = []
                for ev in it["timeline"]:
                    kind = ev.get("event_kind") if isinstance(ev, dict) else None
                    seen[kind] = seen.get(kind, 0) + 1
                    if seen[kind] <= 50:
                        keep.append(ev)
                it["timeline"] = keep
        errors = list(validator.iter_errors(doc))
        for e in errors[:5]:
            print(f"{art}: {e.json_path}: {e.message[:300]}", file=sys.stderr)
        failed += bool(errors)
        os.remove(art)
print(f"validate_artifacts: {len(scenarios)} scenarios, {failed} invalid artifacts")
sys.exit(1 if failed or not scenarios else 0)
