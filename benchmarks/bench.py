#!/usr/bin/env python3
"""Benchmark of the authcourse mini-server, side by side with the seed lesson's Express server.

    .venv/bin/python benchmarks/bench.py            # the full run (about 9 minutes on 2 cores)
    .venv/bin/python benchmarks/bench.py --quick    # a smoke run (about 1 minute)
    REPS=5 DURATION=10 WARMUP=2 .venv/bin/python benchmarks/bench.py   # the peer's own settings

Prints one progress line per measurement, then the tables and the targets of issues 2 and 8 as
PASS/FAIL lines. Raw results, the transcript and a chart go to benchmarks/results/.
See benchmarks/README.md for how to read them.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import loadgen  # noqa: E402
import report  # noqa: E402
from loadgen import Process, Target, WrkSettings  # noqa: E402

from authcourse.realservers.process import free_port  # noqa: E402

DEFAULT_SEED = ROOT.parent / "shared" / "anchors" / "express-seed"
RAW_FIELDS = ["label", "side", "scenario", "rep", "conns", "duration_s", "rps", "p50_ms", "p90_ms", "p99_ms", "mean_ms",
              "max_ms", "requests", "non2xx", "sock_errors", "cpu_us_per_req", "server_cores", "error"]


class Out:
    """Prints as it goes, and keeps a transcript for results/output.txt."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)


say = Out()


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke run: 1 rep of 1 s runs, no warm-up, fewer repeats")
    p.add_argument("--reps", type=int, help="interleaved repetitions (env REPS; default 5, quick 1)")
    p.add_argument("--duration", type=int, help="seconds per measured wrk run (env DURATION; default 3, quick 1)")
    p.add_argument("--warmup", type=int, help="seconds of wrk warm-up before each run (env WARMUP; default 1, quick 0)")
    p.add_argument("--conns", type=int, help="wrk connections (env CONNS; default 32, as the peer)")
    p.add_argument("--starts", type=int, help="CourseServer starts to time (env STARTS; default 50, quick 10; token mode: half)")
    p.add_argument("--samples", type=int, help="logins for bytes/login latency (env SAMPLES; default 5, quick 2)")
    p.add_argument("--out", type=Path, default=HERE / "results", help="results folder (default benchmarks/results)")
    p.add_argument("--express-seed", type=Path, default=DEFAULT_SEED, help="the peer's folder (read-only)")
    p.add_argument("--no-express", action="store_true", help="skip the Express peer")
    p.add_argument("--no-micro", action="store_true", help="skip the in-process micro-costs")
    p.add_argument("--no-load", action="store_true", help="skip the wrk runs")
    args = p.parse_args()
    quick = args.quick
    args.reps = args.reps or env_int("REPS", 1 if quick else 5)
    args.duration = args.duration or env_int("DURATION", 1 if quick else 3)
    args.warmup = args.warmup if args.warmup is not None else env_int("WARMUP", 0 if quick else 1)
    args.conns = args.conns or env_int("CONNS", 32)
    args.starts = args.starts or env_int("STARTS", 10 if quick else 50)
    args.samples = args.samples or env_int("SAMPLES", 2 if quick else 5)
    args.micro_repeat = 3 if quick else 5
    args.login_samples = 2 if quick else 5
    return args


# Environment --------------------------------------------------------------------------------


def run_text(argv: list[str], cwd: Path | None = None) -> str:
    try:
        out = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=30)
        return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr).strip() else "?"
    except (OSError, subprocess.SubprocessError):
        return "not found"


def environment(express_dir: Path | None) -> dict[str, str]:
    env: dict[str, str] = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    env["cpu"] = f"{cpu}, {os.cpu_count()} cores"
    env["host"] = f"{platform.system()} {platform.release()} {platform.machine()}"
    env["loadavg at start"] = Path("/proc/loadavg").read_text().strip()
    env["python"] = platform.python_version()
    for dist in ("authcourse", "fastapi", "starlette", "granian", "uvicorn", "uvloop", "httptools", "pydantic", "PyJWT",
                 "bcrypt", "fakeredis", "redis"):
        try:
            env[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            env[dist] = "not installed"
    head = run_text(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"], capture_output=True,
                           text=True).stdout.strip()
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted((ROOT / "src" / "authcourse").glob("*.py"))))
    env["authcourse source"] = (f"git {head}" + (" + uncommitted changes in src/" if dirty else " (src/ clean)")
                                + f", src/authcourse/*.py sha256 {digest.hexdigest()[:12]}")
    env["node"] = run_text(["node", "--version"]) if shutil.which("node") else "not found"
    if express_dir is not None:
        for pkg in ("express", "express-session", "jsonwebtoken", "bcrypt", "ioredis"):
            try:
                env[f"npm {pkg}"] = json.loads((express_dir / "node_modules" / pkg / "package.json").read_text())["version"]
            except (OSError, ValueError, KeyError):
                env[f"npm {pkg}"] = "?"
    env["wrk"] = run_text(["wrk", "-v"]) if loadgen.wrk_available() else "not found"
    env["redis-server"] = run_text(["redis-server", "--version"]) if shutil.which("redis-server") else "not found"
    return env


