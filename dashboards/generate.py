#!/usr/bin/env python3
"""Writes the Grafana dashboards in this folder (the JSON files are its output).

    python3 dashboards/generate.py          # rewrite dashboards/*.json
    python3 dashboards/generate.py --check  # exit 1 if a JSON file differs from its source here

Edit this file, not the JSON: `cargo test --test it dashboards::` fails while the two differ.
The dashboards are provisioning style (no `__inputs`, every datasource is the
`${datasource}` variable), so they load unattended through dashboards/provisioning/ and
validate against Grafana's dashboard JSON schema (tests/it/support/grafana-schema/).

Metric names are those of the catalogue (docs/metrics.md). Heavy history panels read the
recording rules of deploy/prometheus/rules/recording.yml (names with colons).
"""

import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
SCHEMA_VERSION = 39
DS = {"type": "prometheus", "uid": "${datasource}"}
# Every Peloton query is restricted by these two variables. With one account the exporter
# writes no `account` label, `$account` is then "All" = `.*`, which matches the empty label.
SEL = 'job=~"$job", account=~"$account"'
# The scrape job everywhere: README, deploy/ (Prometheus, compose, Kubernetes), the rules.
# tests/it/job_name.rs fails when one of them says otherwise.
JOB = "peloton-exporter"


def sel(*extra):
    return "{" + ", ".join((SEL,) + extra) + "}"


def readable(expr):
    """Peloton's internal discipline slugs, renamed for legends (`caesar` is the Row)."""
    expr = f'label_replace({expr}, "discipline", "row$1", "discipline", "caesar(.*)")'
    return f'label_replace({expr}, "discipline", "tread_bootcamp", "discipline", "circuit")'


# --- field config ------------------------------------------------------------------------


def steps(*pairs):
    """Threshold steps: a base colour, then (value, colour) pairs."""
    base, rest = pairs[0], pairs[1:]
    out = [{"color": base, "value": None}]
    out += [{"color": c, "value": v} for v, c in rest]
    return {"mode": "absolute", "steps": out}


def field(unit="short", decimals=None, thresholds=None, color=None, mappings=None,
          custom=None, min_=None, max_=None, no_value=None):
    d = {
        "unit": unit,
        "color": color or {"mode": "thresholds"},
        "thresholds": thresholds or steps("blue"),
        "mappings": mappings or [],
    }
    if decimals is not None:
        d["decimals"] = decimals
    if min_ is not None:
        d["min"] = min_
    if max_ is not None:
        d["max"] = max_
    if no_value is not None:
        d["noValue"] = no_value
    if custom is not None:
        d["custom"] = custom
    return d


# Zones 1..5 as shades of one colour. (Per-series colours would need field overrides,
# whose string-valued matchers the dashboard schema rejects.)
ZONE_COLOR = {"mode": "shades", "fixedColor": "red"}


def value_map(mapping):
    return {
        "type": "value",
        "options": {
            k: {"text": text, "color": color, "index": i}
            for i, (k, (text, color)) in enumerate(mapping.items())
        },
    }


HIDE_FROM = {"legend": False, "tooltip": False, "viz": False}

# --- targets -----------------------------------------------------------------------------


def q(expr, legend="__auto", ref="A", instant=False, fmt="time_series", interval=None):
    t = {
        "datasource": DS,
        "editorMode": "code",
        "expr": expr,
        "format": fmt,
        "instant": instant,
        "legendFormat": legend,
        "range": not instant,
        "refId": ref,
    }
    if interval:
        t["interval"] = interval
    return t


# --- panels --------------------------------------------------------------------------------


class Layout:
    """Hands out panel ids and grid positions row by row."""

    def __init__(self):
        self.panels = []
        self.next_id = 1
        self.y = 0
        self.x = 0
        self.row_h = 0

    def _id(self):
        i = self.next_id
        self.next_id += 1
        return i

    def row(self, title):
        self.newline()
        self.panels.append({
            "type": "row", "id": self._id(), "title": title, "collapsed": False,
            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": [],
        })
        self.y += 1

    def newline(self):
        if self.x:
            self.y += self.row_h
        self.x = 0
        self.row_h = 0

    def add(self, panel, w, h):
        if self.x + w > 24:
            self.newline()
        panel["id"] = self._id()
        panel["gridPos"] = {"h": h, "w": w, "x": self.x, "y": self.y}
        self.x += w
        self.row_h = max(self.row_h, h)
        if self.x == 24:
            self.newline()
        self.panels.append(panel)
        return panel


def panel(kind, title, description, targets, defaults, options, overrides=None, **extra):
    p = {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DS,
        "targets": targets,
        "fieldConfig": {"defaults": defaults, "overrides": overrides or []},
        "options": options,
    }
    p.update(extra)
    return p


def reduce_last(values=False, fields=""):
    return {"values": values, "calcs": ["lastNotNull"], "fields": fields}


def stat(title, description, targets, defaults, graph=True, text_mode="auto",
         color_mode="value", **extra):
    options = {
        "reduceOptions": reduce_last(),
        "orientation": "auto",
        "textMode": text_mode,
        "wideLayout": True,
        "colorMode": color_mode,
        "graphMode": "area" if graph else "none",
        "justifyMode": "auto",
        "showPercentChange": False,
        "percentChangeColorMode": "standard",
    }
    return panel("stat", title, description, targets, defaults, options, **extra)


def legend(placement="bottom", calcs=None, mode="list"):
    return {"displayMode": mode, "placement": placement, "showLegend": True,
            "calcs": calcs or []}


def graph_custom(style="line", stacked=False, fill=10, interpolation="linear",
                 thresholds_style="off", soft_min=0):
    c = {
        "drawStyle": style,
        "lineWidth": 1 if style == "bars" else 2,
        "fillOpacity": 80 if style == "bars" else fill,
        "gradientMode": "none",
        "lineInterpolation": interpolation,
        "showPoints": "never",
        "pointSize": 4,
        "spanNulls": False,
        "axisPlacement": "auto",
        "axisSoftMin": soft_min,
        "barAlignment": -1,
        "stacking": {"mode": "normal" if stacked else "none", "group": "A"},
        "thresholdsStyle": {"mode": thresholds_style},
        "hideFrom": HIDE_FROM,
    }
    return c


def timeseries(title, description, targets, defaults, style="line", stacked=False,
               legend_opts=None, overrides=None, interpolation="linear",
               thresholds_style="off", **extra):
    defaults = dict(defaults)
    defaults.setdefault("custom", graph_custom(style, stacked, interpolation=interpolation,
                                               thresholds_style=thresholds_style))
    if defaults["color"] == {"mode": "thresholds"}:
        defaults["color"] = {"mode": "palette-classic"}
    options = {"legend": legend_opts or legend(), "tooltip": {"mode": "multi", "sort": "desc"}}
    return panel("timeseries", title, description, targets, defaults, options,
                 overrides=overrides, **extra)


def bargauge(title, description, targets, defaults, values=False, **extra):
    options = {
        "displayMode": "gradient",
        "valueMode": "color",
        "namePlacement": "auto",
        "showUnfilled": True,
        "sizing": "auto",
        "minVizWidth": 8,
        "minVizHeight": 16,
        "maxVizHeight": 300,
        "legend": {"displayMode": "list", "placement": "bottom", "showLegend": False,
                   "calcs": []},
        "reduceOptions": reduce_last(values=values, fields="/^Value$/" if values else ""),
        "orientation": "horizontal",
    }
    return panel("bargauge", title, description, targets, defaults, options, **extra)


def gauge(title, description, targets, defaults, **extra):
    options = {
        "showThresholdLabels": False,
        "showThresholdMarkers": True,
        "sizing": "auto",
        "minVizWidth": 75,
        "minVizHeight": 75,
        "reduceOptions": reduce_last(),
        "orientation": "auto",
    }
    return panel("gauge", title, description, targets, defaults, options, **extra)


def piechart(title, description, targets, defaults, overrides=None, **extra):
    defaults = dict(defaults)
    defaults["custom"] = {"hideFrom": HIDE_FROM}
    defaults["color"] = {"mode": "palette-classic"}
    options = {
        "pieType": "donut",
        "displayLabels": ["percent"],
        "tooltip": {"mode": "single", "sort": "none"},
        "reduceOptions": reduce_last(),
        "legend": {"values": ["value", "percent"], "displayMode": "table",
                   "placement": "right", "showLegend": True, "calcs": []},
        "orientation": "auto",
    }
    return panel("piechart", title, description, targets, defaults, options,
                 overrides=overrides, **extra)


