#!/usr/bin/env python3
"""Whole-process benchmarks: peloton-exporter and the Python peer (bench/peer) side by side,
each against the fake Peloton in its own process (crates/peloton-fake/examples/fake_peloton.rs), for members
with 100, 2,000 and 20,000 workouts. Run it through bench/run.sh, which builds the release
binaries first; docs/benchmarks.md explains every figure.

Everything listens on 127.0.0.1 and every phase has a time limit. Results go to stdout (a
Markdown table) and to target/bench/whole_process.{json,md}.

Knobs (environment): BENCH_SIZES (default 100,2000,20000), BENCH_WINDOW (seconds of
steady-state polling measured, default 30), BENCH_WRK_SECONDS (default 10), BENCH_PACE_MS
(default 10: the pause of each connection in the paced runs),
BENCH_CONNECTIONS (default 16), BENCH_WRK_THREADS (default 1: on 2 cores one wrk thread
leaves the exporter's two workers a core and gives the lowest tail), BENCH_SKIP_PEER=1,
BENCH_EXTRA_BINARIES (other exporter builds whose idle memory is measured on the same
store, comma-separated paths).

BENCH_BUILDS=label=path,label=path (what `bench/run.sh builds` sets) runs another comparison
instead: the store is synced once, each build serves a copy of it and nginx the first
build's bytes, all at once; then BENCH_ROUNDS rounds (default 5) of wrk on each format of
each server in turn, with the first build's RSS sampled under its load (builds()).
Results go to stdout and target/bench/builds.{json,md}.
"""

import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
# BENCH_EXPORTER measures another build (e.g. the shipped static binary of
# deploy/build-static.sh); BENCH_FAKE another build of the fake.
EXPORTER = os.environ.get("BENCH_EXPORTER") or os.path.join(TARGET, "release", "peloton-exporter")
FAKE = os.environ.get("BENCH_FAKE") or os.path.join(TARGET, "release", "examples", "fake_peloton")
PEER = os.path.join(ROOT, "bench", "peer", "peloton_peer.py")
OUT_DIR = os.path.join(TARGET, "bench")

SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "100,2000,20000").split(",") if s.strip()]
WINDOW = float(os.environ.get("BENCH_WINDOW", "30"))
WRK_SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
WRK_THREADS = int(os.environ.get("BENCH_WRK_THREADS", "1"))
SKIP_PEER = os.environ.get("BENCH_SKIP_PEER") == "1"
# Other builds whose idle memory is measured on the same store, comma-separated paths.
EXTRA_BINARIES = [b for b in os.environ.get("BENCH_EXTRA_BINARIES", "").split(",") if b]
# label=path pairs: the builds compared with each other and with nginx (builds()).
BUILDS = [tuple(b.split("=", 1)) for b in os.environ.get("BENCH_BUILDS", "").split(",") if "=" in b]
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
OPENMETRICS = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
CLASSIC = "text/plain;version=0.0.4"
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url, method="GET", accept=None, timeout=10):
    req = urllib.request.Request(url, method=method)
    if accept:
        req.add_header("Accept", accept)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read()


def samples(text):
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            try:
                out[name] = float(value)
            except ValueError:
                pass
    return out


def metric(port, name):
    try:
        _, _, body = http(f"http://127.0.0.1:{port}/metrics", timeout=5)
    except OSError:
        return None
    return samples(body.decode()).get(name)


def wait_until(what, check, limit):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        v = check()
        if v:
            return v
        time.sleep(0.1)
    raise TimeoutError(f"{what}: not within {limit:.0f} s")


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
                out[k] = int(v.split()[0])
    return out


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 (1-based) of the whole line.
    return (int(fields[11]) + int(fields[12])) / TICK


class Proc:
    """A child process with its own process group, stopped with SIGTERM then SIGKILL."""

    def __init__(self, argv, env=None, stdout=subprocess.DEVNULL, name=""):
        self.name = name or os.path.basename(argv[0])
        self.stderr = tempfile.TemporaryFile()
        self.p = subprocess.Popen(
            argv, env=env, stdout=stdout, stderr=self.stderr, start_new_session=True
        )
        self.pid = self.p.pid

    def alive(self):
        return self.p.poll() is None

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()

    def err_tail(self):
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")[-2000:]


class Fake:
    def __init__(self, workouts):
        self.proc = Proc(
            [FAKE, "--workouts", str(workouts), "--port", "0"], stdout=subprocess.PIPE, name="fake"
        )
        line = self.proc.p.stdout.readline()
        if not line:
            raise RuntimeError("fake did not start: " + self.proc.err_tail())
        self.info = json.loads(line)
        self.control = self.info["control_url"]

    def clear(self):
        http(self.control + "/clear", method="POST")

    def requests(self):
        return json.loads(http(self.control + "/requests")[2])

    def add_workout(self):
        return http(self.control + "/add_workout?discipline=cycling", method="POST")[2].decode().strip()

    def refresh_token(self):
        return http(self.control + "/refresh_token")[2].decode().strip()

    def stop(self):
        self.proc.stop()


