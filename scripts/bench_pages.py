"""Benchmark: every key page of a clinic group's database under gunicorn,
side by side with a bare Flask hello-world app.

1. The big clinic (``scripts/bigclinic.py``: 20,000 patients, three years of
   visits, 5,000 culture batches, 100,000 audit rows, 40,000 messages) is
   seeded, or taken from the cache (``instance/bench/``, keyed by the scale,
   the migration head, the seed script and the clinic's date) and copied for
   the run.
2. Each page's SQL statements are counted in-process (test client,
   ``StatementCounter``), and the page must answer 200.
3. gunicorn (2 sync workers, 127.0.0.1, a spare port) serves the app with the
   production settings (``config.ProductionConfig``; cookies not marked
   Secure, as the benchmark speaks plain HTTP; the rate limiter ON with its
   normal storage) and, on another port, ``scripts/hello_app.py``.
4. Each role logs in over HTTP (the real form, its CSRF token).
5. The limiter is checked: one address asking the availability endpoint
   without pause must be refused (429) within its limit. The load itself then
   comes from many addresses, as a reverse proxy reports them
   (``PROXY_COUNT=1``, ``X-Forwarded-For`` from a wrk script): the clinic's
   patients, each under the limit.
6. For each page, alternately: hello world, then the page, each ``wrk -t2
   -c16 -d<N>s --latency`` (and a last hello run). Requests/sec, the 99th
   percentile of latency, and the CPU the gunicorn workers spent
   (``/proc/<pid>/stat`` utime+stime) per request are read.

It prints a table and writes ``bench/results.json``; it fails (exit 1) when a
page answers anything but 2xx (wrk's "Non-2xx or 3xx responses"), or a
request errs or times out.

    make bench                                         # all benchmarks
    .venv/bin/python scripts/bench_pages.py            # 5 s per run
    .venv/bin/python scripts/bench_pages.py --scale 0.05 --duration 2
    bash scripts/with-postgres.sh .venv/bin/python scripts/bench_pages.py --database postgresql
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import hashlib
import io
import json
import os
import platform
import pstats
import re
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
for folder in (ROOT, SCRIPTS):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import bigclinic  # noqa: E402
from benchlib import StatementCounter  # noqa: E402

#: A request not answered within this long counts as a timeout (reported).
WRK_TIMEOUT = 120
#: A slow page runs longer (up to this), so that some requests complete.
LONGEST_RUN = 60
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SERVER_SETTINGS = {
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_SECURE": False,
    "PREFERRED_URL_SCHEME": "http",
}
#: Every request from another address (10.x.y.z), as a proxy in front reports it.
WRK_SCRIPT = """
local n = 0
function setup(thread)
  n = n + 1
  thread:set("id", n)
end
function init(args)
  math.randomseed(os.time() * 1000 + (id or 0))
end
function request()
  wrk.headers["X-Forwarded-For"] = "10." .. math.random(0, 255) .. "." ..
    math.random(0, 255) .. "." .. math.random(1, 254)
  return wrk.format(nil)