# The Express peer -----------------------------------------------------------------------------


def prepare_express(seed: Path, work: Path) -> Path | None:
    """A writable copy of the peer with its node_modules; None (and why) if it cannot be had."""
    if not (seed / "server.js").exists():
        say(f"SKIP Express peer: {seed}/server.js not found (pass --express-seed PATH)")
        return None
    if not (shutil.which("node") and shutil.which("npm")):
        say("SKIP Express peer: node and npm are needed (Debian: apt-get install nodejs npm)")
        return None
    for source in seed.rglob("*"):
        relative = source.relative_to(seed)
        if relative.parts[0] in ("node_modules", "results") or not source.is_file():
            continue
        target = work / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    stamp = work / "node_modules" / ".bench-package.json"
    package = (work / "package.json").read_text()
    if not stamp.exists() or stamp.read_text() != package:
        say(f"npm install in {work} ...")
        started = time.monotonic()
        out = subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=work, capture_output=True, text=True,
                             timeout=600)
        if out.returncode != 0:
            say(f"SKIP Express peer: npm install failed ({out.returncode}): {out.stderr[-800:]}")
            return None
        stamp.write_text(package)
        say(f"npm install done in {time.monotonic() - started:.0f} s")
    return work


# Servers --------------------------------------------------------------------------------------

# label, CLI arguments, what
OURS = [
    ("fastapi-session", ["--mode", "session"], "session, fakeredis"),
    ("fastapi-session-memory", ["--mode", "session", "--store", "memory"], "session, memory"),
    ("fastapi-session-redis", ["--mode", "session", "--store", "{redis}"], "session, real Redis"),
    ("fastapi-token", ["--mode", "token", "--revocation", "none"], "token (Bearer), none"),
    ("fastapi-blacklist", ["--mode", "token", "--revocation", "blacklist"], "token, blacklist, fakeredis"),
    ("fastapi-version", ["--mode", "token", "--revocation", "version"], "token, version, fakeredis"),
    ("fastapi-blacklist-redis", ["--mode", "token", "--revocation", "blacklist", "--store", "{redis}"],
     "token, blacklist, real Redis"),
    ("fastapi-cookie-token", ["--mode", "cookie-token"], "JWT in cookie, none"),
    # The same servers with every signature checked on every request (no signature cache), so that each
    # figure can be read both ways: what the course's server does, and what a server without the memory does.
    ("fastapi-session-nocache", ["--mode", "session", "--no-signature-cache"], "session, fakeredis, no cache"),
    ("fastapi-session-memory-nocache", ["--mode", "session", "--store", "memory", "--no-signature-cache"],
     "session, memory, no cache"),
    ("fastapi-token-nocache", ["--mode", "token", "--revocation", "none", "--no-signature-cache"],
     "token (Bearer), none, no cache"),
    ("fastapi-blacklist-redis-nocache",
     ["--mode", "token", "--revocation", "blacklist", "--store", "{redis}", "--no-signature-cache"],
     "token, blacklist, real Redis, no cache"),
]
# label, env, what (as the peer's load/bench-express.sh starts them)
THEIRS = [
    ("express-session", {"MODE": "session"}, "express-session, MemoryStore"),
    ("express-token", {"MODE": "token"}, "jsonwebtoken, string secret"),
    ("express-token-keyobject", {"MODE": "token", "JWT_KEY": "keyobject"}, "jsonwebtoken, KeyObject"),
    ("express-blacklist", {"MODE": "blacklist", "REDIS_DB": "0"}, "string secret + Redis GET"),
    ("express-blacklist-keyobject", {"MODE": "blacklist", "JWT_KEY": "keyobject", "REDIS_DB": "1"},
     "KeyObject + Redis GET"),
]
# Interleaving: on a shared VM the speed of the machine drifts from one run to the next, so the runs behind each
# ratio are kept next to each other. A group is pairs of servers, ours and the peer's. Each pair runs as
# X health, X profile, Y profile, Y health: profile/health of one server is two adjacent runs, and so is
# ours/theirs on /api/profile. Every repetition swaps X and Y, and rotates the pairs and the groups, as the
# peer's load/bench.sh rotates its targets.
GROUPS = [
    ["fastapi-session", "express-session", "fastapi-session-memory", "fastapi-session-redis"],
    ["fastapi-session-nocache", "fastapi-session-memory-nocache"],
    ["fastapi-token", "express-token-keyobject", "express-token", "fastapi-cookie-token"],
    ["fastapi-token-nocache", "fastapi-blacklist-redis-nocache"],
    ["fastapi-blacklist-redis", "express-blacklist-keyobject", "fastapi-blacklist", "express-blacklist",
     "fastapi-version"],
]
ORDER = [label for group in GROUPS for label in group]
STARVED_CORES = 0.8  # a server that is the bottleneck but got less CPU than this was sharing its core


