#!/usr/bin/env python3
"""Lists the PromQL of the dashboards or of the rule files, as JSON, for tests.

    python3 tests/it/support/promql_queries.py dashboards [--range D] [--rate-interval D]
                                            [--interval D] FILE.json...
    python3 tests/it/support/promql_queries.py rules FILE.yml...
    python3 tests/it/support/promql_queries.py home-assistant FILE.md...
    python3 tests/it/support/promql_queries.py parse EXPR

Prints a JSON array with one object per query:
  source   "<file> / <panel title> / <refId>", "<file> / variable <name>", or
           "<file> / <group> / <record or alert name>"
  expr     the expression as written
  query    the expression to run: Grafana variables substituted (`$job` and `$account`
           become `.*`, `$__range` and friends the durations given, `${__to:date:FMT}`
           the current UTC date)
  metrics  metric names the query selects (from the parsed syntax tree)
  history  true when the query reads a range of samples (`[...]` or a subquery) or a
           recording rule's output, so it needs more than the last scrape
  error    why the query does not parse (absent when it does)
  kind     home-assistant mode: the Home Assistant domain, `sensor` or `binary_sensor`

`home-assistant` reads the ```yaml blocks of Markdown files (each must be valid YAML) and
lists the `expr` of every query of a `prometheus_sensor` platform (the HACS "Prometheus
Sensor" integration), with source "<file> / <domain> / <query name>". Keys the
integration does not know, a missing name or expr, and an `expr:` line outside such a
query are reported as errors.

`parse EXPR` exits 1 and prints the parser's message when EXPR is not valid PromQL.
The parser is promql-parser (PyPI), bindings to the Rust PromQL parser.
"""

import datetime
import json
import pathlib
import re
import sys
import textwrap

import promql_parser


def metrics_of(expr):
    """(metric names, reads history) of a parsed expression."""
    names = []
    history = [False]

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector):
            name = node.name
            if not name:
                for m in node.matchers.matchers:
                    if m.name == "__name__":
                        name = m.value
            if name and name not in names:
                names.append(name)
        if isinstance(node, (promql_parser.MatrixSelector, promql_parser.SubqueryExpr)):
            history[0] = True
        return True

    promql_parser.walk(expr, visit)
    if any(":" in n for n in names):
        history[0] = True
    return names, history[0]


def describe(source, expr, query):
    out = {"source": source, "expr": expr, "query": query, "metrics": [], "history": False}
    leftover = re.findall(r"\$\{?[A-Za-z_][A-Za-z0-9_:.\-]*\}?|\[\[[^\]]*\]\]", query)
    if leftover:
        out["error"] = f"unsubstituted Grafana variable(s): {', '.join(leftover)}"
        return out
    try:
        parsed = promql_parser.parse(query)
    except ValueError as e:
        out["error"] = f"does not parse: {e}"
        return out
    out["metrics"], out["history"] = metrics_of(parsed)
    return out


MOMENT = [("YYYY", "%Y"), ("MM", "%m"), ("DD", "%d"), ("HH", "%H"), ("mm", "%M")]


def grafana_date(fmt, when):
    for token, strf in MOMENT:
        fmt = fmt.replace(token, strf)
    return when.strftime(fmt)


def substitute(expr, durations, now):
    def date(m):
        return grafana_date(m.group(1), now)

    expr = re.sub(r"\$\{__(?:to|from):date:([^}]+)\}", date, expr)
    values = {"job": ".*", "account": ".*", **durations}
    # Longest names first so that $__range does not eat $__range_s.
    for name in sorted(values, key=len, reverse=True):
        value = values[name]
        expr = expr.replace("${" + name + "}", value).replace("[[" + name + "]]", value)
        expr = re.sub(r"\$" + re.escape(name) + r"(?![A-Za-z0-9_])", lambda _m, v=value: v,
                      expr)
    return expr


def all_panels(dashboard):
    for p in dashboard.get("panels", []):
        yield p
        yield from p.get("panels", [])


LABEL_VALUES = re.compile(r"^\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$")


def dashboards(files, durations):
    now = datetime.datetime.now(datetime.timezone.utc)
    out = []
    for f in files:
        d = json.loads(pathlib.Path(f).read_text(encoding="utf-8"))
        name = pathlib.Path(f).name
        for v in d.get("templating", {}).get("list", []):
            if v.get("type") != "query":
                continue
            query = v.get("query", "")
            query = query.get("query", "") if isinstance(query, dict) else query
            m = LABEL_VALUES.match(query)
            if not m:
                out.append({"source": f"{name} / variable {v.get('name')}", "expr": query,
                            "query": query, "metrics": [], "history": False,
                            "error": "variable query is not label_values(selector, label)"})
                continue
            selector = m.group(1)
            out.append(describe(f"{name} / variable {v.get('name')}", query,
                                substitute(selector, durations, now)))
        for p in all_panels(d):
            for t in p.get("targets", []):
                expr = t.get("expr", "")
                src = f"{name} / {p.get('title')} / {t.get('refId')}"
                out.append(describe(src, expr, substitute(expr, durations, now)))
    return out