end
"""


def server_app():
    """The app as gunicorn serves it here (``bench_pages:server_app()``)."""
    from intake import create_app

    return create_app(SERVER_SETTINGS, config_object="config.ProductionConfig")


def log(message: str) -> None:
    print(message, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def migration_head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(ROOT / "migrations")).get_current_head()


# --------------------------------------------------------------------- the database


def sqlite_database(scale: float, cache: Path, workdir: Path) -> str:
    """A copy of the cached big clinic for this scale, head and day (seeded
    when missing)."""
    zone = ZoneInfo(os.environ.get("CLINIC_TIMEZONE", "Asia/Tokyo"))
    day = datetime.now(zone).date().isoformat()
    cache.mkdir(parents=True, exist_ok=True)
    # Seeded again when the schema, the seed, the scale or the clinic's day changes.
    recipe = hashlib.sha256((SCRIPTS / "bigclinic.py").read_bytes()).hexdigest()[:8]
    cached = cache / f"bigclinic-{migration_head()}-{recipe}-{scale:g}-{day}.db"
    if cached.exists():
        log(f"database: the cached {cached.name}")
    else:
        building = cache / f"building-{os.getpid()}.db"
        log(f"database: seeding {cached.name} (scale {scale:g})")
        bigclinic.seed(str(building), scale, log=log)
        with contextlib.closing(sqlite3.connect(building)) as conn:
            conn.execute("PRAGMA journal_mode=DELETE")  # one file, the log folded in
        building.rename(cached)
        for stale in cache.glob("bigclinic-*.db"):
            if stale != cached and stale.stat().st_mtime < time.time() - 86400:
                stale.unlink()
    target = workdir / "clinic.db"
    shutil.copyfile(cached, target)
    return bigclinic.database_url(str(target))


def postgresql_database(scale: float) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url or not url.startswith("postgresql"):
        raise SystemExit("--database postgresql: run under scripts/with-postgres.sh")
    log(f"database: seeding PostgreSQL (scale {scale:g})")
    bigclinic.seed(url, scale, log=log)
    return url


# ------------------------------------------------------------- in-process counting


def count_statements(url: str) -> tuple[list, dict, dict]:
    """The pages (name, role, url), the statements each sends (warm) and its
    time in-process (ms), each checked for a 200 answer."""
    from sqlalchemy import event

    from intake import create_app
    from intake.extensions import db

    app = create_app(
        {
            **SERVER_SETTINGS,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-counting",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        },
        config_object="config.ProductionConfig",
    )
    with app.app_context():
        pages = bigclinic.pages()
        engine = db.engine
    # Each request in its own application context, as under gunicorn (an
    # outer one would share ``g``, and its cached settings, across requests).
    counts, times = {}, {}
    clients = {}
    for name, role, url_path in pages:
        if role not in clients:
            clients[role] = app.test_client()
            credentials = bigclinic.login(role)
            if credentials:
                form = {"email": credentials[0], "password": credentials[1]}
                with clients[role].post("/login", data=form) as response:
                    assert response.status_code == 302, (role, response.status_code)
        client = clients[role]
        with client.get(url_path) as response:  # warm: templates, caches
            if response.status_code != 200:
                raise SystemExit(f"{name}: {url_path} answered {response.status_code}")
        counter = StatementCounter()
        event.listen(engine, "before_cursor_execute", counter._before)
        started = time.perf_counter()
        try:
            with client.get(url_path) as response:
                response.get_data()
        finally:
            event.remove(engine, "before_cursor_execute", counter._before)
        counts[name] = len(counter.statements)
        times[name] = (time.perf_counter() - started) * 1000
    engine.dispose()
    return pages, counts, times


def profile_pages(url: str, pages: list, names: list[str], runs: int = 10) -> dict[str, str]:
    """cProfile of ``runs`` in-process requests of each named page: the top
    functions by own time and by cumulative time."""
    from intake import create_app
    from intake.extensions import db

    app = create_app(
        {
            **SERVER_SETTINGS,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-profile",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        },
        config_object="config.ProductionConfig",
    )
    reports = {}
    with app.app_context():
        for name, role, url_path in pages:
            if name not in names:
                continue
            client = app.test_client()
            credentials = bigclinic.login(role)
            if credentials:
                form = {"email": credentials[0], "password": credentials[1]}
                client.post("/login", data=form).close()
            client.get(url_path).close()
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(runs):
                client.get(url_path).close()
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).strip_dirs()
            out.write(f"== {name} ({url_path}), {runs} requests, by own time\n")
            stats.sort_stats("tottime").print_stats(15)
            out.write(f"== {name}, by cumulative time\n")
            stats.sort_stats("cumulative").print_stats(25)
            reports[name] = out.getvalue()
        db.session.remove()
        db.engine.dispose()
    return reports


# ------------------------------------------------------------------------ the server


class Server:
    """gunicorn, 2 sync workers on 127.0.0.1, for the app or hello world."""

    def __init__(self, target: str, env: dict, log_path: Path):
        self.target, self.env, self.log_path = target, env, log_path
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "120",
            "--graceful-timeout",
            "5",
            "--pythonpath",
            f"{ROOT},{SCRIPTS}",
            "--chdir",
            str(ROOT),
            self.target,
        ]
        with self.log_path.open("w") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our own command line
                command, env={**os.environ, **self.env}, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn {self.target} stopped: see {self.log_path}")
            try:
                conn = HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/")
                conn.getresponse().read()
                conn.close()
                if len(self.workers()) == 2:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn {self.target} did not answer: see {self.log_path}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def wait_idle(self, limit: float = 300) -> None:
        """Until the workers stop using CPU (the requests wrk left queued are done)."""
        deadline = time.monotonic() + limit
        _, last = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.3)
            _, now = self.cpu_seconds()
            if now - last < 0.02:
                return
            last = now

    def workers(self) -> list[int]:
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == self.process.pid:
                pids.append(int(entry))
        return sorted(pids)

    def cpu_seconds(self) -> tuple[list[int], float]:
        """The workers and the CPU time (user + system) they have used."""
        ticks = os.sysconf("SC_CLK_TCK")
        pids, total = self.workers(), 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return pids, total / ticks


def http(port: int, method: str, path: str, cookies: dict, form: dict | None = None):
    headers = {"Host": f"127.0.0.1:{port}"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    body = None
    if form is not None:
        body = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn = HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for cookie in response.msg.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.getheader("Location", ""), text
    finally:
        conn.close()


def log_in_over_http(port: int, email: str, password: str) -> str:
    """The Cookie header of a session logged in through the real form."""
    cookies: dict = {}
    status, _, text = http(port, "GET", "/login", cookies)
    match = CSRF_RE.search(text)
    if status != 200 or not match:
        raise SystemExit(f"GET /login answered {status} without a CSRF token")
    form = {"csrf_token": match.group(1), "email": email, "password": password}
    status, location, _ = http(port, "POST", "/login", cookies, form)
    if status != 302 or location.endswith("/login"):
        raise SystemExit(f"login of {email} answered {status} {location}")
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def check_limiter(port: int, path: str) -> dict:
    """The rate limit headers of ``path`` asked three times from one address."""
    remaining = []
    limit = None
    for _ in range(3):
        conn = HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request("GET", path, headers={"X-Forwarded-For": "192.0.2.1"})
            response = conn.getresponse()
            response.read()
            limit = response.getheader("X-RateLimit-Limit")
            remaining.append(response.getheader("X-RateLimit-Remaining"))
        finally:
            conn.close()
    return {"address": "192.0.2.1", "limit": limit, "remaining": remaining}


# --------------------------------------------------------------------------- wrk


@dataclass
class Run:
    rps: float
    p99_ms: float | None
    requests: int
    non_2xx: int
    errors: int
    timeouts: int
    cpu_ms_per_request: float


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parse_wrk(text: str) -> dict:
    rps = re.search(r"Requests/sec:\s*([\d.]+)", text)
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
    total = re.search(r"(\d+) requests in", text)
    if not (rps and total):
        raise SystemExit(f"could not read wrk's output:\n{text}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", text)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    socket = [int(n) for n in errors.groups()] if errors else [0, 0, 0, 0]
    return {
        "rps": float(rps.group(1)),
        "p99_ms": float(p99.group(1)) * _UNITS[p99.group(2)] if p99 else None,
        "requests": int(total.group(1)),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "errors": sum(socket[:3]),
        "timeouts": socket[3],
    }


def wrk(
    server: Server, path: str, args, cookie: str | None, script: Path | None, seconds: int
) -> Run:
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{seconds}s",
        "--timeout",
        f"{WRK_TIMEOUT}s",
        "--latency",
    ]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    if script:
        command += ["-s", str(script)]
    command.append(f"http://127.0.0.1:{server.port}{path}")
    before_pids, before = server.cpu_seconds()
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    after_pids, after = server.cpu_seconds()
    server.wait_idle()  # requests still queued when wrk stopped must not slow the next run
    if result.returncode != 0:
        raise SystemExit(f"wrk failed: {result.stderr or result.stdout}")
    figures = parse_wrk(result.stdout)
    if before_pids != after_pids:
        log(f"  warning: the workers changed during the run ({before_pids} -> {after_pids})")
    cpu = (after - before) * 1000 / max(figures["requests"], 1)
    return Run(cpu_ms_per_request=round(cpu, 2), **figures)


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--cache", type=Path, default=ROOT / "instance" / "bench")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--pages", nargs="*", help="only these pages (names)")
    parser.add_argument(
        "--profile", type=int, default=0, help="cProfile the N slowest pages afterwards"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk (make bench installs it)")

    workdir = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    servers: list[Server] = []
    try:
        started = time.perf_counter()
        if args.database == "sqlite":
            url = sqlite_database(args.scale, args.cache, workdir)
        else:
            url = postgresql_database(args.scale)
        log(f"database ready in {time.perf_counter() - started:.0f} s")
        pages, statements, in_process = count_statements(url)
        if args.pages:
            pages = [p for p in pages if p[0] in args.pages]
        log("statements counted: " + ", ".join(f"{n} {c}" for n, c in statements.items()))

        env = {
            "INTAKE_ENV": "production",
            "DATABASE_URL": url,
            "SECRET_KEY": secrets.token_hex(32),
            "PROXY_COUNT": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        app = Server("bench_pages:server_app()", env, workdir / "app.log")
        hello = Server("hello_app:app", env, workdir / "hello.log")
        servers += [app, hello]
        app.start()
        hello.start()
        script = workdir / "addresses.lua"
        script.write_text(WRK_SCRIPT)

        cookies = {}
        for _name, role, _url in pages:
            if role and role not in cookies:
                cookies[role] = log_in_over_http(app.port, *bigclinic.login(role))
        log(f"logged in over HTTP: {', '.join(cookies)}")

        # The limiter is on and counts each address: its headers on the
        # availability endpoint (limit, remaining), and a second request
        # from the same address has fewer remaining on that worker.
        availability = next((p for p in pages if p[1] is None), None)
        limiter = None
        if availability:
            limiter = check_limiter(app.port, availability[2])
            log(
                f"rate limiter: {availability[0]} answers X-RateLimit-Limit "
                f"{limiter['limit']}, remaining {limiter['remaining']} for one address"
            )
            if not limiter["limit"]:
                log("  the rate limiter is not on: the benchmark measures what production runs")
                return 1

        hellos: list[Run] = []
        results: dict[str, dict] = {}
        for name, role, path in pages:
            # A slow page runs long enough for each connection's request to
            # come back about three times (bounded).
            queued = in_process[name] / 1000 * args.connections / 2
            seconds = max(args.duration, min(LONGEST_RUN, round(3 * queued)))
            hellos.append(wrk(hello, "/", args, None, script, args.duration))
            run = wrk(app, path, args, cookies.get(role), script, seconds)
            results[name] = {"path": path, "seconds": seconds, **asdict(run)}
            refused = f"  NON-2xx: {run.non_2xx}" if run.non_2xx else ""
            log(
                f"{name:26} {run.rps:8.1f} req/s  p99 {run.p99_ms or 0:8.1f} ms  "
                f"CPU {run.cpu_ms_per_request:7.2f} ms/req  "
                f"(hello {hellos[-1].rps:.0f} req/s){refused}"
            )
        hellos.append(wrk(hello, "/", args, None, script, args.duration))
        hello_rps = statistics.median(r.rps for r in hellos)
        hello_cpu = statistics.median(r.cpu_ms_per_request for r in hellos)
        names = list(results)
        out_pages = {}
        for k, name in enumerate(names):
            r = results[name]
            adjacent = (hellos[k].rps + hellos[k + 1].rps) / 2
            out_pages[name] = {
                "rps": round(r["rps"], 1),
                "p99_ms": round(r["p99_ms"], 1) if r["p99_ms"] is not None else None,
                "ratio": round(r["rps"] / hello_rps, 6),
                "cpu_ms_per_request": r["cpu_ms_per_request"],
                "queries": statements[name],
                "ratio_to_adjacent_hello": round(r["rps"] / adjacent, 6),
                "requests": r["requests"],
                "non_2xx": r["non_2xx"],
                "errors": r["errors"],
                "timeouts": r["timeouts"],
                "seconds": r["seconds"],
                "in_process_ms": round(in_process[name], 1),
                "path": r["path"],
            }
    finally:
        for server in servers:
            server.stop()

    result = {
        "hello_rps": round(hello_rps, 1),
        "pages": out_pages,
        "hello_cpu_ms_per_request": hello_cpu,
        "hello_runs_rps": [round(r.rps, 1) for r in hellos],
        "rate_limiter_check": limiter,
        "database": args.database,
        "scale": args.scale,
        "migration_head": migration_head(),
        "wrk": f"-t{args.threads} -c{args.connections} -d{args.duration}s --latency",
        "server": "gunicorn, 2 sync workers, 127.0.0.1, config.ProductionConfig",
        "machine": f"{os.cpu_count()} cores, {cpu_model()}, "
        f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")

    log("")
    log(result["machine"])
    log(
        f"hello world: {hello_rps:.0f} req/s (median of {len(hellos)} runs), "
        f"CPU {hello_cpu:.2f} ms/req"
    )
    log("| page | req/s | ratio to hello | p99 | CPU ms/request | SQL statements |")
    log("|---|---:|---:|---:|---:|---:|")
    for name, r in out_pages.items():
        log(
            f"| {name} | {r['rps']:.1f} | {r['ratio']:.4f} | {r['p99_ms'] or 0:.0f} ms | "
            f"{r['cpu_ms_per_request']:.1f} | {r['queries']} |"
        )
    log(f"written: {args.output}")

    if args.profile:
        slowest = sorted(out_pages, key=lambda n: out_pages[n]["rps"])[: args.profile]
        for report in profile_pages(url, pages, slowest).values():
            log(report)
    shutil.rmtree(workdir, ignore_errors=True)

    for name, r in out_pages.items():
        if r["timeouts"]:
            log(f"slow: {name}: {r['timeouts']} requests not answered within {WRK_TIMEOUT} s")
    failed = {n: r for n, r in out_pages.items() if r["non_2xx"] or r["errors"]}
    if failed:
        for name, r in failed.items():
            log(f"FAILED {name}: {r['non_2xx']} non-2xx answers, {r['errors']} errors")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