def authcourse_command() -> list[str]:
    script = Path(sys.executable).parent / "authcourse"
    return [str(script)] if script.exists() else [sys.executable, "-m", "authcourse"]


def start_servers(args, logs: Path, express_dir: Path | None, our_redis, their_redis, processes: list) -> list[Target]:
    pending = []
    for label, cli, what in OURS:
        if "{redis}" in cli and our_redis is None:
            say(f"SKIP {label}: no redis-server")
            continue
        # DB 2 of the one redis-server: the Express blacklist servers use DB 0 and 1 of the same one.
        cli = [our_redis.url.rsplit("/", 1)[0] + "/2" if part == "{redis}" else part for part in cli]
        port = free_port()
        proc = Process(label, [*authcourse_command(), "serve", *cli, "--port", str(port), "--quiet"],
                       log=logs / f"{label}.log")
        processes.append(proc)
        pids = [proc.pid] + ([our_redis.pid] if "redis" in label else [])
        pending.append(Target(label, "ours", f"http://127.0.0.1:{port}", proc, pids, what))
    if express_dir is not None:
        for label, extra, what in THEIRS:
            if extra["MODE"] == "blacklist" and their_redis is None:
                say(f"SKIP {label}: no redis-server")
                continue
            port = free_port()
            env = dict(os.environ, NODE_ENV="production", HOST="127.0.0.1", PORT=str(port))
            env.update({k: v for k, v in extra.items() if k != "REDIS_DB"})
            if their_redis is not None:
                # Each blacklist server its own DB, as in the peer's script (jti-less tokens can collide).
                env["REDIS_URL"] = f"redis://127.0.0.1:{their_redis.port}/{extra.get('REDIS_DB', '0')}"
            proc = Process(label, ["node", "server.js"], log=logs / f"{label}.log", cwd=express_dir, env=env)
            processes.append(proc)
            pids = [proc.pid] + ([their_redis.pid] if extra["MODE"] == "blacklist" else [])
            pending.append(Target(label, "express", f"http://127.0.0.1:{port}", proc, pids, what))
    targets = []
    for target in pending:
        try:
            target.ready_s = loadgen.wait_ready(target.url, target.process)
        except RuntimeError as error:
            say(f"FAILED to start {target.label}: {error}")
            continue
        target.cpu_pids += loadgen.descendants(target.process.pid)  # granian serves from a worker process
        targets.append(target)
        say(f"  up     {target.label:<28} {target.url}  pid {target.process.pid}  "
            f"(ready {target.ready_s:.1f} s after spawn; all started at once)")
    return sorted(targets, key=lambda t: ORDER.index(t.label))


class Redis:
    """authcourse's RedisServer, plus the pid we need for CPU accounting."""

    def __init__(self) -> None:
        from authcourse.realservers.redis import RedisServer

        self.server = RedisServer().start()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def pid(self) -> int:
        return self.server.pid

    def stop(self) -> None:
        self.server.cleanup()


def maybe_redis(what: str) -> Redis | None:
    if not shutil.which("redis-server"):
        say(f"SKIP real Redis for {what}: redis-server not installed (Debian: apt-get install redis-server)")
        return None
    return Redis()


# Measurements ---------------------------------------------------------------------------------


