#!/usr/bin/env python3
"""A Python peer for the benchmarks: a small prometheus_client exporter that serves the
same account metrics from the same (fake) Peloton API the way the scripts people run
today do it: on every cycle it fetches the profile, the overview, the whole workout list
(100 per page) and the latest workout's detail and performance graph, recomputes
everything, and serves the result with prometheus_client's own HTTP server.

    PELOTON_ACCESS_TOKEN=... python3 bench/peer/peloton_peer.py \
        --api-url http://127.0.0.1:PORT --port 9101 --interval 60

It exposes the same names, types, units and labels as peloton-exporter for what a
per-cycle script can know: user info, followers, FTP, workout counts, months, streaks,
achievements, personal records, lifetime output, duration and heart-rate zone totals, the
workouts per instructor, and the latest workout's gauges. The lifetime distance and
energy totals are left out: they need one performance graph per workout, which no script
fetches on every cycle. It also serves peloton_up, peloton_polls_total and
peloton_last_successful_poll_timestamp_seconds.

Only prometheus_client and requests are needed (pip install prometheus-client requests).
"""

import argparse
import os
import sys
import threading
import time

import requests
from prometheus_client import start_http_server
from prometheus_client.core import (
    REGISTRY,
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
)
from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR

PAGE_LIMIT = 100

# Unit conversions, as peloton-exporter does them (src/domain/units.rs).
LENGTH = {"mi": 1609.344, "km": 1000.0, "m": 1.0, "ft": 0.3048, "yd": 0.9144}
SPEED = {"mph": 0.44704, "kph": 1 / 3.6, "km/h": 1 / 3.6}
ENERGY = {"kj": 1000.0, "kcal": 4184.0, "cal": 4184.0, "j": 1.0}


class Peloton:
    def __init__(self, api_url, token, timeout):
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Peloton-Platform": "web",
                "User-Agent": "peloton-peer/1.0",
            }
        )

    def get(self, path, **params):
        r = self.session.get(self.api_url + path, params=params, timeout=self.timeout)
        r.raise_for_status()
        return r.json()


def fetch(api):
    """One cycle: everything, every time."""
    me = api.get("/api/me")
    user_id = me["id"]
    overview = api.get(f"/api/user/{user_id}/overview", version="1")
    workouts = []
    summary = {}
    page = 0
    while True:
        data = api.get(
            f"/api/user/{user_id}/workouts",
            limit=PAGE_LIMIT,
            page=page,
            joins="ride,ride.instructor",
        )
        if page == 0:
            summary = data
        workouts.extend(data.get("data") or [])
        if not data.get("show_next") or not data.get("data"):
            break
        page += 1
    latest = next((w for w in workouts if w.get("status") == "COMPLETE"), None)
    detail = graph = None
    if latest is not None:
        detail = api.get(f"/api/workout/{latest['id']}", joins="ride,ride.instructor")
        graph = api.get(f"/api/workout/{latest['id']}/performance_graph", every_n=5)
    return me, overview, workouts, summary, latest, detail, graph