def barchart(title, description, targets, defaults, x_field, **extra):
    defaults = dict(defaults)
    defaults["custom"] = {
        "lineWidth": 1, "fillOpacity": 80, "gradientMode": "none", "axisPlacement": "auto",
        "axisSoftMin": 0, "hideFrom": HIDE_FROM, "thresholdsStyle": {"mode": "off"},
    }
    options = {
        "xField": x_field,
        "orientation": "vertical",
        "xTickLabelRotation": -45,
        "xTickLabelMaxLength": 8,
        "xTickLabelSpacing": 0,
        "stacking": "none",
        "showValue": "auto",
        "barWidth": 0.9,
        "groupWidth": 0.7,
        "fullHighlight": False,
        "legend": {"displayMode": "list", "placement": "bottom", "showLegend": False,
                   "calcs": []},
        "tooltip": {"mode": "single", "sort": "none"},
    }
    return panel("barchart", title, description, targets, defaults, options, **extra)


def table(title, description, targets, defaults, sort_by=None, **extra):
    defaults = dict(defaults)
    defaults["custom"] = {"align": "auto", "inspect": False, "filterable": False}
    options = {"frameIndex": 0, "showHeader": True, "cellHeight": "sm",
               "footer": {"show": False, "reducer": ["sum"], "countRows": False}}
    if sort_by:
        options["sortBy"] = [{"displayName": sort_by, "desc": False}]
    return panel("table", title, description, targets, defaults, options, **extra)


def heatmap(title, description, targets, defaults, **extra):
    defaults = dict(defaults)
    defaults["custom"] = {"scaleDistribution": {"type": "linear"}, "hideFrom": HIDE_FROM}
    options = {
        "calculate": False,
        "cellGap": 2,
        "color": {"mode": "scheme", "scheme": "Greens", "fill": "dark-green", "scale":
                  "exponential", "exponent": 0.5, "steps": 16, "reverse": False, "min": 0},
        "filterValues": {"le": 1e-09},
        "rowsFrame": {"layout": "auto"},
        "showValue": "never",
        "cellValues": {"unit": "short", "decimals": 0},
        "yAxis": {"axisPlacement": "left", "reverse": True},
        "legend": {"show": True},
        "tooltip": {"mode": "single", "yHistogram": False, "showColorScale": False},
        "exemplars": {"color": "rgba(255,0,255,0.7)"},
        "selectionMode": "x",
    }
    return panel("heatmap", title, description, targets, defaults, options, **extra)


# --- dashboards --------------------------------------------------------------------------


def variables():
    return [
        {
            "type": "datasource", "name": "datasource", "label": "Data source",
            "query": "prometheus", "refresh": 1, "regex": "", "hide": 0,
            "current": {"text": "default", "value": "default"},
            "description": "The Prometheus that scrapes peloton-exporter.",
        },
        {
            "type": "query", "name": "job", "label": "Job", "datasource": DS,
            "query": "label_values(peloton_up, job)",
            "definition": "label_values(peloton_up, job)",
            "refresh": 2, "sort": 1, "includeAll": False, "multi": False,
            "hide": 0, "regex": "",
            "current": {"text": JOB, "value": JOB},
            "description": f"Scrape job of peloton-exporter ({JOB} by default, as in deploy/).",
        },
        {
            "type": "query", "name": "account", "label": "Account", "datasource": DS,
            "query": 'label_values(peloton_up{job=~"$job"}, account)',
            "definition": 'label_values(peloton_up{job=~"$job"}, account)',
            "refresh": 2, "sort": 1, "includeAll": True, "allValue": ".*", "multi": False,
            "current": {"text": "All", "value": "$__all"}, "hide": 0, "regex": "",
            "description": "Account, when the exporter serves several (--config.file). With one "
                           "account there is no account label and All is the only choice; "
                           "with several, All adds the accounts up.",
        },
    ]


def dashboard(uid, title, description, layout, time_from, refresh, tags=()):
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["peloton", *tags],
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "weekStart": "monday",
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "time": {"from": time_from, "to": "now"},
        "timepicker": {},
        "refresh": refresh,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "links": [{
            "title": "Peloton", "type": "dashboards", "tags": ["peloton"], "asDropdown": True,
            "icon": "external link", "tooltip": "", "targetBlank": False,
            "includeVars": True, "keepTime": True,
        }],
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts", "type": "dashboard",
        }]},
        "templating": {"list": variables()},
        "panels": layout.panels,
    }


# Grafana formats ${__to:date:...} with the browser's time zone.
THIS_MONTH = 'month="${__to:date:YYYY-MM}"'
THIS_YEAR = 'month=~"${__to:date:YYYY}-.*"'
NOT_2XX = 'code!~"2.."'
KCAL = 4184  # joules per kilocalorie: Peloton's "calories" are kcal
KM = 1000
MI = 1609.344