def traffic_count(t, endpoint):
    return t["by_endpoint"].get(endpoint, {}).get("requests", 0)


def start_exporter(fake, storage, port, interval, binary=EXPORTER):
    env = dict(os.environ, PELOTON_REFRESH_TOKEN=fake.refresh_token())
    return Proc(
        [
            binary,
            f"--web.listen-address=127.0.0.1:{port}",
            f"--peloton.api-url={fake.info['api_url']}",
            f"--peloton.auth-url={fake.info['auth_url']}",
            f"--storage.path={storage}",
            f"--poll.interval={interval}",
            "--peloton.max-request-rate=1000",
            "--log.level=warn",
        ],
        env=env,
        name="exporter",
    )


def start_peer(fake, port, interval):
    env = dict(os.environ, PELOTON_ACCESS_TOKEN=fake.info["access_token"])
    return Proc(
        [
            sys.executable,
            PEER,
            "--api-url",
            fake.info["api_url"],
            "--port",
            str(port),
            "--interval",
            str(interval),
        ],
        env=env,
        name="peer",
    )


def ready(port):
    try:
        return http(f"http://127.0.0.1:{port}/readyz", timeout=2)[0] == 200
    except OSError:
        return False


def up(port):
    return metric(port, "peloton_up") == 1.0


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


PACE_MS = int(os.environ.get("BENCH_PACE_MS", "10"))