def measure_bytes(targets: list[Target], samples: int) -> list[dict]:
    """Sizes of what travels with every request, and login latency, from real logins."""
    wanted = ["fastapi-session", "express-session", "fastapi-token", "express-token", "fastapi-cookie-token"]
    rows = []
    for target in [t for label in wanted for t in targets if t.label == label]:
        items: dict[str, list[float]] = {}
        for _ in range(samples):
            cred = loadgen.login(target.url)
            values = {"login_ms": cred.seconds * 1e3, "login_body": cred.body_bytes,
                      "request_header": len(cred.header)}
            if cred.set_cookie_line:
                values["set_cookie_header"] = len(cred.set_cookie_line)
                values["cookie_value"] = len(cred.header.split("=", 1)[1])
            if cred.token:
                values["jwt"] = len(cred.token)
            values["profile_body"] = len(loadgen.request(target.url, "GET", "/api/profile", header=cred.header).body)
            for key, value in values.items():
                items.setdefault(key, []).append(value)
        row = {"label": target.label, "credential": cred.header.split(":")[0], "example_header": cred.header,
               "example_set_cookie": cred.set_cookie_line,
               **{k: {"min": min(v), "median": statistics.median(v), "max": max(v)} for k, v in items.items()}}
        rows.append(row)
        say(f"  bytes  {target.label:<24} {row['credential']} header {row['request_header']['median']:.0f} B"
            + (f", Set-Cookie line {row['set_cookie_header']['median']:.0f} B" if "set_cookie_header" in row else "")
            + (f", JWT {row['jwt']['median']:.0f} chars" if "jwt" in row else "")
            + f"; login {row['login_ms']['median']:.0f} ms")
    return rows


def rotated(items: list, by: int) -> list:
    by %= max(1, len(items))
    return items[by:] + items[:by]


def schedule(targets: list[Target], reps: int) -> list[tuple[int, str, Target]]:
    by_label = {t.label: t for t in targets}
    groups = [[by_label[label] for label in group if label in by_label] for group in GROUPS]
    groups = [group for group in groups if group]
    runs = []
    for rep in range(1, reps + 1):
        for group in rotated(groups, rep - 1):
            pairs = [group[i : i + 2] for i in range(0, len(group), 2)]
            for pair in rotated(pairs, rep - 1):
                for position, target in enumerate(pair if rep % 2 else pair[::-1]):
                    scenarios = ("health", "profile") if position == 0 else ("profile", "health")
                    runs += [(rep, scenario, target) for scenario in scenarios]
    return runs