def rules(files):
    import yaml  # PyYAML; only this mode needs it

    out = []
    for f in files:
        doc = yaml.safe_load(pathlib.Path(f).read_text(encoding="utf-8"))
        name = pathlib.Path(f).name
        for group in doc.get("groups", []):
            for rule in group.get("rules", []):
                what = rule.get("record") or rule.get("alert")
                expr = str(rule.get("expr", ""))
                d = describe(f"{name} / {group.get('name')} / {what}", expr, expr)
                d["record"] = rule.get("record")
                out.append(d)
    return out


# The "Prometheus Sensor" integration (HACS, mweinelt/ha-prometheus-sensor, 1.3.0): the
# keys of a platform entry and of its queries, per domain.
HA_PLATFORM = "prometheus_sensor"
HA_PLATFORM_KEYS = {"platform", "url", "headers", "queries", "scan_interval"}
HA_QUERY_KEYS = {
    "sensor": {"name", "unique_id", "expr", "unit_of_measurement", "device_class",
               "state_class"},
    "binary_sensor": {"name", "unique_id", "expr", "value_template", "device_class"},
}
HA_STATE_CLASSES = {"measurement", "total", "total_increasing"}
YAML_BLOCK = re.compile(r"^[ \t]*```ya?ml[ \t]*\n(.*?)^[ \t]*```", re.S | re.M)
EXPR_LINE = re.compile(r"^\s*(?:-\s+)?expr\s*:", re.M)


def home_assistant(files):
    import yaml  # PyYAML

    out = []
    for f in files:
        name = pathlib.Path(f).name
        text = pathlib.Path(f).read_text(encoding="utf-8")

        def bad(where, msg):
            out.append({"source": f"{name} / {where}", "expr": "", "query": "",
                        "metrics": [], "history": False, "error": msg})

        found = 0
        for i, block in enumerate(YAML_BLOCK.findall(text), start=1):
            try:
                doc = yaml.safe_load(textwrap.dedent(block))
            except yaml.YAMLError as e:
                bad(f"yaml block {i}", f"not valid YAML: {e}")
                continue
            for domain, entries in doc.items() if isinstance(doc, dict) else []:
                if domain not in HA_QUERY_KEYS or not isinstance(entries, list):
                    continue
                for entry in entries:
                    if not isinstance(entry, dict) or entry.get("platform") != HA_PLATFORM:
                        continue
                    unknown = set(entry) - HA_PLATFORM_KEYS
                    if unknown or "url" not in entry or not entry.get("queries"):
                        bad(f"{domain} platform", f"keys {sorted(entry)}: needs url and "
                            f"queries, knows {sorted(HA_PLATFORM_KEYS)}")
                    for query in entry.get("queries") or []:
                        found += 1
                        where = f"{domain} / {query.get('name')}"
                        expr = str(query.get("expr", ""))
                        d = describe(f"{name} / {where}", expr, expr)
                        d["kind"] = domain
                        unknown = set(query) - HA_QUERY_KEYS[domain]
                        state_class = query.get("state_class", "measurement")
                        if unknown:
                            d["error"] = f"keys the integration does not know: {sorted(unknown)}"
                        elif not query.get("name") or not expr.strip():
                            d["error"] = "a query needs a name and an expr"
                        elif state_class not in HA_STATE_CLASSES:
                            d["error"] = f"state_class {state_class!r} is not one of Home " \
                                         f"Assistant's {sorted(HA_STATE_CLASSES)}"
                        out.append(d)
        lines = sum(len(EXPR_LINE.findall(b)) for b in YAML_BLOCK.findall(text))
        if lines != found:
            bad("expr lines", f"{lines} `expr:` lines in yaml blocks but {found} queries of "
                f"{HA_PLATFORM} platforms: an expression the test would not check")
    return out


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    mode, rest = argv[0], argv[1:]
    if mode == "parse":
        try:
            promql_parser.parse(" ".join(rest))
        except ValueError as e:
            print(e)
            return 1
        return 0
    durations = {"__range": "1h", "__rate_interval": "1m", "__interval": "15s"}
    files = []
    it = iter(rest)
    for a in it:
        if a in ("--range", "--rate-interval", "--interval"):
            durations["__" + a[2:].replace("-", "_")] = next(it)
        else:
            files.append(a)
    durations["__range_s"] = str(int(promql_parser.parse_duration(durations["__range"])
                                     .total_seconds()))
    durations["__range_ms"] = durations["__range_s"] + "000"
    if mode == "dashboards":
        result = dashboards(files, durations)
    elif mode == "rules":
        result = rules(files)
    elif mode == "home-assistant":
        result = home_assistant(files)
    else:
        print(__doc__)
        return 2
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