def wrk(port, accept, path="/metrics", pace_ms=None):
    """Closed-loop load. With `pace_ms` each connection waits that long between requests
    (wrk's `delay()`): 16 scrapers at a steady rate instead of a saturated server, so the
    latency is service time rather than queueing behind wrk itself."""
    script = []
    if pace_ms:
        f = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        f.write(f"function delay()\n  return {pace_ms}\nend\n")
        f.close()
        script = ["-s", f.name]
    cmd = [
        "wrk",
        *script,
        f"-t{WRK_THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{WRK_SECONDS}s",
        "--latency",
        "--timeout",
        "5s",
        "-H",
        f"Accept: {accept}",
        f"http://127.0.0.1:{port}{path}",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=WRK_SECONDS + 30).stdout
    res = {}
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        if m:
            res[f"p{pct}_ms"] = float(m.group(1)) * UNITS[m.group(2)]
    m = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    res["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"^\s+(\d+) requests in", out, re.M)
    res["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["errors"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: (.*)", out)
    if m:
        res["socket_errors"] = m.group(1).strip()
    return res


def scrape_phase(pid, port, baseline=False):
    """Response sizes, then wrk in both formats, with the CPU spent per scrape. With
    `baseline`, first wrk on /healthz: the latency floor of this machine and tool."""
    res = {}
    if baseline:
        w = wrk(port, "*/*", "/healthz")
        res["healthz"] = w
        log(f"    /healthz: {w['rps']:.0f} req/s, p50 {w.get('p50_ms')} ms, p99 {w.get('p99_ms')} ms")
    bodies = {}
    for fmt, accept in (("classic", CLASSIC), ("openmetrics", OPENMETRICS)):
        _, ctype, body = http(f"http://127.0.0.1:{port}/metrics", accept=accept)
        c0 = cpu_seconds(pid)
        w = wrk(port, accept)
        cpu = cpu_seconds(pid) - c0
        w["bytes"] = len(body)
        w["content_type"] = ctype
        bodies[fmt] = (body, ctype, accept)
        w["cpu_us_per_scrape"] = cpu / w["requests"] * 1e6 if w["requests"] else None
        paced = wrk(port, accept, pace_ms=PACE_MS)
        w["paced"] = paced
        res[fmt] = w
        log(f"    {fmt}: {w['rps']:.0f} req/s, p50 {w.get('p50_ms')} ms, p99 {w.get('p99_ms')} ms, {len(body)} B")
        log(f"    {fmt} paced ({CONNECTIONS} x every {PACE_MS} ms): {paced['rps']:.0f} req/s, p50 {paced.get('p50_ms')} ms, p99 {paced.get('p99_ms')} ms")
    res["memory_after"] = proc_status(pid)
    if baseline:
        res["nginx"] = {}
        for fmt, (body, ctype, accept) in bodies.items():
            w = nginx_serving(body, ctype, accept)
            if w:
                res["nginx"][fmt] = w
                log(f"    nginx, the same {fmt} bytes: {w['rps']:.0f} req/s, p50 {w.get('p50_ms')} ms, p99 {w.get('p99_ms')} ms")
    return res


def nginx_serving(body, ctype, accept):
    """wrk against nginx serving `body` as a static file with the same Content-Type: the
    ceiling for serving these bytes on this machine. None when nginx is not installed."""
    try:
        nginx = Nginx({"/metrics": (body, ctype)})
    except FileNotFoundError as e:
        log(f"    {e}: no nginx comparison")
        return None
    try:
        return wrk(nginx.port, accept)
    finally:
        nginx.stop()


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def ours(fake, n):
    r = {}
    storage = tempfile.mkdtemp(prefix="pe-bench-")
    try:
        # A. First full sync, fresh storage. The poll interval (5m, the default) is longer
        # than the sync, so the figures are the sync alone.
        port = free_port()
        fake.clear()
        t0 = time.monotonic()
        p = start_exporter(fake, storage, port, "5m")
        peak_rss, limit = 0, 60 + n * 0.02
        try:

            def synced():
                nonlocal peak_rss
                peak_rss = max(peak_rss, proc_status(p.pid)["VmRSS"])
                return ready(port) and metric(port, "peloton_history_workouts_pending") == 0.0

            wait_until("ours: first sync", synced, limit)
            sync_s = time.monotonic() - t0
            st = proc_status(p.pid)
            t = fake.requests()
            r["sync"] = {
                "seconds": sync_s,
                "cpu_s": cpu_seconds(p.pid),
                "traffic": t,
                "list_pages": traffic_count(t, "Workouts"),
                "page_budget": math.ceil(n / 100),
                "graphs": traffic_count(t, "PerformanceGraph"),
                "details": traffic_count(t, "Workout"),
                "memory": st,
            }
            log(f"  ours sync: {sync_s:.1f} s, {t['requests']} requests, {t['bytes']/1e6:.1f} MB, peak RSS {st['VmHWM']} kB")
        finally:
            p.stop()

        # B. Steady state with N stored: restart, poll every second, measure a window.
        port = free_port()
        p = start_exporter(fake, storage, port, "1s")
        try:
            wait_until("ours: ready after restart", lambda: ready(port), 60)
            time.sleep(2)
            fake.clear()
            c0 = cpu_seconds(p.pid)
            time.sleep(WINDOW)
            c1 = cpu_seconds(p.pid)
            t = fake.requests()
            # Each poll asks for page 0 of the list exactly once.
            polls = traffic_count(t, "Workouts")
            r["steady"] = {
                "polls": polls,
                "requests_per_poll": t["requests"] / polls,
                "bytes_per_poll": t["bytes"] / polls,
                "cpu_ms_per_poll": (c1 - c0) / polls * 1e3,
                "traffic": t,
                "memory": proc_status(p.pid),
            }
            # New workouts: one every ~2 polls.
            k = 5
            fake.clear()
            polls0 = metric(port, "peloton_polls_total")
            for _ in range(k):
                fake.add_workout()
                target = metric(port, "peloton_polls_total") + 2
                wait_until("ours: poll after new workout", lambda: (metric(port, "peloton_polls_total") or 0) >= target, 30)
            polls = metric(port, "peloton_polls_total") - polls0
            t = fake.requests()
            steady_rpp = r["steady"]["requests_per_poll"]
            steady_bpp = r["steady"]["bytes_per_poll"]
            r["new_workout"] = {
                "workouts": k,
                "polls": polls,
                "traffic": t,
                # What a new workout adds, plus the list page its poll makes anyway.
                "requests_per_workout": (t["requests"] - polls * steady_rpp) / k + steady_rpp,
                "bytes_per_workout": (t["bytes"] - polls * steady_bpp) / k + steady_bpp,
            }
            log(f"  ours steady: {r['steady']['requests_per_poll']:.2f} req/poll, {r['steady']['cpu_ms_per_poll']:.2f} ms CPU/poll, RSS {r['steady']['memory']['VmRSS']} kB; new workout {r['new_workout']['requests_per_workout']:.2f} req")
        finally:
            p.stop()

        # C. Scrapes, restarted with the default interval (no polls during wrk).
        port = free_port()
        p = start_exporter(fake, storage, port, "5m")
        try:
            wait_until("ours: ready", lambda: ready(port), 60)
            time.sleep(1)
            r["idle_memory"] = proc_status(p.pid)
            r["scrape"] = scrape_phase(p.pid, port, baseline=True)
        finally:
            p.stop()

        # C2. Idle memory of other builds of the exporter on the same store (e.g. the
        # static musl binary of deploy/build-static.sh).
        for binary in EXTRA_BINARIES:
            port = free_port()
            p = start_exporter(fake, storage, port, "5m", binary)
            try:
                wait_until(f"{binary}: ready", lambda: ready(port), 60)
                http(f"http://127.0.0.1:{port}/metrics", accept=OPENMETRICS)
                time.sleep(1)
                r.setdefault("other_builds", {})[binary] = {
                    "size": os.path.getsize(binary),
                    "idle_memory": proc_status(p.pid),
                }
                log(f"  {binary}: idle RSS {proc_status(p.pid)}")
            finally:
                p.stop()

        # D. Backfill file from the synced store (one list request to check for news).
        out = os.path.join(storage, "backfill.om")
        env = dict(os.environ, PELOTON_REFRESH_TOKEN=fake.refresh_token())
        t0 = time.monotonic()
        b = subprocess.Popen(
            [
                EXPORTER,
                "backfill",
                "--out",
                out,
                "--label",
                "job=peloton",
                f"--peloton.api-url={fake.info['api_url']}",
                f"--peloton.auth-url={fake.info['auth_url']}",
                f"--storage.path={storage}",
                "--peloton.max-request-rate=1000",
                "--log.level=warn",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        _, status, ru = os.wait4(b.pid, 0)
        b.returncode = os.waitstatus_to_exitcode(status)
        secs = time.monotonic() - t0
        size = os.path.getsize(out) if os.path.exists(out) else 0
        r["backfill"] = {
            "seconds": secs,
            "ms_per_1000": secs * 1e3 * 1000 / n,
            "cpu_s": ru.ru_utime + ru.ru_stime,
            "max_rss_kb": ru.ru_maxrss,
            "bytes": size,
            "exit": b.returncode,
        }
        log(f"  ours backfill: {secs:.2f} s, {size/1e6:.1f} MB, max RSS {ru.ru_maxrss} kB")
    finally:
        shutil.rmtree(storage, ignore_errors=True)
    return r


def peer(fake, n):
    r = {}
    # A. Cycles back to back (interval 1 s, as ours polls in the steady phase). A cycle's
    # last request is the latest workout's graph, so "graphs == /api/me requests" in the
    # fake's log means the peer is between cycles; the window spans whole cycles, watched
    # from the fake's side so that nothing scrapes the peer meanwhile.
    port = free_port()
    fake.clear()
    t0 = time.monotonic()
    p = start_peer(fake, port, 1)
    cycle_limit = 60 + n * 0.05

    def between(min_cycles):
        t = fake.requests()
        me, graphs = traffic_count(t, "Me"), traffic_count(t, "PerformanceGraph")
        return t if me >= min_cycles and graphs == me else None

    try:
        first = wait_until("peer: first cycle", lambda: between(1), cycle_limit)
        first_s = time.monotonic() - t0
        r["first"] = {"seconds": first_s, "cpu_s": cpu_seconds(p.pid), "traffic": first}
        # Cycles are measured from one gap to the one K cycles later.
        wait_until("peer: next gap", lambda: between(2), cycle_limit)
        fake.clear()
        c0, w0 = cpu_seconds(p.pid), time.monotonic()
        k = 3
        while True:
            t = wait_until("peer: cycles", lambda: between(k), cycle_limit * k)
            if time.monotonic() - w0 >= WINDOW or k >= 50:
                break
            k += 1
        c1 = cpu_seconds(p.pid)
        r["steady"] = {
            "cycles": k,
            "requests_per_poll": t["requests"] / k,
            "bytes_per_poll": t["bytes"] / k,
            "cpu_ms_per_poll": (c1 - c0) / k * 1e3,
            "traffic": t,
            "memory": proc_status(p.pid),
        }
        log(f"  peer: first cycle {first_s:.1f} s, {r['steady']['requests_per_poll']:.1f} req/cycle, {r['steady']['bytes_per_poll']/1e6:.2f} MB/cycle, {r['steady']['cpu_ms_per_poll']:.0f} ms CPU/cycle, RSS {r['steady']['memory']['VmRSS']} kB, peak {r['steady']['memory']['VmHWM']} kB")
    finally:
        p.stop()
    # B. Scrapes with one cycle at start and none during wrk.
    port = free_port()
    p = start_peer(fake, port, 3600)
    try:
        wait_until("peer: up", lambda: up(port), 60 + n * 0.05)
        time.sleep(1)
        r["idle_memory"] = proc_status(p.pid)
        r["scrape"] = scrape_phase(p.pid, port)
    finally:
        p.stop()
    return r


def wrk_sampled(pid, port, accept):
    """`wrk()` with the server's VmRSS read every 0.25 s while it runs: the RSS under load."""
    import threading

    seen = []
    stop = threading.Event()

    def sample():
        while not stop.wait(0.25):
            try:
                seen.append(proc_status(pid)["VmRSS"])
            except OSError:
                return

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        w = wrk(port, accept)
    finally:
        stop.set()
        t.join()
    w["rss_load_max_kb"] = max(seen) if seen else None
    return w


class Nginx:
    """nginx serving bodies as static files, each at its own path with its Content-Type
    (`{path: (body, content_type)}`), until stop(). None of it when nginx is missing."""

    def __init__(self, files):
        nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
        if not nginx:
            raise FileNotFoundError("nginx is missing (apt-get install -y nginx-light)")
        self.dir = d = tempfile.mkdtemp(prefix="bench-nginx-")
        os.chmod(d, 0o755)  # nginx's workers run as another user
        self.port = free_port()
        locations = []
        for path, (body, ctype) in files.items():
            name = path.strip("/")
            with open(os.path.join(d, name), "wb") as f:
                f.write(body)
            os.chmod(os.path.join(d, name), 0o644)
            locations.append(f'    location = {path} {{ root {d}; default_type "{ctype}"; }}')
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(
                f"""worker_processes auto;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d};
  uwsgi_temp_path {d}; scgi_temp_path {d};
  server {{
    listen 127.0.0.1:{self.port};
{chr(10).join(locations)}
  }}
}}
"""
            )
        self.proc = Proc([nginx, "-p", d, "-e", os.path.join(d, "error.log"), "-c", conf], name="nginx")
        first = next(iter(files))

        def serving():
            try:
                return http(f"http://127.0.0.1:{self.port}{first}")[0] == 200
            except OSError:
                return False

        wait_until("nginx: serving", serving, 10)

    def cpu_seconds(self):
        """CPU of the master and its workers."""
        pids = [self.proc.pid]
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        if int(f.read().rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                            pids.append(int(pid))
                except (OSError, ValueError, IndexError):
                    pass
        return sum(cpu_seconds(pid) for pid in pids)

    def stop(self):
        self.proc.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def median(values):
    v = sorted(x for x in values if x is not None)
    if not v:
        return None
    m = len(v) // 2
    return v[m] if len(v) % 2 else (v[m - 1] + v[m]) / 2


def builds(fake, n):
    """The builds of BENCH_BUILDS and nginx, all started at once and idle but for the one
    under wrk: each build on its own copy of one synced store, nginx with the bytes the
    first build serves. Then ROUNDS rounds; in each, every format is scraped on every
    server in turn for BENCH_WRK_SECONDS, the order rotating, so that what else this
    shared machine does falls on all of them alike and the ratios of one round compare
    runs seconds apart. The first build's RSS is sampled during its runs."""
    storage = tempfile.mkdtemp(prefix="pe-bench-")
    procs, dirs, nginx = {}, [storage], None
    out = {"rounds": [], "idle_memory": {}, "memory_after": {}, "bytes": {}}
    formats = (("classic", CLASSIC), ("openmetrics", OPENMETRICS))
    try:
        port = free_port()
        t0 = time.monotonic()
        p = start_exporter(fake, storage, port, "5m", BUILDS[0][1])
        try:
            wait_until(
                "first sync",
                lambda: ready(port) and metric(port, "peloton_history_workouts_pending") == 0.0,
                60 + n * 0.02,
            )
        finally:
            p.stop()
        log(f"  synced {n} workouts in {time.monotonic() - t0:.1f} s")
        for label, binary in BUILDS:
            d = f"{storage}-{label}"
            shutil.copytree(storage, d)
            dirs.append(d)
            port = free_port()
            procs[label] = (start_exporter(fake, d, port, "5m", binary), port)
        for label, (p, port) in procs.items():
            wait_until(f"{label}: ready", lambda: ready(port), 60)
        time.sleep(2)
        files = {}
        for label, (p, port) in procs.items():
            out["idle_memory"][label] = proc_status(p.pid)
        first_port = procs[BUILDS[0][0]][1]
        for f, accept in formats:
            _, ctype, body = http(f"http://127.0.0.1:{first_port}/metrics", accept=accept)
            files[f"/{f}"] = (body, ctype)
            out["bytes"][f] = len(body)
        try:
            nginx = Nginx(files)
        except FileNotFoundError as e:
            log(f"  {e}: no nginx comparison")
        servers = [label for label, _ in BUILDS] + (["nginx"] if nginx else [])
        for i in range(ROUNDS):
            rnd = {"load_start": loadavg(), "rustc_running": rustc_running(), "runs": {}}
            log(f"  round {i + 1} (load {rnd['load_start']}, rustc processes {rnd['rustc_running']})")
            order = servers[i % len(servers):] + servers[: i % len(servers)]
            for f, accept in formats:
                for label in order:
                    if label == "nginx":
                        c0 = nginx.cpu_seconds()
                        w = wrk(nginx.port, accept, f"/{f}")
                        w["cpu_us_per_scrape"] = (nginx.cpu_seconds() - c0) / w["requests"] * 1e6 if w["requests"] else None
                    else:
                        p, port = procs[label]
                        c0 = cpu_seconds(p.pid)
                        w = wrk_sampled(p.pid, port, accept)
                        w["cpu_us_per_scrape"] = (cpu_seconds(p.pid) - c0) / w["requests"] * 1e6 if w["requests"] else None
                    rnd["runs"].setdefault(f, {})[label] = w
                    rss = f", RSS under load {w['rss_load_max_kb']} kB" if "rss_load_max_kb" in w else ""
                    log(f"    {f} {label}: {w['rps']:,.0f}/s, p99 {w.get('p99_ms')} ms{rss}")
            rnd["load_end"] = loadavg()
            out["rounds"].append(rnd)
        for label, (p, port) in procs.items():
            out["memory_after"][label] = proc_status(p.pid)
    finally:
        for p, _ in procs.values():
            p.stop()
        if nginx:
            nginx.stop()
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)
    return out


def rustc_running():
    n = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/comm") as f:
                    n += f.read().strip() == "rustc"
            except OSError:
                pass
    return n


def builds_table(results):
    """Per format, each server's scrapes/s in every round, its median, and the ratios of
    the first build to nginx and to each other build: of the medians, and the lowest and
    highest of the rounds' own ratios. Then the builds' memory."""
    labels = [label for label, _ in BUILDS]
    first = labels[0]
    rows = []
    for n, res in results.items():
        servers = labels + (["nginx"] if any("nginx" in r["runs"].get("classic", {}) for r in res["rounds"]) else [])
        loads = ", ".join(f"{r['load_start'].split()[0]} ({r['rustc_running']} rustc)" for r in res["rounds"])
        rows.append(f"{n:,} workouts, {len(res['rounds'])} rounds; load average (1 min) at each round's start: {loads}")
        rows.append("")
        head = ["format", "server"] + [f"round {i + 1}" for i in range(len(res["rounds"]))] + ["median", f"{first} ÷ this: of the medians", "of each round (lowest–highest)", "CPU per scrape (µs), median"]
        rows += ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 2)]
        for f in ("classic", "openmetrics"):
            for label in servers:
                rps = [r["runs"].get(f, {}).get(label, {}).get("rps") for r in res["rounds"]]
                mine = [r["runs"].get(f, {}).get(first, {}).get("rps") for r in res["rounds"]]
                cells = [f"{f} ({res['bytes'][f]:,} B)", label] + [fmt(x) for x in rps] + [f"**{fmt(median(rps))}**"]
                if label == first:
                    cells += ["", ""]
                else:
                    each = [ratio(a, b) for a, b in zip(mine, rps)]
                    each = [x for x in each if x is not None]
                    cells.append(f"**{fmt(ratio(median(mine), median(rps)), '.2f')}×**")
                    cells.append(f"{min(each):.2f}–{max(each):.2f}×" if each else "–")
                cpu = median([r["runs"].get(f, {}).get(label, {}).get("cpu_us_per_scrape") for r in res["rounds"]])
                cells.append(fmt(cpu, ".1f"))
                rows.append("| " + " | ".join(cells) + " |")
        rows.append("")
        rows.append("| build | binary (bytes) | RSS idle: total (anon + file), MB | RSS under load: lowest–highest of the runs' peak samples, MB | peak (VmHWM), MB |")
        rows.append("|---|---:|---|---|---|")
        for label, path in BUILDS:
            idle = res["idle_memory"][label]
            under = [r["runs"][f][label].get("rss_load_max_kb") for r in res["rounds"] for f in ("classic", "openmetrics") if label in r["runs"].get(f, {})]
            under = [x for x in under if x]
            rows.append(
                f"| {label} | {os.path.getsize(path):,} | {mb(idle['VmRSS']):.2f} ({mb(idle['RssAnon']):.2f} + {mb(idle['RssFile']):.2f}) | "
                f"{mb(min(under)):.2f}–{mb(max(under)):.2f} | {mb(res['memory_after'][label]['VmHWM']):.2f} |"
            )
    return "\n".join(rows)


def machine():
    def cmd(*a):
        try:
            return subprocess.run(a, capture_output=True, text=True, timeout=10).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "?"

    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    import prometheus_client  # noqa: F401  (present: the peer needs it)
    from importlib.metadata import version

    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "rustc": cmd("rustc", "--version"),
        "python": platform.python_version(),
        "prometheus_client": version("prometheus_client"),
        "requests": version("requests"),
        "wrk": cmd("wrk", "--version"),
        "loadavg_start": loadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def ratio(a, b):
    return a / b if a and b else None


def fmt(v, spec=",.0f"):
    return "–" if v is None else format(v, spec)


def cell(ours, peer, better="higher", spec=",.0f", pspec=None):
    """`ours / peer / ratio` with the ratio oriented so that > 1 means ours is better."""
    pspec = pspec or spec
    if peer is None:
        return fmt(ours, spec)
    r = ratio(ours, peer) if better == "higher" else ratio(peer, ours)
    return f"{fmt(ours, spec)} / {fmt(peer, pspec)} / **{fmt(r, ',.1f')}x**"


def mb(kb):
    return None if kb is None else kb / 1024


def table(results):
    """One row per figure, one column per member size; cells are `ours / peer / ratio`."""
    sizes = list(results)
    rows = [
        "| figure (ours / peer / ratio; ratio > 1: ours better) | " + " | ".join(f"{n:,} workouts" for n in sizes) + " |",
        "|---|" + "---:|" * len(sizes),
    ]

    def row(label, f):
        cells = []
        for n in sizes:
            try:
                cells.append(f(results[n]["ours"], results[n].get("peer") or {}))
            except (KeyError, TypeError, ZeroDivisionError):
                cells.append("–")
        rows.append(f"| {label} | " + " | ".join(cells) + " |")

    conns = f"{CONNECTIONS} connections, wrk -t{WRK_THREADS}"
    for f in ("openmetrics", "classic"):
        name = "OpenMetrics" if f == "openmetrics" else "classic 0.0.4"
        row(f"`/metrics` {name}: scrapes/s ({conns})", lambda o, p, f=f: cell(o["scrape"][f]["rps"], p.get("scrape", {}).get(f, {}).get("rps")))
        row(f"`/metrics` {name}: p50 latency (ms)", lambda o, p, f=f: cell(o["scrape"][f].get("p50_ms"), p.get("scrape", {}).get(f, {}).get("p50_ms"), "lower", ".2f", ".1f"))
        row(f"`/metrics` {name}: p99 latency (ms)", lambda o, p, f=f: cell(o["scrape"][f].get("p99_ms"), p.get("scrape", {}).get(f, {}).get("p99_ms"), "lower", ".2f", ".1f"))
        row(f"`/metrics` {name}: p50 / p99 latency (ms), {CONNECTIONS} scrapers each every {PACE_MS} ms", lambda o, p, f=f: f"{o['scrape'][f]['paced']['p50_ms']:.2f} / {o['scrape'][f]['paced']['p99_ms']:.2f} at {o['scrape'][f]['paced']['rps']:,.0f}/s; peer " + (f"{p['scrape'][f]['paced']['p50_ms']:.1f} / {p['scrape'][f]['paced']['p99_ms']:.1f} at {p['scrape'][f]['paced']['rps']:,.0f}/s" if p else "–"))
        row(f"`/metrics` {name}: CPU per scrape (µs)", lambda o, p, f=f: cell(o["scrape"][f].get("cpu_us_per_scrape"), p.get("scrape", {}).get(f, {}).get("cpu_us_per_scrape"), "lower"))
        row(f"`/metrics` {name}: nginx serving the same bytes: scrapes/s, ours ÷ nginx", lambda o, p, f=f: f"{o['scrape']['nginx'][f]['rps']:,.0f}, **{o['scrape'][f]['rps'] / o['scrape']['nginx'][f]['rps']:.2f}x**")
        row(f"`/metrics` {name}: body (bytes)", lambda o, p, f=f: f"{o['scrape'][f]['bytes']:,} / {fmt(p.get('scrape', {}).get(f, {}).get('bytes'))}")
    row("`/healthz` under the same load (floor of machine + wrk): scrapes/s, p50 / p99 ms", lambda o, p: f"{o['scrape']['healthz']['rps']:,.0f}, {o['scrape']['healthz']['p50_ms']:.2f} / {o['scrape']['healthz']['p99_ms']:.2f}")
    row("RSS idle with N stored (MB)", lambda o, p: cell(mb(o["idle_memory"]["VmRSS"]), mb(p.get("idle_memory", {}).get("VmRSS")), "lower", ".1f"))
    row("… of which anonymous + file-backed (MB)", lambda o, p: f"{o['idle_memory']['RssAnon']/1024:.1f} + {o['idle_memory']['RssFile']/1024:.1f} / " + (f"{p['idle_memory']['RssAnon']/1024:.1f} + {p['idle_memory']['RssFile']/1024:.1f}" if p else "–"))
    extra = sorted({b for n in sizes for b in results[n]["ours"].get("other_builds", {})})
    for b in extra:
        row(f"RSS idle, `{b}`: total = anon + file (MB)", lambda o, p, b=b: "{:.1f} = {:.1f} + {:.1f}".format(*(o["other_builds"][b]["idle_memory"][k] / 1024 for k in ("VmRSS", "RssAnon", "RssFile"))))
    row("RSS steady, polling every second (MB)", lambda o, p: cell(mb(o["steady"]["memory"]["VmRSS"]), mb(p.get("steady", {}).get("memory", {}).get("VmRSS")), "lower", ".1f"))
    row("RSS peak: during the first sync (ours), over the cycles (peer) (MB)", lambda o, p: cell(mb(o["sync"]["memory"]["VmHWM"]), mb(p.get("steady", {}).get("memory", {}).get("VmHWM")), "lower", ".1f"))
    row("RSS after the scrape runs (MB)", lambda o, p: cell(mb(o["scrape"]["memory_after"]["VmRSS"]), mb(p.get("scrape", {}).get("memory_after", {}).get("VmRSS")), "lower", ".1f"))
    row("Peloton requests per steady poll", lambda o, p: cell(o["steady"]["requests_per_poll"], p.get("steady", {}).get("requests_per_poll"), "lower", ".2f", ".0f"))
    row("Peloton bytes per steady poll (kB)", lambda o, p: cell(o["steady"]["bytes_per_poll"] / 1e3, (p.get("steady", {}).get("bytes_per_poll") or 0) / 1e3 or None, "lower", ",.1f", ",.0f"))
    row("CPU per poll cycle (ms)", lambda o, p: cell(o["steady"]["cpu_ms_per_poll"], p.get("steady", {}).get("cpu_ms_per_poll"), "lower", ".2f", ",.0f"))
    row("Peloton requests per new workout (ours; peer: its next cycle)", lambda o, p: cell(o["new_workout"]["requests_per_workout"], p.get("steady", {}).get("requests_per_poll"), "lower", ".2f", ".0f"))
    row("Peloton kB per new workout (ours; peer: its next cycle)", lambda o, p: cell(o["new_workout"]["bytes_per_workout"] / 1e3, (p.get("steady", {}).get("bytes_per_poll") or 0) / 1e3 or None, "lower", ",.0f"))
    row("first full sync (ours): requests = list pages (≤ ceil(N/100)) + graphs + details + me, overview, token", lambda o, p: f"{o['sync']['traffic']['requests']:,} = {o['sync']['list_pages']} (≤ {o['sync']['page_budget']}) + {o['sync']['graphs']:,} + {o['sync']['details']} + 3")
    row("first full sync (ours): MB received, seconds at 1,000 req/s, CPU s", lambda o, p: f"{o['sync']['traffic']['bytes']/1e6:,.1f}, {o['sync']['seconds']:.1f}, {o['sync']['cpu_s']:.2f}")
    row("first cycle (peer): requests, MB, seconds", lambda o, p: f"{p['first']['traffic']['requests']}, {p['first']['traffic']['bytes']/1e6:.1f}, {p['first']['seconds']:.1f}")
    row("backfill command: ms per 1,000 workouts, file MB, max RSS MB", lambda o, p: f"{o['backfill']['ms_per_1000']:.0f}, {o['backfill']['bytes']/1e6:.1f}, {o['backfill']['max_rss_kb']/1024:.1f}")
    return "\n".join(rows)


def main():
    for path in (FAKE,) if BUILDS else (EXPORTER, FAKE):
        if not os.path.exists(path):
            sys.exit(f"{path} is missing: run bench/run.sh (it builds the release binaries)")
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")
    info = machine()
    log(f"machine: {info}")
    results = {}
    started = time.monotonic()
    if BUILDS:
        for label, path in BUILDS:
            if not os.path.exists(path):
                sys.exit(f"{label}: {path} is missing")
        info["builds"] = {label: {"path": path, "bytes": os.path.getsize(path)} for label, path in BUILDS}
        for n in SIZES:
            log(f"== {n} workouts (load {loadavg()})")
            fake = Fake(n)
            try:
                results[n] = builds(fake, n)
            finally:
                fake.stop()
        info["loadavg_end"] = loadavg()
        info["seconds"] = round(time.monotonic() - started)
        md = builds_table(results)
        os.makedirs(OUT_DIR, exist_ok=True)
        with open(os.path.join(OUT_DIR, "builds.json"), "w") as f:
            json.dump({"machine": info, "results": results}, f, indent=1)
        with open(os.path.join(OUT_DIR, "builds.md"), "w") as f:
            f.write(md + "\n")
        print(json.dumps(info))
        print(md)
        return
    for n in SIZES:
        log(f"== {n} workouts (load {loadavg()})")
        fake = Fake(n)
        try:
            results[n] = {"ours": ours(fake, n), "load_after_ours": loadavg()}
            if not SKIP_PEER:
                results[n]["peer"] = peer(fake, n)
                results[n]["load_after_peer"] = loadavg()
        finally:
            fake.stop()
    info["loadavg_end"] = loadavg()
    info["seconds"] = round(time.monotonic() - started)
    md = table(results)
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(os.path.join(OUT_DIR, "whole_process.json"), "w") as f:
        json.dump({"machine": info, "results": results}, f, indent=1)
    with open(os.path.join(OUT_DIR, "whole_process.md"), "w") as f:
        f.write(md + "\n")
    print(json.dumps(info))
    print(md)


if __name__ == "__main__":
    main()