def run_load(targets: list[Target], ws: WrkSettings, reps: int, raw_path: Path) -> list[dict]:
    rows: list[dict] = []
    runs = schedule(targets, reps)
    total = len(runs)
    started = time.monotonic()
    with open(raw_path, "w", newline="") as raw:
        writer = csv.DictWriter(raw, RAW_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for done, (rep, scenario, target) in enumerate(runs, 1):
            try:
                row = loadgen.measure(target, scenario, rep, ws)
            except Exception as error:  # noqa: BLE001 - one failed run must not end the benchmark
                row = {"label": target.label, "side": target.side, "scenario": scenario, "rep": rep,
                       "rps": None, "error": str(error)[:300]}
            rows.append(row)
            writer.writerow(row)
            raw.flush()
            elapsed = time.monotonic() - started
            eta = elapsed / done * (total - done)
            head = f"[rep {rep}/{reps} {done:>3}/{total} eta {eta:4.0f}s] {target.label:<28} {scenario:<8}"
            if row["rps"] is None:
                say(f"{head} FAILED: {row['error']}")
                continue
            flag = f"  !! NON-2XX {row['non2xx']} SOCKET ERRORS {row['sock_errors']}" \
                if row["non2xx"] or row["sock_errors"] else ""
            if row["server_cores"] < STARVED_CORES:
                flag += "  (starved: other load on the machine)"
            say(f"{head} {row['rps']:7.0f} req/s  p50 {row['p50_ms']:6.2f} ms  p99 {row['p99_ms']:6.1f} ms  "
                f"CPU {row['cpu_us_per_req'] or 0:5.0f} us/req  {row['server_cores']:.2f} cores{flag}")
    return rows


# Summary --------------------------------------------------------------------------------------


def summarize(args, env, targets, rows, micro, bytes_rows, login_rows, starts, out_dir: Path, wall: float) -> None:
    res = report.Results(rows)
    notes = {t.label: t.note for t in targets}
    say()
    say("=" * 100)
    say("SUMMARY")
    say("=" * 100)
    say("Environment:")
    for key, value in env.items():
        say(f"  {key:<18} {value}")
    say(f"  settings           wrk -t1 -c{args.conns} --timeout 10s, {args.duration} s measured after {args.warmup} s "
        f"warm-up, {args.reps} interleaved reps, fresh login per profile run; one granian worker / one node process")
    say(f"  wrk script         {args.wrk_lua}")
    say()
    if rows:
        say("Load on 127.0.0.1 (median [min-max] over reps). CPU us/req = the server's own CPU time per request "
            "(/proc utime+stime; + redis-server where a real Redis is used).")
        say(report.load_tables(res, notes))
        say()
        starved = [r for r in res.rows if r["server_cores"] < STARVED_CORES]
        say(f"Runs in which the server got < {STARVED_CORES} of a core (it shared the CPU with other work on the machine): "
            f"{len(starved)} of {len(res.rows)}. Where req/s and CPU/req disagree, CPU/req is the steadier figure.")
        say()
        say("Our throughput over theirs (ratios within each repetition):")
        say(report.versus_table(res))
        say()
        say("The same, signatures remembered (the default) and checked on every request (--no-signature-cache), "
            "side by side; Express remembers nothing:")
        say(report.cache_table(res))
        say()
    if micro:
        say("Micro-costs, in process (timeit, median [min-max] of repeats, us per call):")
        say(report.table(["what", "us/call", "calls x repeats"],
                         [[m["name"], fmt_range(m, "us", 1), f"{m['calls_per_repeat']} x {m['repeats']}"] for m in micro]))
        by = {m["name"]: m["median_us"] for m in micro}
        for jwt_name in ("jwt: PyJWT jwt.decode (HS256 verify + claims)", "jwt: decode_token, signature checked",
                         "jwt: decode_token, signature remembered"):
            jwt_us = by.get(jwt_name)
            if jwt_us:
                parts = [f"{store} {by[name] / jwt_us:.2f}x" for store in ("memory", "fakeredis", "redis")
                         if (name := f"session: load_session ({store})") in by]
                say(f"  session load_session / {jwt_name.removeprefix('jwt: ')} ({jwt_us:.1f} us): " + ", ".join(parts))
        say()
    if login_rows:
        say("Login cost (UserDirectory.authenticate = one bcrypt check, in process, ms):")
        say(report.table(["bcrypt rounds", "case", "ms"],
                         [[str(r["rounds"]), r["case"], fmt_range(r, "ms", 1)] for r in login_rows]))
        say()
    if bytes_rows:
        say("Bytes on the wire (from real logins; header lines without CRLF; median [min-max]):")
        cols = ["set_cookie_header", "request_header", "cookie_value", "jwt", "login_body", "profile_body", "login_ms"]
        say(report.table(["server", "credential", "Set-Cookie line", "request header line", "cookie value", "JWT",
                          "login body", "profile body", "HTTP login ms"],
                         [[r["label"], r["credential"], *(fmt_range(r[c], "", 0) if c in r else "-" for c in cols)]
                          for r in bytes_rows]))
        for r in bytes_rows:
            say(f"  e.g. {r['label']}: {r['example_set_cookie'] or r['example_header']}")
        say()
    if starts:
        say("CourseServer start-to-ready (in process; start() returns when the server answers):")
        say(report.table(["mode", "starts", "ready median ms", "p90 ms", "max ms", "first reply ms", "stop ms",
                          "cold 1st start ms", "threads left"],
                         [[s["mode"], s["starts"], f"{s['start_median_ms']:.1f}", f"{s['start_p90_ms']:.1f}",
                           f"{s['start_max_ms']:.1f}", f"{s['first_reply_median_ms']:.1f}", f"{s['stop_median_ms']:.1f}",
                           f"{s['cold_first_start_ms']:.0f}", s["threads_left"]] for s in starts]))
        say()
    checks = report.checks(res, starts)
    say("Targets (issue 2's 'Figures to reach', and issue 8's real-Redis rows):")
    for verdict, text in checks:
        say(f"  {verdict}  {text}")
    say()
    png = report.chart(res, out_dir / "throughput.png",
                       f"{env['date']}, {args.reps} reps x {args.duration} s, wrk -t1 -c{args.conns}") if rows else None
    say(f"Wall time {wall / 60:.1f} min ({wall:.0f} s).  loadavg at end: {Path('/proc/loadavg').read_text().strip()}")
    say(f"Raw results: {out_dir}/raw.csv, results.json, output.txt" + (f", chart {png}" if png else ""))
    (out_dir / "results.json").write_text(json.dumps(
        {"env": env, "settings": {k: str(v) for k, v in vars(args).items()}, "servers": {t.label: {
            "url": t.url, "what": t.note, "side": t.side, "ready_s": t.ready_s} for t in targets},
         "load": rows, "micro": micro, "login": login_rows, "bytes": bytes_rows, "starts": starts,
         "checks": checks, "wall_s": wall}, indent=1, default=str))


def fmt_range(row: dict, unit: str, digits: int) -> str:
    suffix = f"_{unit}" if unit else ""
    med, lo, hi = row[f"median{suffix}"], row[f"min{suffix}"], row[f"max{suffix}"]
    return f"{med:.{digits}f}" if lo == hi else f"{med:.{digits}f} [{lo:.{digits}f}-{hi:.{digits}f}]"


# Main -----------------------------------------------------------------------------------------


def interrupted(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM: stop what we started, as on Ctrl-C


def main() -> int:
    args = parse_args()
    wall_start = time.monotonic()
    out_dir: Path = args.out
    (out_dir / "logs").mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, interrupted)

    processes: list[Process] = []
    redis_servers: list[Redis] = []
    rows, micro_rows, login_rows, bytes_rows, starts, targets = [], [], [], [], [], []
    try:
        express_dir = None if args.no_express else prepare_express(args.express_seed, out_dir / "express-seed")
        peer_lua = args.express_seed / "load" / "wrk.lua"
        args.wrk_lua = peer_lua if peer_lua.exists() else loadgen.OWN_WRK_LUA
        env = environment(express_dir)
        say("authcourse benchmark  " + " ".join(f"{k}={v}" for k, v in (("reps", args.reps), ("duration", args.duration),
                                                                         ("warmup", args.warmup), ("conns", args.conns))))
        for key in ("cpu", "loadavg at start", "python", "fastapi", "granian", "PyJWT", "node", "npm express", "wrk"):
            if key in env:
                say(f"  {key:<18} {env[key]}")

        our_redis = maybe_redis("our session store and the micro-costs")
        if our_redis:
            redis_servers.append(our_redis)

        if not args.no_micro:
            import micro

            say("\nMicro-costs (in process) ...")
            starts = [micro.start_to_ready(args.starts, "session", say),
                      micro.start_to_ready(max(10, args.starts // 2), "token", say)]
            micro_rows = micro.lookup_vs_verify(args.micro_repeat, our_redis.url if our_redis else None, say)
            login_rows = micro.login_costs(args.login_samples, say)

        say("\nStarting servers ...")
        # One redis-server for both sides, so "ours on real Redis vs theirs on Redis" shares its cost.
        their_redis = (our_redis or maybe_redis("the Express blacklist servers")) if express_dir else None
        if their_redis and their_redis not in redis_servers:
            redis_servers.append(their_redis)
        targets = start_servers(args, out_dir / "logs", express_dir, our_redis, their_redis, processes)

        say("\nBytes on the wire and login latency (real logins) ...")
        bytes_rows = measure_bytes(targets, args.samples)

        if args.no_load:
            pass
        elif not loadgen.wrk_available():
            say("\nSKIP load runs: wrk is not installed (Debian: apt-get install wrk)")
        else:
            ws = WrkSettings(duration=args.duration, warmup=args.warmup, conns=args.conns, lua=args.wrk_lua)
            runs = args.reps * 2 * len(targets)
            say(f"\nLoad: {runs} wrk runs ({len(targets)} servers x 2 routes x {args.reps} reps), "
                f"about {runs * (args.duration + args.warmup + 0.4) / 60:.1f} min ...")
            rows = run_load(targets, ws, args.reps, out_dir / "raw.csv")

        summarize(args, env, targets, rows, micro_rows, bytes_rows, login_rows, starts, out_dir,
                  time.monotonic() - wall_start)
        return 0
    except KeyboardInterrupt:
        say(f"\nInterrupted; partial rows are in {out_dir}/raw.csv")
        return 130
    finally:
        for proc in reversed(processes):
            proc.stop()
        for server in redis_servers:
            server.stop()
        (out_dir / "output.txt").write_text("\n".join(say.lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