def overview():
    L = Layout()
    L.row("Lifetime")
    L.add(stat(
        "Workouts", "Completed workouts, all disciplines (Peloton's own count).",
        [q(f"sum(peloton_workouts_total{sel()})", "Workouts")],
        field("short", 0, color={"mode": "fixed", "fixedColor": "blue"})), 4, 5)
    L.add(stat(
        "Total output", "Total output of every completed workout (Peloton's kJ, shown in "
        "SI steps: 1 MJ = 1,000 kJ).",
        [q(f"sum(peloton_output_joules_total{sel()})", "Output")],
        field("joule", 1, color={"mode": "fixed", "fixedColor": "orange"})), 4, 5)
    L.add(stat(
        "Time trained", "Time spent in completed workouts, in hours.",
        [q(f"sum(peloton_workout_duration_seconds_total{sel()}) / 3600", "Time")],
        field("suffix:h", 0, color={"mode": "fixed", "fixedColor": "purple"})), 4, 5)
    L.add(stat(
        "Distance", "Distance of completed workouts (bike, tread, row, outdoor).",
        [q(f"sum(peloton_distance_meters_total{sel()}) / {KM}", "km", "A"),
         q(f"sum(peloton_distance_meters_total{sel()}) / {MI}", "mi", "B")],
        field("short", 0, color={"mode": "fixed", "fixedColor": "green"}),
        text_mode="value_and_name"), 4, 5)
    L.add(stat(
        "Calories", "Peloton's calorie estimate of completed workouts, in kcal.",
        [q(f"sum(peloton_energy_burned_joules_total{sel()}) / {KCAL}", "Calories")],
        field("suffix:kcal", 0, color={"mode": "fixed", "fixedColor": "red"})), 4, 5)
    L.add(stat(
        "Achievements", "Badges earned on Peloton.",
        [q(f"sum(peloton_achievements_total{sel()})", "Achievements")],
        field("short", 0, color={"mode": "fixed", "fixedColor": "yellow"})), 4, 5)

    L.row("This week, month and year · streaks")
    L.add(stat(
        "Workouts this week", "Workouts completed since Monday 00:00 (browser time). Red "
        "while there is none: the weekly streak needs one workout per week (Monday to "
        "Sunday).",
        [q(f"sum(round(increase(peloton_workouts_total{sel()}[$__range])))", "This week",
           instant=True)],
        field("short", 0, steps("red", (1, "green"))), graph=False,
        timeFrom="now/w"), 4, 4)
    L.add(stat(
        "Workouts this month", "Workouts in the current calendar month, from Peloton's "
        "monthly summary (exact, no Prometheus history needed).",
        [q(f"sum(peloton_workouts_by_month{sel(THIS_MONTH)}) or vector(0)", "This month",
           instant=True)],
        field("short", 0, color={"mode": "fixed", "fixedColor": "blue"}), graph=False), 4, 4)
    L.add(stat(
        "Workouts this year", "Workouts in the current calendar year, from Peloton's "
        "monthly summary.",
        [q(f"sum(peloton_workouts_by_month{sel(THIS_YEAR)}) or vector(0)", "This year",
           instant=True)],
        field("short", 0, color={"mode": "fixed", "fixedColor": "blue"}), graph=False), 4, 4)
    L.add(stat(
        "Weekly streak", "Consecutive weeks (Monday to Sunday) with at least one workout.",
        [q(f"max(peloton_weekly_streak{sel()})", "Weekly streak")],
        field("suffix:weeks", 0, steps("red", (1, "green")))), 4, 4)
    L.add(stat(
        "Best weekly streak", "Longest weekly streak ever, the running one included.",
        [q(f"max(peloton_weekly_streak_best{sel()})", "Best")],
        field("suffix:weeks", 0, color={"mode": "fixed", "fixedColor": "purple"})), 4, 4)
    L.add(stat(
        "Daily streak", "Consecutive days with at least one workout.",
        [q(f"max(peloton_daily_streak{sel()})", "Daily streak")],
        field("suffix:days", 0, steps("text", (1, "green")))), 4, 4)

    L.row("Training")
    L.add(timeseries(
        "Workouts per week", "Completed workouts in the 7 days before each bar, by "
        "discipline (recording rule discipline:peloton_workouts:increase1w; Prometheus "
        "aligns weekly steps to the Unix epoch, so bars fall on Thursdays 00:00 UTC).",
        [q(readable(f"sum by (discipline) (discipline:peloton_workouts:increase1w{sel()})"),
           "{{discipline}}", interval="1w")],
        field("short", 0), style="bars", stacked=True, interval="1w"), 12, 9)
    L.add(heatmap(
        "Training calendar", "Workouts per day and discipline: one cell per day (UTC), "
        "darker is more (recording rule discipline:peloton_workouts:increase1d). Empty "
        "days stay blank.",
        [q(readable(f"sum by (discipline) (discipline:peloton_workouts:increase1d{sel()})"),
           "{{discipline}}", interval="1d")],
        field("short", 0), interval="1d"), 12, 9)
    L.add(timeseries(
        "Output per week", "Total output in the 7 days before each bar, by discipline.",
        [q(readable("sum by (discipline) "
                    f"(discipline:peloton_output_joules:increase1w{sel()})"),
           "{{discipline}}", interval="1w")],
        field("joule"), style="bars", stacked=True, interval="1w"), 8, 8)
    L.add(timeseries(
        "Distance per week", "Distance in the 7 days before each bar, by discipline, in "
        "km.",
        [q(readable("sum by (discipline) "
                    f"(discipline:peloton_distance_meters:increase1w{sel()}) / {KM}"),
           "{{discipline}}", interval="1w")],
        field("suffix:km", 1), style="bars", stacked=True, interval="1w"), 8, 8)
    L.add(timeseries(
        "Time per week", "Time spent working out in the 7 days before each bar, by "
        "discipline.",
        [q(readable("sum by (discipline) "
                    f"(discipline:peloton_workout_duration_seconds:increase1w{sel()})"),
           "{{discipline}}", interval="1w")],
        field("s"), style="bars", stacked=True, interval="1w"), 8, 8)

    L.row("Disciplines, instructors and records")
    L.add(piechart(
        "Time per discipline", "Share of all time trained, by discipline (lifetime).",
        [q(readable("sum by (discipline) "
                    f"(peloton_workout_duration_seconds_total{sel()})"),
           "{{discipline}}", instant=True)],
        field("dtdurations")), 8, 9)
    L.add(bargauge(
        "Workouts per discipline", "Completed workouts per discipline (lifetime).",
        [q(readable(f"sum by (discipline) (peloton_workouts_total{sel()})"),
           "{{discipline}}", instant=True, fmt="table")],
        field("short", 0, color={"mode": "continuous-BlPu"}), values=True,
        transformations=[{"id": "sortBy", "options": {
            "fields": {}, "sort": [{"field": "Value", "desc": True}]}}]), 8, 9)
    L.add(bargauge(
        "Top instructors", "The ten instructors with the most completed classes "
        "(lifetime).",
        [q(f"topk(10, sum by (instructor) (peloton_instructor_workouts_total{sel()}))",
           "{{instructor}}", instant=True, fmt="table")],
        field("short", 0, color={"mode": "continuous-GrYlRd"}), values=True,
        transformations=[{"id": "sortBy", "options": {
            "fields": {}, "sort": [{"field": "Value", "desc": True}]}}]), 8, 9)
    lengths = {f"{m * 60:04d}": (f"{m} min", "text")
               for m in (5, 10, 15, 20, 30, 45, 60, 75, 90, 120)}
    pr_expr = ("max by (discipline, class_length) ("
               'label_replace(label_replace('
               f"peloton_personal_record_output_joules{sel()}, "
               '"class_length", "0$1", "duration_seconds", "([0-9]{3})"), '
               '"class_length", "$1", "duration_seconds", "([0-9]{4,})"))')
    L.add(table(
        "Personal records by class length", "Best total output per class length and "
        "discipline, as Peloton shows them on the profile.",
        [q(readable(pr_expr), "", instant=True, fmt="table")],
        field("joule", 1, mappings=[value_map(lengths)]),
        sort_by="Class length",
        transformations=[{"id": "organize", "options": {
            "excludeByName": {"Time": True},
            "indexByName": {"class_length": 0, "discipline": 1, "Value": 2},
            "renameByName": {"class_length": "Class length", "discipline": "Discipline",
                             "Value": "Best output"},
        }}]), 12, 9)
    L.add(piechart(
        "Heart-rate zones", "Time in each heart-rate zone over all workouts with a "
        "heart-rate monitor (lifetime).",
        [q(f"sum by (zone) (peloton_heart_rate_zone_seconds_total{sel()})", "Zone {{zone}}",
           instant=True)],
        field("dtdurations", color=ZONE_COLOR)), 12, 9)
    L.add(timeseries(
        "Heart-rate zones per week", "Time in each heart-rate zone in the 7 days before "
        "each bar.",
        [q(f"sum by (zone) (zone:peloton_heart_rate_zone_seconds:increase1w{sel()})",
           "Zone {{zone}}", interval="1w")],
        field("s", color=ZONE_COLOR), style="bars", stacked=True, interval="1w"), 12, 8)
    L.add(barchart(
        "Workouts per month", "Workouts per calendar month, from Peloton's monthly "
        "summary: complete from the first workout on, without Prometheus history.",
        [q(f"sum by (month) (peloton_workouts_by_month{sel()})", "{{month}}",
           instant=True, fmt="table")],
        field("short", 0, color={"mode": "fixed", "fixedColor": "blue"}), "month",
        transformations=[
            {"id": "sortBy", "options": {"fields": {}, "sort": [{"field": "month"}]}},
            {"id": "organize", "options": {"excludeByName": {"Time": True},
                                           "renameByName": {"Value": "Workouts"}}},
        ]), 12, 8)

    L.row("Profile")
    L.add(stat(
        "Cycling FTP", "Functional threshold power Peloton knows, by source (workout = "
        "from an FTP test, manual, estimated).",
        [q(f"max by (source) (peloton_cycling_ftp_watts{sel()})", "{{source}}")],
        field("watt", 0, color={"mode": "fixed", "fixedColor": "orange"}),
        text_mode="value_and_name"), 8, 4)
    L.add(stat(
        "Followers", "Members following this account.",
        [q(f"sum(peloton_user_followers{sel()})", "Followers")],
        field("short", 0, color={"mode": "fixed", "fixedColor": "text"})), 4, 4)
    L.add(stat(
        "Following", "Members this account follows.",
        [q(f"sum(peloton_user_following{sel()})", "Following")],
        field("short", 0, color={"mode": "fixed", "fixedColor": "text"})), 4, 4)
    L.add(stat(
        "Member", "Peloton username of the account.",
        [q(f"max by (username) (peloton_user_info{sel()})", "{{username}}", instant=True)],
        field("short", color={"mode": "fixed", "fixedColor": "text"}), graph=False,
        text_mode="name", color_mode="none"), 8, 4)
    return dashboard(
        "peloton-overview", "Peloton overview",
        "Lifetime totals, streaks, weekly training and records of a Peloton member "
        "(peloton-exporter).", L, "now-90d", "5m")