def families(me, overview, workouts, page0, latest, detail, graph):
    out = []

    def gauge(name, doc, value, unit=""):
        if value is not None:
            g = GaugeMetricFamily(name, doc, unit=unit)
            g.add_metric([], float(value))
            out.append(g)

    info = InfoMetricFamily("peloton_user", "The member", labels=["username", "user_id"])
    info.add_metric([me.get("username") or "", me["id"]], {})
    out.append(info)
    gauge("peloton_user_followers", "Followers", me.get("total_followers"))
    gauge("peloton_user_following", "Members followed", me.get("total_following"))
    ftp = GaugeMetricFamily(
        "peloton_cycling_ftp_watts", "Cycling FTP", labels=["source"], unit="watts"
    )
    for source, key in [
        ("workout", "cycling_workout_ftp"),
        ("manual", "cycling_ftp"),
        ("estimated", "estimated_cycling_ftp"),
    ]:
        if (me.get(key) or 0) > 0:
            ftp.add_metric([source], float(me[key]))
    out.append(ftp)

    counts = CounterMetricFamily(
        "peloton_workouts", "Completed workouts", labels=["discipline"]
    )
    for c in (overview.get("workout_counts") or {}).get("workouts", []):
        if c.get("slug"):
            counts.add_metric([c["slug"]], float(c.get("count") or 0))
    out.append(counts)
    by_month = GaugeMetricFamily(
        "peloton_workouts_by_month", "Workouts per month", labels=["month"]
    )
    for month, n in (page0.get("summary") or {}).items():
        by_month.add_metric([month], float(n))
    out.append(by_month)

    streaks = overview.get("streaks") or {}
    weekly = streaks.get("current_weekly")
    best = streaks.get("best_weekly")
    gauge("peloton_weekly_streak", "Current weekly streak in weeks", weekly)
    gauge(
        "peloton_weekly_streak_best",
        "Best weekly streak",
        max(x for x in (weekly, best) if x is not None) if (weekly, best) != (None, None) else None,
    )
    gauge("peloton_daily_streak", "Current daily streak in days", streaks.get("current_daily"))
    if weekly:
        gauge(
            "peloton_weekly_streak_start_timestamp_seconds",
            "Start of the weekly streak",
            streaks.get("start_date_of_current_weekly"),
        )
    if streaks.get("current_daily"):
        gauge(
            "peloton_daily_streak_start_timestamp_seconds",
            "Start of the daily streak",
            streaks.get("start_date_of_current_daily"),
        )
    achievements = (overview.get("achievement_counts") or {}).get("total_count")
    if achievements is not None:
        a = CounterMetricFamily("peloton_achievements", "Achievements earned")
        a.add_metric([], float(achievements))
        out.append(a)
    prs = GaugeMetricFamily(
        "peloton_personal_record_output_joules",
        "Personal record output",
        labels=["discipline", "duration_seconds"],
        unit="joules",
    )
    for group in overview.get("personal_records") or []:
        for r in group.get("records") or []:
            slug = r.get("slug") or ""
            joules = r.get("raw_value")
            if joules is None and r.get("value") is not None:
                joules = r["value"] * ENERGY.get((r.get("unit") or "kj").lower(), 1000.0)
            if slug.isdigit() and joules is not None:
                prs.add_metric([group.get("slug") or "cycling", slug], float(joules))
    out.append(prs)

    # Lifetime totals, recomputed from the whole list on every cycle.
    output, duration, per_instructor, disciplines = {}, {}, {}, set()
    for w in workouts:
        d = w.get("fitness_discipline") or "unknown"
        disciplines.add(d)
        if w.get("status") != "COMPLETE":
            continue
        if w.get("total_work") is not None:
            output[d] = output.get(d, 0.0) + float(w["total_work"])
        if w.get("start_time") and w.get("end_time") and w["end_time"] >= w["start_time"]:
            duration[d] = duration.get(d, 0.0) + float(w["end_time"] - w["start_time"])
        name = (((w.get("ride") or {}).get("instructor")) or {}).get("name")
        if name:
            per_instructor[(name, d)] = per_instructor.get((name, d), 0) + 1
    in_progress = GaugeMetricFamily(
        "peloton_workout_in_progress", "A workout is running", labels=["discipline"]
    )
    running = workouts[0].get("fitness_discipline") if workouts and workouts[0].get("status") == "IN_PROGRESS" else None
    for d in sorted(disciplines):
        in_progress.add_metric([d], 1.0 if d == running else 0.0)
    out.append(in_progress)
    for name, doc, unit, values in [
        ("peloton_output_joules", "Lifetime output", "joules", output),
        ("peloton_workout_duration_seconds", "Lifetime workout time", "seconds", duration),
    ]:
        c = CounterMetricFamily(name, doc, labels=["discipline"], unit=unit)
        for d, v in sorted(values.items()):
            c.add_metric([d], v)
        out.append(c)
    zones = page0.get("total_heart_rate_zone_durations") or {}
    hr = CounterMetricFamily(
        "peloton_heart_rate_zone_seconds", "Time per heart-rate zone", labels=["zone"], unit="seconds"
    )
    for i in range(1, 6):
        v = zones.get(f"heart_rate_z{i}_duration")
        if v is not None:
            hr.add_metric([str(i)], float(v))
    out.append(hr)
    inst = CounterMetricFamily(
        "peloton_instructor_workouts", "Workouts per instructor", labels=["instructor", "discipline"]
    )
    for (name, d), n in sorted(per_instructor.items()):
        inst.add_metric([name, d], float(n))
    out.append(inst)

    if latest is not None:
        ride = (detail or {}).get("ride") or latest.get("ride") or {}
        li = InfoMetricFamily(
            "peloton_latest_workout",
            "The latest workout",
            labels=["discipline", "title", "instructor", "workout_type", "device_type"],
        )
        li.add_metric(
            [
                latest.get("fitness_discipline") or "",
                ride.get("title") or latest.get("title") or "",
                (ride.get("instructor") or {}).get("name") or "",
                latest.get("workout_type") or "",
                latest.get("device_type") or "",
            ],
            {},
        )
        out.append(li)
        start, end = latest.get("start_time"), latest.get("end_time")
        gauge("peloton_latest_workout_start_timestamp_seconds", "Start", start)
        gauge("peloton_latest_workout_end_timestamp_seconds", "End", end)
        if start and end:
            gauge("peloton_latest_workout_duration_seconds", "Duration", end - start)
        gauge("peloton_latest_workout_output_joules", "Output", latest.get("total_work"))
        for s in (graph or {}).get("summaries") or []:
            unit = (s.get("display_unit") or "").lower()
            if s.get("value") is None:
                continue
            if s.get("slug") == "distance" and unit in LENGTH:
                gauge("peloton_latest_workout_distance_meters", "Distance", s["value"] * LENGTH[unit])
            if s.get("slug") == "calories":
                gauge("peloton_latest_workout_energy_burned_joules", "Energy", s["value"] * ENERGY.get(unit or "kcal", 4184.0))
            if s.get("slug") == "elevation" and unit in LENGTH:
                gauge("peloton_latest_workout_elevation_meters", "Elevation", s["value"] * LENGTH[unit])
        for m in (graph or {}).get("metrics") or []:
            slug, unit = m.get("slug"), (m.get("display_unit") or "").lower()
            scale, name = {
                "output": (1.0, "peloton_latest_workout_output_watts"),
                "cadence": (1.0, "peloton_latest_workout_cadence_rpm"),
                "heart_rate": (1.0, "peloton_latest_workout_heart_rate_bpm"),
                "stroke_rate": (1.0, "peloton_latest_workout_stroke_rate_spm"),
                "resistance": (0.01, "peloton_latest_workout_resistance_ratio"),
                "incline": (0.01, "peloton_latest_workout_incline_ratio"),
                "speed": (SPEED.get(unit, 1.0), "peloton_latest_workout_speed_meters_per_second"),
            }.get(slug, (None, None))
            if name is None:
                continue
            g = GaugeMetricFamily(name, slug, labels=["stat"])
            for stat, key in [("avg", "average_value"), ("max", "max_value")]:
                if m.get(key) is not None:
                    g.add_metric([stat], float(m[key]) * scale)
            out.append(g)
        zones = ((graph or {}).get("effort_zones") or {}).get("heart_rate_zone_durations") or {}
        z = GaugeMetricFamily(
            "peloton_latest_workout_heart_rate_zone_seconds", "Zones", labels=["zone"], unit="seconds"
        )
        for i in range(1, 6):
            v = zones.get(f"heart_rate_z{i}_duration")
            if v is not None:
                z.add_metric([str(i)], float(v))
        out.append(z)
        gauge("peloton_latest_workout_leaderboard_rank", "Rank", (detail or {}).get("leaderboard_rank"))
        gauge("peloton_latest_workout_leaderboard_users", "Riders", (detail or {}).get("total_leaderboard_users"))
    return [f for f in out if f.samples]


