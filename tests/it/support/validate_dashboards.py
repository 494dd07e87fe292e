#!/usr/bin/env python3
"""Validates Grafana dashboards: Grafana's JSON schema plus the project's own rules.

    python3 tests/it/support/validate_dashboards.py SCHEMA_DIR DASHBOARD.json...

Exit 0 when every dashboard passes; otherwise prints one line per problem and exits 1.

Checks, per dashboard:
- the whole document against dashboard.jsonschema.json (Draft 7);
- each panel's `options` and `fieldConfig.defaults.custom` against the schema of its
  panel type, and each target against prometheus.jsonschema.json (the dashboard schema
  leaves those open);
- provisioning style: no `__inputs`, every panel, target and query variable uses the
  datasource `{"type": "prometheus", "uid": "${datasource}"}` (no hard-coded uid), and a
  `datasource` variable of type `datasource` exists;
- stable identity: a uid of 8-40 characters [a-z0-9-], unique across the files, a title;
- the `job` and `account` variables exist and every Peloton query filters on both;
- panel ids unique, panels inside the 24-column grid and not overlapping, every panel
  has a title and a description, every target an expression and a unique refId.
"""

import json
import pathlib
import re
import sys

import jsonschema

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
UID = re.compile(r"^[a-z0-9-]{8,40}$")


def load_schema(schema_dir, name):
    path = schema_dir / f"{name}.jsonschema.json"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def sub_schema(schema, definition):
    """The schema of one definition, keeping the file's definitions for its $refs."""
    if schema is None or definition not in schema.get("definitions", {}):
        return None
    return {"$ref": f"#/definitions/{definition}", "definitions": schema["definitions"]}


def schema_errors(schema, instance, where):
    validator = jsonschema.Draft7Validator(schema)
    out = []
    for e in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        # A failed oneOf/anyOf reports the whole instance; the deepest sub-error says why.
        while e.context:
            e = max(e.context, key=lambda c: len(c.absolute_path))
        path = "/".join(str(p) for p in e.absolute_path)
        out.append(f"{where}/{path}: {e.message[:300]}")
    return out


def all_panels(dashboard):
    for p in dashboard.get("panels", []):
        yield p
        for inner in p.get("panels", []) if p.get("type") == "row" else []:
            yield inner


def check(schema_dir, path, seen_uids):
    problems = []
    name = path.name

    def bad(msg):
        problems.append(f"{name}: {msg}")

    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        bad(f"not JSON: {e}")
        return problems

    dash_schema = load_schema(schema_dir, "dashboard")
    prom_schema = load_schema(schema_dir, "prometheus")
    if dash_schema is None or prom_schema is None:
        bad(f"schema files missing in {schema_dir}")
        return problems
    problems += [f"{name}: {m}" for m in schema_errors(dash_schema, d, "")]

    if "__inputs" in d or "__requires" in d:
        bad("export-for-sharing keys (__inputs/__requires): commit provisioning style")
    uid = d.get("uid", "")
    if not UID.match(uid):
        bad(f"uid {uid!r} is not 8-40 characters of [a-z0-9-]")
    if uid in seen_uids:
        bad(f"uid {uid!r} also used by {seen_uids[uid]}")
    seen_uids[uid] = name
    if not d.get("title"):
        bad("no title")

    variables = {v.get("name"): v for v in d.get("templating", {}).get("list", [])}
    ds_var = variables.get("datasource")
    if not ds_var or ds_var.get("type") != "datasource" or ds_var.get("query") != "prometheus":
        bad("no `datasource` variable of type datasource for prometheus")
    for required in ("job", "account"):
        if required not in variables:
            bad(f"no `{required}` variable")
    for v in variables.values():
        if v.get("type") == "query" and v.get("datasource") != DATASOURCE:
            bad(f"variable {v.get('name')}: datasource must be {DATASOURCE}")

    ids = {}
    cells = {}
    for p in all_panels(d):
        title = p.get("title", "?")
        where = f"panel {p.get('id')} {title!r}"
        if p.get("id") in ids:
            bad(f"{where}: id also used by {ids[p.get('id')]!r}")
        ids[p.get("id")] = title
        grid = p.get("gridPos") or {}
        x, y, w, h = (grid.get(k, 0) for k in ("x", "y", "w", "h"))
        if x + w > 24:
            bad(f"{where}: gridPos x+w = {x + w} > 24")
        for cx in range(x, min(x + w, 24)):
            for cy in range(y, y + h):
                if (cx, cy) in cells:
                    bad(f"{where}: overlaps {cells[(cx, cy)]!r} at x={cx} y={cy}")
                    break
                cells[(cx, cy)] = title
            else:
                continue
            break
        if p.get("type") == "row":
            continue
        if not p.get("title"):
            bad(f"{where}: no title")
        if not p.get("description"):
            bad(f"{where}: no description")
        if p.get("datasource") != DATASOURCE:
            bad(f"{where}: datasource must be {DATASOURCE}, is {p.get('datasource')}")

        kind = p.get("type", "")
        kind_schema = load_schema(schema_dir, kind)
        if kind_schema is None:
            bad(f"{where}: no schema for panel type {kind!r} in {schema_dir}")
        else:
            options = sub_schema(kind_schema, "Options")
            if options is not None:
                problems += [f"{name}: {m}" for m in
                             schema_errors(options, p.get("options", {}), f"{where} options")]
            custom = p.get("fieldConfig", {}).get("defaults", {}).get("custom")
            custom_schema = sub_schema(kind_schema, "FieldConfig")
            if custom_schema is not None and custom is not None:
                problems += [f"{name}: {m}" for m in
                             schema_errors(custom_schema, custom, f"{where} custom")]
            elif custom_schema is None and custom:
                bad(f"{where}: panel type {kind} has no custom field config")

        targets = p.get("targets", [])
        if not targets:
            bad(f"{where}: no targets")
        refs = set()
        for t in targets:
            problems += [f"{name}: {m}" for m in
                         schema_errors(sub_schema(prom_schema, "Dataquery"), t,
                                       f"{where} target {t.get('refId')}")]
            if t.get("datasource") != DATASOURCE:
                bad(f"{where}: target datasource must be {DATASOURCE}")
            if not t.get("expr", "").strip():
                bad(f"{where}: empty expr")
            if t.get("refId") in refs:
                bad(f"{where}: refId {t.get('refId')} twice")
            refs.add(t.get("refId"))
            expr = t.get("expr", "")
            # The exporter's own build and reload status carry no account label.
            exporter_level = ("exporter_build_info", "peloton_config_")
            if "peloton_" in expr and not any(x in expr for x in exporter_level):
                if '$job' not in expr or '$account' not in expr:
                    bad(f"{where}: query does not filter on $job and $account: {expr}")
    if not ids:
        bad("no panels")
    return problems


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    schema_dir = pathlib.Path(argv[0])
    seen = {}
    problems = []
    count = 0
    for arg in argv[1:]:
        problems += check(schema_dir, pathlib.Path(arg), seen)
        count += 1
    for p in problems:
        print(p)
    print(f"{count} dashboards, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