def latest():
    def qi(*args, **kwargs):
        """Instant: an absent metric must show as absent, not as an older class's value."""
        return q(*args, instant=True, **kwargs)

    L = Layout()
    L.row("Class")
    L.add(stat(
        "Class", "Title of the last completed class.",
        [qi(f"max by (title) (peloton_latest_workout_info{sel()})", "{{title}}")],
        field("short", color={"mode": "fixed", "fixedColor": "text"}), graph=False,
        text_mode="name", color_mode="none"), 8, 4)
    L.add(stat(
        "Instructor", "Instructor of the last completed class (blank for a class without "
        "one, e.g. Just Ride).",
        [qi(f"max by (instructor) (peloton_latest_workout_info{sel()})", "{{instructor}}")],
        field("short", color={"mode": "fixed", "fixedColor": "text"}), graph=False,
        text_mode="name", color_mode="none"), 5, 4)
    L.add(stat(
        "Discipline", "Discipline and device of the last completed class.",
        [qi(readable("max by (discipline, device_type) "
                    f"(peloton_latest_workout_info{sel()})"),
           "{{discipline}} · {{device_type}}")],
        field("short", color={"mode": "fixed", "fixedColor": "text"}), graph=False,
        text_mode="name", color_mode="none"), 4, 4)
    L.add(stat(
        "Finished", "When the last class ended.",
        [qi(f"max(peloton_latest_workout_end_timestamp_seconds{sel()}) * 1000", "Finished")],
        field("dateTimeFromNow", color={"mode": "fixed", "fixedColor": "text"}),
        graph=False), 4, 4)
    L.add(stat(
        "In progress", "Whether a class is running right now (the newest workout is not "
        "finished), and its discipline.",
        [qi(readable("max by (discipline) "
                     f"(peloton_workout_in_progress{sel()} == 1)") + " or on () "
            f"(max(peloton_workout_in_progress{sel()}) == 0)", "{{discipline}}")],
        field("short", mappings=[value_map({"0": ("No", "text"), "1": ("Now", "green")})],
              no_value="No"),
        graph=False, text_mode="value_and_name", color_mode="background"), 3, 4)

    L.row("Totals")
    L.add(stat(
        "Duration", "Time from start to end of the class.",
        [qi(f"max(peloton_latest_workout_duration_seconds{sel()})", "Duration")],
        field("dtdurations", color={"mode": "fixed", "fixedColor": "purple"}),
        graph=False), 4, 4)
    L.add(stat(
        "Total output", "Total output of the class.",
        [qi(f"max(peloton_latest_workout_output_joules{sel()})", "Output")],
        field("joule", 1, color={"mode": "fixed", "fixedColor": "orange"}, no_value="–"),
        graph=False), 4, 4)
    L.add(stat(
        "Calories", "Peloton's calorie estimate for the class, in kcal.",
        [qi(f"max(peloton_latest_workout_energy_burned_joules{sel()}) / {KCAL}", "Calories")],
        field("suffix:kcal", 0, color={"mode": "fixed", "fixedColor": "red"}),
        graph=False), 4, 4)
    L.add(stat(
        "Distance", "Distance of the class, where the discipline has one.",
        [qi(f"max(peloton_latest_workout_distance_meters{sel()}) / {KM}", "km", "A"),
         qi(f"max(peloton_latest_workout_distance_meters{sel()}) / {MI}", "mi", "B")],
        field("short", 2, color={"mode": "fixed", "fixedColor": "green"}, no_value="–"),
        graph=False, text_mode="value_and_name"), 4, 4)
    L.add(stat(
        "Elevation", "Elevation gained (outdoor and tread classes).",
        [qi(f"max(peloton_latest_workout_elevation_meters{sel()})", "Elevation")],
        field("lengthm", 0, color={"mode": "fixed", "fixedColor": "green"}, no_value="–"),
        graph=False), 4, 4)
    L.add(stat(
        "Effort points", "Peloton's effort points: time weighted by heart-rate zone.",
        [qi(f"max(peloton_latest_workout_effort_points{sel()})", "Effort")],
        field("short", 0, color={"mode": "fixed", "fixedColor": "yellow"}, no_value="–"),
        graph=False), 4, 4)

    L.row("Averages and maxima")

    def avg_max(title, description, metric, unit, decimals, scale="", w=4):
        return L.add(stat(
            title, description + " Absent when the discipline does not have it.",
            [qi(f'max by (stat) ({metric}{sel()}){scale}', "{{stat}}")],
            field(unit, decimals, color={"mode": "fixed", "fixedColor": "text"},
                  no_value="–"),
            graph=False, text_mode="value_and_name", color_mode="none"), w, 4)

    avg_max("Output", "Power, average and maximum.", "peloton_latest_workout_output_watts",
            "watt", 0)
    avg_max("Cadence", "Cadence, average and maximum.", "peloton_latest_workout_cadence_rpm",
            "rotrpm", 0, w=3)
    avg_max("Resistance", "Bike resistance, average and maximum.",
            "peloton_latest_workout_resistance_ratio", "percentunit", 0, w=3)
    avg_max("Speed", "Speed, average and maximum, in km/h.",
            "peloton_latest_workout_speed_meters_per_second", "velocitykmh", 1, " * 3.6")
    avg_max("Incline", "Tread incline, average and maximum.",
            "peloton_latest_workout_incline_ratio", "percentunit", 1, w=3)
    avg_max("Heart rate", "Heart rate, average and maximum.",
            "peloton_latest_workout_heart_rate_bpm", "suffix:bpm", 0)
    avg_max("Stroke rate", "Rower stroke rate, average and maximum.",
            "peloton_latest_workout_stroke_rate_spm", "suffix:spm", 0, w=3)

    L.row("Zones and leaderboard")
    L.add(bargauge(
        "Heart-rate zones", "Time in each heart-rate zone during the class (needs a "
        "heart-rate monitor).",
        [qi(f"sum by (zone) (peloton_latest_workout_heart_rate_zone_seconds{sel()})",
           "Zone {{zone}}")],
        field("dtdurations", color=ZONE_COLOR)), 12, 8)
    L.add(stat(
        "Leaderboard rank", "Place on the class leaderboard, and how many members are on "
        "it.",
        [qi(f"max(peloton_latest_workout_leaderboard_rank{sel()})", "Rank", "A"),
         qi(f"max(peloton_latest_workout_leaderboard_users{sel()})", "Members", "B")],
        field("short", 0, color={"mode": "fixed", "fixedColor": "text"}, no_value="–"),
        graph=False, text_mode="value_and_name", color_mode="none"), 6, 8)
    L.add(gauge(
        "Better than", "Share of the leaderboard that finished behind this class's "
        "output.",
        [qi(f"1 - max(peloton_latest_workout_leaderboard_rank{sel()}) / "
           f"max(peloton_latest_workout_leaderboard_users{sel()})", "Better than")],
        field("percentunit", 0, steps("red", (0.25, "orange"), (0.5, "yellow"),
                                      (0.75, "green")), min_=0, max_=1, no_value="–")),
        6, 8)

    L.row("Recent classes")
    L.add(timeseries(
        "Power of recent classes", "Average and maximum power of each class as it became "
        "the latest one (bike, tread and row classes).",
        [q(f"max by (stat) (peloton_latest_workout_output_watts{sel()})", "{{stat}}")],
        field("watt", 0), interpolation="stepAfter"), 12, 8)
    L.add(timeseries(
        "Heart rate of recent classes", "Average and maximum heart rate of each class as it "
        "became the latest one.",
        [q(f"max by (stat) (peloton_latest_workout_heart_rate_bpm{sel()})", "{{stat}}")],
        field("suffix:bpm", 0), interpolation="stepAfter"), 12, 8)
    return dashboard(
        "peloton-latest-workout", "Peloton latest workout",
        "The last completed class: averages, maxima, zones and leaderboard "
        "(peloton-exporter).", L, "now-7d", "1m")


ALL_TIME = 'window="all_time"'
LAST_90D = 'window="90d"'
SPRINT_AND_20MIN = 'duration=~"5|1200"'