class PelotonCollector:
    def __init__(self):
        self.lock = threading.Lock()
        self.account = []
        self.up = 0.0
        self.polls = 0
        self.last_success = None

    def collect(self):
        with self.lock:
            account, up, polls, last = self.account, self.up, self.polls, self.last_success
        g = GaugeMetricFamily("peloton_up", "The last poll succeeded")
        g.add_metric([], up)
        yield g
        c = CounterMetricFamily("peloton_polls", "Poll cycles started")
        c.add_metric([], float(polls))
        yield c
        if last is not None:
            g = GaugeMetricFamily(
                "peloton_last_successful_poll_timestamp_seconds", "Last successful poll", unit="seconds"
            )
            g.add_metric([], last)
            yield g
        yield from account


def poll_forever(api, collector, interval):
    while True:
        with collector.lock:
            collector.polls += 1
        try:
            fams = families(*fetch(api))
            with collector.lock:
                collector.account, collector.up, collector.last_success = fams, 1.0, time.time()
        except Exception as e:  # a script keeps the last data and tries again
            print(f"poll failed: {e}", file=sys.stderr, flush=True)
            with collector.lock:
                collector.up = 0.0
        time.sleep(interval)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--api-url", required=True)
    p.add_argument("--port", type=int, default=9101)
    p.add_argument("--address", default="127.0.0.1")
    p.add_argument("--interval", type=float, default=300.0, help="seconds between cycles")
    p.add_argument("--timeout", type=float, default=30.0)
    args = p.parse_args()
    token = os.environ.get("PELOTON_ACCESS_TOKEN")
    if not token:
        sys.exit("PELOTON_ACCESS_TOKEN is not set")
    # Only the account metrics, as peloton-exporter serves (no python_*/process_* series).
    for c in (GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR):
        REGISTRY.unregister(c)
    collector = PelotonCollector()
    REGISTRY.register(collector)
    start_http_server(args.port, addr=args.address)
    poll_forever(Peloton(args.api_url, token, args.timeout), collector, args.interval)


if __name__ == "__main__":
    main()