def training():
    L = Layout()
    L.row("Now")
    L.add(stat(
        "Fitness (CTL)", "Chronic training load: the 42-day exponentially weighted daily "
        "load, from rides' TSS (power_tss) and, separately, other workouts' heart-rate "
        "TRIMP (hr_trimp). Updated with each workout and at UTC midnight.",
        [q(f"max by (method) (peloton_training_load_chronic{sel()})", "{{method}}")],
        field("short", 0, color={"mode": "fixed", "fixedColor": "blue"}),
        text_mode="value_and_name"), 6, 5)
    L.add(stat(
        "Fatigue (ATL)", "Acute training load: the same with 7 days.",
        [q(f"max by (method) (peloton_training_load_acute{sel()})", "{{method}}")],
        field("short", 0, color={"mode": "fixed", "fixedColor": "purple"}),
        text_mode="value_and_name"), 6, 5)
    L.add(stat(
        "Form (TSB)", "Fitness minus fatigue. Above +5 fresh, −10 to −30 productive "
        "training, below −30 overreaching (an alert fires after three days).",
        [q(f"max by (method) (peloton_training_form{sel()})", "{{method}}")],
        field("short", 0, steps("red", (-30, "orange"), (-10, "green"), (5, "blue"))),
        text_mode="value_and_name"), 6, 5)
    L.add(stat(
        "Power-zone FTP", "The FTP Peloton shows power zones at: ftp_info of the most "
        "recent ride, with its source.",
        [q(f"max by (source) (peloton_power_zone_ftp_watts{sel()})", "{{source}}")],
        field("watt", 0, color={"mode": "fixed", "fixedColor": "orange"}),
        text_mode="value_and_name"), 6, 5)

    L.row("Power curve")
    L.add(bargauge(
        "Power curve: all time", "Best average power over 5 s, 1, 5, 20 and 60 minutes in "
        "any ride.",
        [q(f"max by (duration) (peloton_power_curve_watts{sel(ALL_TIME)})",
           "{{duration}} s", instant=True)],
        field("watt", 0, color={"mode": "continuous-YlRd"})), 8, 8)
    L.add(bargauge(
        "Power curve: last 90 days", "The same over rides that ended in the last 90 days.",
        [q(f"max by (duration) (peloton_power_curve_watts{sel(LAST_90D)})",
           "{{duration}} s", instant=True)],
        field("watt", 0, color={"mode": "continuous-YlRd"})), 8, 8)
    L.add(timeseries(
        "Best 20 minutes and 5 seconds", "All-time bests over time: steps up on the day a "
        "ride beat them.",
        [q(f"max by (duration) (last_over_time(peloton_power_curve_watts"
           f"{sel(ALL_TIME, SPRINT_AND_20MIN)}[1w]))", "{{duration}} s")],
        field("watt", 0), interpolation="stepAfter"), 8, 8)

    L.row("Load")
    L.add(timeseries(
        "Fitness, fatigue and form", "CTL, ATL and form at the end of each UTC day "
        "(backfill writes one sample a day; the live exporter every scrape).",
        [q(f"max by (method) (last_over_time(peloton_training_load_chronic{sel()}[1d]))",
           "fitness {{method}}", "A"),
         q(f"max by (method) (last_over_time(peloton_training_load_acute{sel()}[1d]))",
           "fatigue {{method}}", "B"),
         q(f"max by (method) (last_over_time(peloton_training_form{sel()}[1d]))",
           "form {{method}}", "C")],
        field("short", 0)), 16, 9)
    L.add(timeseries(
        "Training load per week", "TSS of rides (power_tss) and TRIMP of other workouts "
        "(hr_trimp) in the 7 days before each bar.",
        [q(f"sum by (method) (method:peloton_training_load:increase1w{sel()})",
           "{{method}}", interval="1w")],
        field("short", 0), style="bars", interval="1w"), 8, 9)

    L.row("Zones and FTP")
    L.add(bargauge(
        "Time in power zones", "Lifetime time in Peloton's seven power zones, each ride at "
        "the FTP in force that day.",
        [q(f"sum by (zone) (peloton_power_zone_seconds_total{sel()})", "Zone {{zone}}",
           instant=True)],
        field("dtdurations", color={"mode": "shades", "fixedColor": "orange"})), 8, 9)
    L.add(timeseries(
        "Time in power zones per week", "Seconds in each power zone in the 7 days before "
        "each bar.",
        [q(f"sum by (zone) (zone:peloton_power_zone_seconds:increase1w{sel()})",
           "Zone {{zone}}", interval="1w")],
        field("s"), style="bars", stacked=True, interval="1w"), 8, 9)
    L.add(timeseries(
        "FTP history", "The FTP in force at each ride (ftp_info), by source, and the FTP "
        "values of the profile.",
        [q(f"max by (source) (last_over_time(peloton_power_zone_ftp_watts{sel()}[1w]))",
           "power zones ({{source}})", "A"),
         q(f"max by (source) (last_over_time(peloton_cycling_ftp_watts{sel()}[1w]))",
           "profile {{source}}", "B")],
        field("watt", 0), interpolation="stepAfter"), 8, 9)

    L.row("Latest workout")
    L.add(stat(
        "Normalized power", "Fourth-power mean of the 30 s rolling average power.",
        [q(f"max(peloton_latest_workout_normalized_power_watts{sel()})", "NP",
           instant=True)],
        field("watt", 0, color={"mode": "fixed", "fixedColor": "orange"}), graph=False), 6, 4)
    L.add(stat(
        "Intensity factor", "Normalized power / FTP in force.",
        [q(f"max(peloton_latest_workout_intensity_factor_ratio{sel()})", "IF",
           instant=True)],
        field("short", 2, steps("green", (0.85, "orange"), (1.0, "red"))), graph=False), 6, 4)
    L.add(stat(
        "Training load", "TSS of a ride (100 = one hour at FTP), or heart-rate TRIMP of "
        "another workout.",
        [q(f"max by (method) (peloton_latest_workout_training_load{sel()})", "{{method}}",
           instant=True)],
        field("short", 0, color={"mode": "fixed", "fixedColor": "blue"}), graph=False,
        text_mode="value_and_name"), 6, 4)
    L.add(bargauge(
        "Best efforts", "The latest workout's best average power per duration.",
        [q(f"max by (duration) (peloton_latest_workout_power_best_watts{sel()})",
           "{{duration}} s", instant=True)],
        field("watt", 0, color={"mode": "continuous-YlRd"})), 6, 4)
    return dashboard(
        "peloton-training", "Peloton training",
        "Power curve, fitness/fatigue/form, training load, power zones and FTP history of "
        "a Peloton member (peloton-exporter).", L, "now-1y", "5m")


def health():
    L = Layout()
    L.row("Status")
    L.add(stat(
        "Peloton reachable", "peloton_up: 1 when the last poll reached every Peloton "
        "endpoint it needed.",
        [q(f"min(peloton_up{sel()})", "peloton_up")],
        field("short", mappings=[value_map({"0": ("DOWN", "red"), "1": ("UP", "green")})],
              thresholds=steps("red", (1, "green"))),
        color_mode="background"), 4, 4)
    L.add(stat(
        "Scrape", "Prometheus's own up metric for the exporter target(s).",
        [q('min(up{job=~"$job"})', "up")],
        field("short", mappings=[value_map({"0": ("DOWN", "red"), "1": ("UP", "green")})],
              thresholds=steps("red", (1, "green"))),
        color_mode="background"), 3, 4)
    L.add(stat(
        "Last successful poll", "Time since the last poll that reached every endpoint.",
        [q(f"time() - max(peloton_last_successful_poll_timestamp_seconds{sel()})", "Age")],
        field("s", 0, steps("green", (900, "orange"), (3600, "red")))), 4, 4)
    L.add(stat(
        "Token expires in", "Time left on the access token. With a refresh token the "
        "exporter renews it shortly (at most an hour) before it expires; the alert "
        "PelotonAuthTokenExpiringSoon fires when it cannot.",
        [q(f"min(peloton_auth_token_expiry_timestamp_seconds{sel()}) - time()", "Left")],
        field("s", 0, steps("red", (600, "orange"), (3600, "green")), no_value="–")), 4, 4)
    L.add(stat(
        "History to fetch", "Workouts known but whose details are not fetched yet (the "
        "history sync after the first start).",
        [q(f"sum(peloton_history_workouts_pending{sel()})", "Pending")],
        field("short", 0, steps("green", (1, "blue")))), 3, 4)
    L.add(stat(
        "Config", "peloton_config_last_reload_successful: whether the last reload (SIGHUP "
        "or POST /-/reload) of the config and secret files succeeded. A refused reload "
        "keeps the previous configuration running; the reason is in the log.",
        [q('min(peloton_config_last_reload_successful{job=~"$job"})', "reload")],
        field("short", mappings=[value_map({"0": ("REFUSED", "red"), "1": ("OK", "green")})],
              thresholds=steps("red", (1, "green"))),
        color_mode="background"), 3, 4)
    L.add(stat(
        "Version", "Version and revision of the running exporter.",
        [q('max by (version, revision) (peloton_exporter_build_info{job=~"$job"})',
           "{{version}} ({{revision}})", instant=True)],
        field("short", color={"mode": "fixed", "fixedColor": "text"}), graph=False,
        text_mode="name", color_mode="none"), 3, 4)

    L.row("Polls")
    L.add(timeseries(
        "Poll duration", "Time of one poll cycle: quantiles from the histogram, and the "
        "mean.",
        [q("histogram_quantile(0.5, sum by (le) "
           f"(rate(peloton_poll_duration_seconds_bucket{sel()}[$__rate_interval])))",
           "p50", "A"),
         q("histogram_quantile(0.9, sum by (le) "
           f"(rate(peloton_poll_duration_seconds_bucket{sel()}[$__rate_interval])))",
           "p90", "B"),
         q(f"sum(rate(peloton_poll_duration_seconds_sum{sel()}[$__rate_interval])) / "
           f"sum(rate(peloton_poll_duration_seconds_count{sel()}[$__rate_interval]))",
           "mean", "C")],
        field("s")), 12, 8)
    L.add(timeseries(
        "Polls and failed polls", "Poll cycles per hour, and failed ones by reason "
        "(network, timeout, auth, rate_limited, server, invalid_response).",
        [q(f"sum(rate(peloton_polls_total{sel()}[$__rate_interval])) * 3600", "polls", "A"),
         q("sum by (reason) "
           f"(rate(peloton_poll_errors_total{sel()}[$__rate_interval])) * 3600",
           "failed: {{reason}}", "B")],
        field("suffix:/h", 1)), 12, 8)

    L.row("Peloton API")
    L.add(timeseries(
        "Requests by endpoint and code", "Requests sent to Peloton per hour, by endpoint "
        "and HTTP status (error: no response).",
        [q("sum by (endpoint, code) "
           f"(rate(peloton_api_requests_total{sel()}[$__rate_interval])) * 3600",
           "{{endpoint}} {{code}}")],
        field("suffix:/h", 1), legend_opts=legend("right", ["lastNotNull", "max"],
                                                   "table")), 12, 8)
    L.add(timeseries(
        "Error ratio by endpoint", "Share of requests per endpoint that did not get a 2xx "
        "answer (0 when all succeed).",
        [q("(sum by (endpoint) (rate(peloton_api_requests_total"
           f"{sel(NOT_2XX)}[$__rate_interval])) or sum by (endpoint) "
           f"(rate(peloton_api_requests_total{sel()}[$__rate_interval])) * 0) / "
           "sum by (endpoint) "
           f"(rate(peloton_api_requests_total{sel()}[$__rate_interval]))",
           "{{endpoint}}")],
        field("percentunit", 1, steps("green", (0.05, "orange"), (0.25, "red")), min_=0,
              max_=1),
        thresholds_style="line"), 12, 8)
    L.add(timeseries(
        "Request duration (p90)", "90th percentile of request duration, by endpoint.",
        [q("histogram_quantile(0.9, sum by (endpoint, le) "
           f"(rate(peloton_api_request_duration_seconds_bucket{sel()}[$__rate_interval])))",
           "{{endpoint}}")],
        field("s")), 12, 8)
    L.add(timeseries(
        "Access token lifetime left", "Time until the access token expires: a saw tooth "
        "while renewals work. The line marks 12 h.",
        [q(f"peloton_auth_token_expiry_timestamp_seconds{sel()} - time()", "left")],
        field("s", 0, steps("red", (43200, "green"))), thresholds_style="line"), 8, 8)
    L.add(stat(
        "Token renewals", "Token refreshes and logins in the selected time range, by "
        "result.",
        [q("sum by (result) "
           f"(increase(peloton_auth_refreshes_total{sel()}[$__range]))", "{{result}}",
           instant=True)],
        field("short", 0, color={"mode": "fixed", "fixedColor": "text"}), graph=False,
        text_mode="value_and_name", color_mode="none"), 4, 8)

    L.row("History sync")
    L.add(timeseries(
        "Workouts to fetch", "Workouts whose details are not fetched yet. It falls to 0 "
        "once the history is synced.",
        [q(f"sum(peloton_history_workouts_pending{sel()})", "pending")],
        field("short", 0)), 16, 7)
    L.add(gauge(
        "History synced", "Share of all workouts whose details have been fetched.",
        [q(f"1 - sum(peloton_history_workouts_pending{sel()}) / "
           f"clamp_min(sum(peloton_workouts_total{sel()}), 1)", "Synced")],
        field("percentunit", 0, steps("orange", (1, "green")), min_=0, max_=1)), 8, 7)

    # The process is one for all accounts: its series carry no `account`, so only $job.
    proc = '{job=~"$job"}'
    L.row("Process")
    L.add(timeseries(
        "CPU", "CPU time used per second (1 = one core busy), per exporter instance.",
        [q(f"rate(process_cpu_seconds_total{proc}[$__rate_interval])", "{{instance}}")],
        field("percentunit", 1, min_=0)), 8, 7)
    L.add(timeseries(
        "Memory", "Resident memory of the exporter process (the static build idles under "
        "8 MB; docs/benchmarks.md).",
        [q(f"process_resident_memory_bytes{proc}", "resident {{instance}}")],
        field("bytes", 0, min_=0)), 8, 7)
    L.add(timeseries(
        "Open file descriptors", "Open descriptors (connections, the database, logs) as "
        "a share of the soft limit.",
        [q(f"process_open_fds{proc} / process_max_fds{proc}", "{{instance}}")],
        field("percentunit", 1, steps("green", (0.8, "orange"), (0.95, "red")), min_=0),
        thresholds_style="line"), 5, 7)
    L.add(stat(
        "Uptime", "Time since the exporter process started (a restart resets it).",
        [q(f"time() - max(process_start_time_seconds{proc})", "Uptime")],
        field("s", 0, steps("orange", (600, "green")))), 3, 7)
    return dashboard(
        "peloton-exporter-health", "Peloton exporter health",
        "Is peloton-exporter reaching Peloton: polls, API requests and errors, token, "
        "history sync.", L, "now-6h", "30s")

# --- live ride ---------------------------------------------------------------------------

NO_RIDE = "No ride in progress"
# Zone colours for the stats (value mappings; a mapping's colour is the panel's colour).
HR_ZONES = {str(z): (f"Zone {z}", c)
            for z, c in zip(range(1, 6), ("blue", "green", "yellow", "orange", "red"))}
POWER_ZONES = {str(z): (f"Z{z} {name}", c) for z, (name, c) in enumerate((
    ("Active recovery", "blue"), ("Endurance", "green"), ("Tempo", "yellow"),
    ("Threshold", "orange"), ("VO2 max", "red"), ("Anaerobic", "dark-red"),
    ("Neuromuscular", "purple")), start=1)}
# The shortest live interval (--poll.live-interval 5s): the graphs' finest step.
LIVE_STEP = "5s"


def live():
    def qi(*args, **kwargs):
        """Instant: once the ride ends (or its sample is stale) the series are absent and a
        stat must say so, not show the last value of the range."""
        return q(*args, instant=True, **kwargs)

    def now(title, description, metric, unit, decimals, scale="", w=3):
        return L.add(stat(
            title, description + " At the latest live sample.",
            [qi(f"max({metric}{sel()}){scale}", title)],
            field(unit, decimals, color={"mode": "fixed", "fixedColor": "text"},
                  no_value="–"),
            graph=False, color_mode="none"), w, 4)

    def zone(title, description, metric, zones, w):
        colours = [c for _, c in zones.values()]
        return L.add(stat(
            title, description,
            [qi(f"max({metric}{sel()})", title)],
            field("short", 0, steps(colours[0], *enumerate(colours[1:], start=2)),
                  mappings=[value_map(zones)], no_value="–"),
            graph=False, color_mode="background"), w, 4)

    def graph(title, description, targets, unit, decimals=0, w=12, h=8, **extra):
        return L.add(timeseries(
            title, description + " One point per live sample; gaps between rides.",
            targets, field(unit, decimals, no_value=NO_RIDE), interval=LIVE_STEP,
            **extra), w, h)

    def gq(expr, legend, ref="A"):
        return q(expr, legend, ref, interval=LIVE_STEP)

    L = Layout()
    L.row("Ride")
    L.add(stat(
        "Class", "Title of the class in progress. Live mode (--poll.live-interval) reads "
        "it while the newest workout is in progress; otherwise no ride is shown.",
        [qi(f"max by (title) (peloton_live_workout_info{sel()})", "{{title}}")],
        field("short", color={"mode": "fixed", "fixedColor": "text"}, no_value=NO_RIDE),
        graph=False, text_mode="name", color_mode="none"), 8, 4)
    L.add(stat(
        "Instructor", "Instructor and discipline of the class in progress.",
        [qi(readable("max by (instructor, discipline) "
                     f"(peloton_live_workout_info{sel()})"),
            "{{instructor}} · {{discipline}}")],
        field("short", color={"mode": "fixed", "fixedColor": "text"}, no_value="–"),
        graph=False, text_mode="name", color_mode="none"), 6, 4)
    L.add(stat(
        "Ride", "Whether live mode sees a workout in progress now.",
        [qi(f"max(peloton_live_workout_info{sel()}) or on () vector(0)", "Ride")],
        field("short", mappings=[value_map({"0": (NO_RIDE, "text"),
                                            "1": ("In progress", "green")})],
              no_value=NO_RIDE),
        graph=False, color_mode="background"), 4, 4)
    L.add(stat(
        "Started", "When the class in progress started.",
        [qi(f"max(peloton_live_workout_start_timestamp_seconds{sel()}) * 1000", "Started")],
        field("dateTimeFromNow", color={"mode": "fixed", "fixedColor": "text"},
              no_value="–"),
        graph=False, color_mode="none"), 3, 4)
    L.add(stat(
        "Sample age", "Time since the latest live sample was read. The exporter reads one "
        "per live interval and drops the sample values once it is older than three.",
        [qi(f"time() - max(peloton_live_sample_timestamp_seconds{sel()})", "Age")],
        field("s", 0, steps("green", (30, "orange"), (60, "red")), no_value="–"),
        graph=False), 3, 4)

    L.row("Progress")
    L.add(stat(
        "Elapsed", "Time since the start at the latest sample, and the class length.",
        [qi(f"max(peloton_live_elapsed_seconds{sel()})", "Elapsed", "A"),
         qi(f"max(peloton_live_workout_class_length_seconds{sel()})", "Class length", "B")],
        field("dthms", color={"mode": "fixed", "fixedColor": "purple"}, no_value="–"),
        graph=False, text_mode="value_and_name"), 8, 5)
    L.add(gauge(
        "Class progress", "Elapsed time as a share of the class length.",
        [qi(f"max(peloton_live_elapsed_seconds{sel()}) / "
            f"max(peloton_live_workout_class_length_seconds{sel()})", "Progress")],
        field("percentunit", 0, steps("blue", (1, "green")), min_=0, max_=1,
              no_value="–")), 4, 5)
    L.add(stat(
        "Output so far", "Output of the class in progress so far (Peloton's kJ).",
        [qi(f"max(peloton_live_workout_output_joules{sel()})", "Output")],
        field("joule", 1, color={"mode": "fixed", "fixedColor": "orange"}, no_value="–"),
        graph=False), 6, 5)
    L.add(stat(
        "Distance so far", "Distance of the class in progress so far.",
        [qi(f"max(peloton_live_workout_distance_meters{sel()}) / {KM}", "km", "A"),
         qi(f"max(peloton_live_workout_distance_meters{sel()}) / {MI}", "mi", "B")],
        field("short", 2, color={"mode": "fixed", "fixedColor": "green"}, no_value="–"),
        graph=False, text_mode="value_and_name"), 6, 5)

    L.row("Now")
    now("Output", "Power.", "peloton_live_output_watts", "watt", 0)
    now("Cadence", "Cadence.", "peloton_live_cadence_rpm", "rotrpm", 0)
    now("Resistance", "Bike resistance.", "peloton_live_resistance_ratio", "percentunit", 0)
    now("Speed", "Speed, in km/h.", "peloton_live_speed_meters_per_second", "velocitykmh", 1,
        " * 3.6")
    now("Heart rate", "Heart rate (needs a heart-rate monitor).",
        "peloton_live_heart_rate_bpm", "suffix:bpm", 0)
    zone("Heart-rate zone", "Heart-rate zone 1 to 5 (the member's own zones) at the latest "
         "sample.", "peloton_live_heart_rate_zone", HR_ZONES, 4)
    zone("Power zone", "Peloton power zone 1 to 7 (at the FTP the zones are drawn with) at "
         "the latest sample.", "peloton_live_power_zone", POWER_ZONES, 5)

    L.row("Over time")
    graph("Output", "Power at each live sample.",
          [gq(f"max(peloton_live_output_watts{sel()})", "output")], "watt")
    graph("Heart rate", "Heart rate at each live sample.",
          [gq(f"max(peloton_live_heart_rate_bpm{sel()})", "heart rate")], "suffix:bpm")
    graph("Cadence", "Cadence at each live sample.",
          [gq(f"max(peloton_live_cadence_rpm{sel()})", "cadence")], "rotrpm", w=8)
    graph("Resistance", "Bike resistance at each live sample.",
          [gq(f"max(peloton_live_resistance_ratio{sel()})", "resistance")], "percentunit",
          w=8)
    graph("Speed", "Speed at each live sample, in km/h.",
          [gq(f"max(peloton_live_speed_meters_per_second{sel()}) * 3.6", "speed")],
          "velocitykmh", 1, w=8)
    graph("Zones", "Heart-rate zone (1-5) and power zone (1-7) at each live sample.",
          [gq(f"max(peloton_live_heart_rate_zone{sel()})", "heart-rate zone", "A"),
           gq(f"max(peloton_live_power_zone{sel()})", "power zone", "B")], "short",
          interpolation="stepAfter")
    graph("Output so far", "Output of the class in progress so far, growing through the "
          "class.", [gq(f"max(peloton_live_workout_output_joules{sel()})", "output")],
          "joule", 1)
    return dashboard(
        "peloton-live-ride", "Peloton live ride",
        "The class in progress, read once per live interval (--poll.live-interval): power, "
        "cadence, heart rate, zones, progress (peloton-exporter).", L, "now-15m", "5s",
        tags=("live",))


# --- challenges and strength -------------------------------------------------------------

IN_TARGET = 'range="in"'
OUT_OF_TARGET = 'range="out"'
ZONE_5 = 'zone="5"'
BY_VALUE_DESC = [{"id": "sortBy", "options": {
    "fields": {}, "sort": [{"field": "Value", "desc": True}]}}]


def challenges():
    def qi(*args, **kwargs):
        """Instant: an absent metric must show as absent, not as an older class's value."""
        return q(*args, instant=True, **kwargs)

    def latest_stat(title, description, expr, unit, decimals, colour, w=4, h=5):
        return L.add(stat(
            title, description + " Absent when the latest workout has none.",
            [qi(expr, title)],
            field(unit, decimals, color={"mode": "fixed", "fixedColor": colour},
                  no_value="–"),
            graph=False), w, h)

    L = Layout()
    L.row("Annual challenge")
    L.add(stat(
        "Challenge progress", "Workout time counted so far towards Peloton's annual minutes "
        "challenge (peloton_annual_challenge_progress_seconds, read with the profile every "
        "profile interval), in minutes as Peloton counts it. Empty when the member has not "
        "joined this year's challenge.",
        [q(f"max by (challenge) (peloton_annual_challenge_progress_seconds{sel()}) / 60",
           "{{challenge}}")],
        field("suffix:min", 0, color={"mode": "fixed", "fixedColor": "purple"}),
        text_mode="value_and_name"), 5, 7)
    L.add(bargauge(
        "Progress per tier", "Progress as a share of each tier's target "
        "(peloton_annual_challenge_progress_seconds / peloton_annual_challenge_tier_seconds), "
        "lowest tier first; a full green bar is a tier reached (the value goes past 100 %).",
        [qi("max by (tier) (peloton_annual_challenge_progress_seconds"
            f"{sel()} / ignoring (tier) group_right "
            f"peloton_annual_challenge_tier_seconds{sel()})", "{{tier}}", fmt="table")],
        field("percentunit", 0, steps("blue", (1, "green")), min_=0, max_=1),
        values=True, transformations=BY_VALUE_DESC), 7, 7)
    L.add(table(
        "Minutes per day needed", "Per tier: its target, and the minutes per remaining "
        "day (today included) still needed to reach it, rounded up "
        "(peloton_annual_challenge_needed_per_day_seconds / 60); Reached once it is. The "
        "per-day column is empty once the challenge has ended.",
        [qi(f"max by (tier) (peloton_annual_challenge_tier_seconds{sel()}) / 60", "",
            "A", fmt="table"),
         qi("ceil(max by (tier) "
            f"(peloton_annual_challenge_needed_per_day_seconds{sel()}) / 60)", "", "B",
            fmt="table")],
        field("suffix:min", 0, mappings=[value_map({"0": ("Reached", "green")})]),
        sort_by="Target",
        transformations=[
            {"id": "merge", "options": {}},
            {"id": "organize", "options": {
                "excludeByName": {"Time": True},
                "indexByName": {"tier": 0, "Value #A": 1, "Value #B": 2},
                "renameByName": {"tier": "Tier", "Value #A": "Target",
                                 "Value #B": "Needed per day"},
            }},
        ]), 6, 7)
    L.add(stat(
        "Days left", "Days left in the challenge, today included: ⌈(end − now) / 86,400⌉ "
        "from peloton_annual_challenge_end_timestamp_seconds; 0 once it has ended.",
        [qi("clamp_min(ceil((max by (challenge) "
            f"(peloton_annual_challenge_end_timestamp_seconds{sel()}) - time()) / 86400), 0)",
            "{{challenge}}")],
        field("suffix:days", 0, steps("text", (1, "blue"))), graph=False), 3, 7)
    L.add(stat(
        "Challenge dates", "Start and end of the annual challenge "
        "(peloton_annual_challenge_start_timestamp_seconds, _end_timestamp_seconds), in "
        "the browser's time zone.",
        [qi(f"max(peloton_annual_challenge_start_timestamp_seconds{sel()}) * 1000", "Start",
            "A"),
         qi(f"max(peloton_annual_challenge_end_timestamp_seconds{sel()}) * 1000", "End",
            "B")],
        field("dateTimeAsIso", color={"mode": "fixed", "fixedColor": "text"}), graph=False,
        text_mode="value_and_name", color_mode="none"), 3, 7)

    L.row("Badges")
    L.add(stat(
        "Badges", "All badges on the profile (peloton_achievements_total), and those "
        "earned in completed workouts (peloton_workout_achievements_total: only workouts "
        "whose detail the exporter read).",
        [q(f"sum(peloton_achievements_total{sel()})", "All", "A"),
         q(f"sum(peloton_workout_achievements_total{sel()})", "In workouts", "B")],
        field("short", 0, color={"mode": "fixed", "fixedColor": "yellow"}),
        text_mode="value_and_name"), 4, 8)
    L.add(bargauge(
        "Badges by category", "Badges per achievement category "
        "(peloton_achievements_by_category, from the profile's achievements).",
        [qi(f"sum by (category) (peloton_achievements_by_category{sel()})", "{{category}}",
            fmt="table")],
        field("short", 0, color={"mode": "continuous-YlRd"}), values=True,
        transformations=BY_VALUE_DESC), 8, 8)
    L.add(timeseries(
        "Badges earned per week", "Badges earned in workouts in the 7 days before each "
        "bar: increase of peloton_workout_achievements_total, which climbs at each "
        "workout's time (Prometheus aligns weekly steps to the Unix epoch: bars fall on "
        "Thursdays 00:00 UTC).",
        [q(f"round(sum(increase(peloton_workout_achievements_total{sel()}[1w])))", "badges",
           interval="1w")],
        field("short", 0), style="bars", interval="1w"), 8, 8)
    latest_stat("Badges in the latest workout", "Badges earned in the latest completed "
                "workout (peloton_latest_workout_achievements).",
                f"max(peloton_latest_workout_achievements{sel()})", "short", 0, "yellow",
                h=8)

    L.row("Strength")
    L.add(stat(
        "Repetitions", "Repetitions of tracked strength movements, lifetime "
        "(peloton_strength_repetitions_total).",
        [q(f"sum(peloton_strength_repetitions_total{sel()})", "Repetitions")],
        field("short", 0, color={"mode": "fixed", "fixedColor": "blue"})), 4, 5)
    L.add(stat(
        "Volume", "Weight × repetitions of tracked strength movements, lifetime, in metric "
        "tons (peloton_strength_volume_grams_total / 1e6).",
        [q(f"sum(peloton_strength_volume_grams_total{sel()}) / 1e6", "Volume")],
        field("masst", 1, color={"mode": "fixed", "fixedColor": "orange"})), 4, 5)
    L.add(stat(
        "Time under tension", "Time held in timed movements plus the length of each "
        "rep-tracked set, lifetime (peloton_strength_time_under_tension_seconds_total).",
        [q(f"sum(peloton_strength_time_under_tension_seconds_total{sel()})", "Time")],
        field("dtdurations", color={"mode": "fixed", "fixedColor": "purple"})), 4, 5)
    latest_stat("Last strength class: repetitions", "Repetitions in the newest strength "
                "workout, whatever came after it "
                "(peloton_latest_strength_workout_repetitions).",
                f"max(peloton_latest_strength_workout_repetitions{sel()})", "short", 0,
                "blue")
    latest_stat("Last strength class: volume", "Weight × repetitions in the newest "
                "strength workout, in kg (peloton_latest_strength_workout_volume_grams).",
                f"max(peloton_latest_strength_workout_volume_grams{sel()}) / 1000",
                "suffix:kg", 0, "orange")
    latest_stat("Last strength class: time under tension", "Time under load in the newest "
                "strength workout "
                "(peloton_latest_strength_workout_time_under_tension_seconds).",
                f"max(peloton_latest_strength_workout_time_under_tension_seconds{sel()})",
                "dtdurations", None, "purple")
    L.add(timeseries(
        "Volume per week", "Weight × repetitions in the 7 days before each bar, in metric "
        "tons (increase of peloton_strength_volume_grams_total).",
        [q(f"sum(increase(peloton_strength_volume_grams_total{sel()}[1w])) / 1e6",
           "volume", interval="1w")],
        field("masst", 1), style="bars", interval="1w"), 8, 8)
    L.add(timeseries(
        "Repetitions per week", "Repetitions in the 7 days before each bar (increase of "
        "peloton_strength_repetitions_total).",
        [q(f"round(sum(increase(peloton_strength_repetitions_total{sel()}[1w])))",
           "repetitions", interval="1w")],
        field("short", 0), style="bars", interval="1w"), 8, 8)
    L.add(timeseries(
        "Time under tension per week", "Time under tension in the 7 days before each bar "
        "(increase of peloton_strength_time_under_tension_seconds_total).",
        [q("sum(increase(peloton_strength_time_under_tension_seconds_total"
           f"{sel()}[1w]))", "time under tension", interval="1w")],
        field("s", 0), style="bars", interval="1w"), 8, 8)
    L.add(bargauge(
        "Muscle groups", "Peloton's muscle-group score summed over all workouts "
        "(peloton_muscle_group_score_total): which muscles the classes worked most; "
        "groups Peloton does not name are counted as other.",
        [qi(f"sum by (muscle_group) (peloton_muscle_group_score_total{sel()})",
            "{{muscle_group}}", fmt="table")],
        field("short", 0, color={"mode": "continuous-BlPu"}), values=True,
        transformations=BY_VALUE_DESC), 12, 10)
    L.add(bargauge(
        "Muscle groups: last strength class", "Peloton's muscle-group score of the newest "
        "strength workout (peloton_latest_strength_workout_muscle_group_score).",
        [qi("max by (muscle_group) "
            f"(peloton_latest_strength_workout_muscle_group_score{sel()})",
            "{{muscle_group}}", fmt="table")],
        field("short", 0, color={"mode": "continuous-BlPu"}, no_value="–"), values=True,
        transformations=BY_VALUE_DESC), 12, 10)

    L.row("Targets & splits")
    L.add(bargauge(
        "Time in target", "Share of the targeted time spent inside the class's target "
        "range, per metric, lifetime: in / (in + out) of "
        "peloton_target_metric_seconds_total.",
        [qi(f"sum by (metric) (peloton_target_metric_seconds_total{sel(IN_TARGET)}) / "
            f"(sum by (metric) (peloton_target_metric_seconds_total{sel()}) > 0)",
            "{{metric}}")],
        field("percentunit", 0, steps("red", (0.5, "orange"), (0.75, "green")), min_=0,
              max_=1)), 8, 8)
    latest_targets = barchart(
        "Targets: last class with targets", "Seconds inside and outside the class's "
        "target range per metric in the newest class that set targets "
        "(peloton_latest_targeted_workout_target_metric_seconds).",
        [qi("max by (metric) (peloton_latest_targeted_workout_target_metric_seconds"
            f"{sel(IN_TARGET)})", "", "A", fmt="table"),
         qi("max by (metric) (peloton_latest_targeted_workout_target_metric_seconds"
            f"{sel(OUT_OF_TARGET)})", "", "B", fmt="table")],
        field("s", 0, color={"mode": "palette-classic"}, no_value="–"), "metric",
        transformations=[
            {"id": "merge", "options": {}},
            {"id": "organize", "options": {
                "excludeByName": {"Time": True},
                "renameByName": {"Value #A": "In target", "Value #B": "Out of target"},
            }},
        ])
    latest_targets["options"]["stacking"] = "normal"
    latest_targets["options"]["legend"]["showLegend"] = True
    L.add(latest_targets, 8, 8)
    L.add(stat(
        "Best split", "Fastest whole split ever, per distance (peloton_best_split_seconds): "
        "500m on the rower, 1km or 1mi (the member's unit) on runs, walks and rides.",
        [q(f"min by (distance) (peloton_best_split_seconds{sel()})", "{{distance}}")],
        field("clocks", 1, color={"mode": "fixed", "fixedColor": "green"}),
        text_mode="value_and_name"), 8, 8)

    L.row("Heart-rate zones")
    L.add(table(
        "Heart-rate zones", "The member's heart-rate zones 1 to 5, lowest and highest "
        "heart rate of each (peloton_heart_rate_zone_min_bpm, _max_bpm: their own zones "
        "when set, else Peloton's defaults).",
        [qi(f"max by (zone) (peloton_heart_rate_zone_min_bpm{sel()})", "", "A",
            fmt="table"),
         qi(f"max by (zone) (peloton_heart_rate_zone_max_bpm{sel()})", "", "B",
            fmt="table")],
        field("suffix:bpm", 0), sort_by="Zone",
        transformations=[
            {"id": "merge", "options": {}},
            {"id": "organize", "options": {
                "excludeByName": {"Time": True},
                "indexByName": {"zone": 0, "Value #A": 1, "Value #B": 2},
                "renameByName": {"zone": "Zone", "Value #A": "From", "Value #B": "To"},
            }},
        ]), 16, 7)
    L.add(stat(
        "Maximum heart rate", "The top of zone 5: the maximum heart rate Peloton draws the "
        "zones with (peloton_heart_rate_zone_max_bpm).",
        [q(f"max(peloton_heart_rate_zone_max_bpm{sel(ZONE_5)})", "Maximum")],
        field("suffix:bpm", 0, color={"mode": "fixed", "fixedColor": "red"})), 8, 7)
    return dashboard(
        "peloton-challenges-strength", "Peloton — Challenges & strength",
        "The annual minutes challenge, badges, strength (repetitions, volume, muscle "
        "groups), time in target, best splits and heart-rate zones of a Peloton member "
        "(peloton-exporter).", L, "now-1y", "5m")


DASHBOARDS = {
    "peloton-overview.json": overview,
    "peloton-latest-workout.json": latest,
    "peloton-exporter-health.json": health,
    "peloton-training.json": training,
    "peloton-live-ride.json": live,
    "peloton-challenges-strength.json": challenges,
}


def render(build):
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def main(argv):
    check = "--check" in argv
    stale = []
    for name, build in DASHBOARDS.items():
        path = HERE / name
        text = render(build)
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print("out of date with dashboards/generate.py (run it): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
