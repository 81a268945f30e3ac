"""The load side of the benchmark: server processes, credentials, one wrk measurement.

Every server, ours or the Express peer's, is measured by the same function with the same wrk
command line and the same Lua script (the peer's `load/wrk.lua` when it is there), exactly as
the peer's `load/scenario.sh` does: a fresh credential from a real login, a pre-flight request
that must answer 200, a warm-up run, then the measured run, with the server's CPU time read
from /proc before and after.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
OWN_WRK_LUA = HERE / "wrk_result.lua"  # same WRK_RESULT line as the peer's load/wrk.lua
ALICE = {"email": "alice@example.com", "password": "wonderland"}
CLK_TCK = os.sysconf("SC_CLK_TCK")

SCENARIOS = {"health": "/health", "profile": "/api/profile"}


# Processes ---------------------------------------------------------------------------------


class Process:
    """A server process we started (in its own session), stopped by its own pid only."""

    def __init__(self, label: str, argv: list[str], *, log: Path, cwd: Path | None = None, env: dict | None = None):
        self.label = label
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = open(log, "wb")
        self.popen = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=self._log_file, stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches only us; we stop it ourselves, in a finally
        )
        self.started_at = time.monotonic()

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)  # granian stops its worker, node and redis-server exit
            try:
                self.popen.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)  # its own session: the process and its workers
                self.popen.wait(5)
        self._log_file.close()


def descendants(pid: int) -> list[int]:
    """The processes started by `pid` and by them (granian's worker), from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # state is [0], ppid [1]
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


# HTTP helpers (stdlib, one connection per call, like curl) ---------------------------------


@dataclass
class Reply:
    status: int
    body: bytes
    set_cookies: list[str]


def request(base: str, method: str, path: str, *, body: dict | None = None, header: str | None = None,
            timeout: float = 10.0) -> Reply:
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    headers = {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if header:
        name, _, value = header.partition(":")
        headers[name.strip()] = value.strip()
    try:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        return Reply(resp.status, resp.read(), resp.headers.get_all("Set-Cookie") or [])
    finally:
        conn.close()


def wait_ready(base: str, process: Process, deadline_s: float = 30.0) -> float:
    """Seconds from process start until GET /health answers 200; raise if it never does."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"{process.label} exited (code {process.popen.returncode}):\n{process.log_tail()}")
        try:
            if request(base, "GET", "/health", timeout=1.0).status == 200:
                return time.monotonic() - process.started_at
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{process.label} did not answer /health within {deadline_s:.0f} s:\n{process.log_tail()}")


@dataclass
class Login:
    header: str  # what the client sends back: "Cookie: name=value" or "Authorization: Bearer <jwt>"
    set_cookie_line: str | None  # the whole "Set-Cookie: ..." response header line, if any
    token: str | None  # the JWT from the body, if any
    body_bytes: int
    seconds: float


def login(base: str) -> Login:
    """Log in as alice and return the credential, as the peer's load/credential.sh does."""
    started = time.perf_counter()
    reply = request(base, "POST", "/login", body=ALICE)
    elapsed = time.perf_counter() - started
    if reply.status != 200:
        raise RuntimeError(f"POST {base}/login -> {reply.status}: {reply.body[:200]!r}")
    token = None
    try:
        parsed = json.loads(reply.body)
        if isinstance(parsed, dict) and isinstance(parsed.get("token"), str):
            token = parsed["token"]
    except ValueError:
        pass
    if reply.set_cookies:
        line = "Set-Cookie: " + reply.set_cookies[0]
        return Login("Cookie: " + reply.set_cookies[0].split(";", 1)[0], line, token, len(reply.body), elapsed)
    if token:
        return Login("Authorization: Bearer " + token, None, token, len(reply.body), elapsed)
    raise RuntimeError(f"login at {base} gave neither Set-Cookie nor a token")


# Targets and measurements --------------------------------------------------------------------


@dataclass
class Target:
    label: str
    side: str  # "ours" | "express"
    url: str
    process: Process
    cpu_pids: list[int]  # the server and its worker processes, plus its redis-server where it uses a real one
    note: str = ""
    ready_s: float = 0.0
    extra: dict = field(default_factory=dict)


def cpu_ticks(pids: list[int]) -> int:
    """utime + stime (clock ticks, all threads) summed over the pids, as scenario.sh reads them."""
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "(comm)": state is [0], utime [11], stime [12]
        total += int(fields[11]) + int(fields[12])
    return total


@dataclass
class WrkSettings:
    duration: int  # seconds, measured run
    warmup: int  # seconds, unmeasured run before it (0 = none)
    conns: int = 32
    threads: int = 1
    timeout: str = "10s"
    lua: Path = OWN_WRK_LUA


def run_wrk(url: str, path: str, header: str, seconds: int, ws: WrkSettings) -> dict:
    env = dict(os.environ, WRK_METHOD="GET", WRK_BODY="", WRK_AUTH_HEADER=header or "")
    argv = ["wrk", f"-t{ws.threads}", f"-c{ws.conns}", f"-d{seconds}s", "--timeout", ws.timeout, "-s", str(ws.lua),
            url + path]
    out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=seconds + 60)
    for line in out.stdout.splitlines():
        if line.startswith("WRK_RESULT "):
            return {k: float(v) for k, v in (item.split("=", 1) for item in line.split()[1:])}
    raise RuntimeError(f"no WRK_RESULT from wrk (exit {out.returncode}): {out.stdout[-500:]} {out.stderr[-500:]}")


def measure(target: Target, scenario: str, rep: int, ws: WrkSettings) -> dict:
    """One row: the same steps for every server (credential, pre-flight, warm-up, measured run)."""
    path = SCENARIOS[scenario]
    header = login(target.url).header if scenario == "profile" else ""
    pre = request(target.url, "GET", path, header=header)
    if pre.status != 200:
        raise RuntimeError(f"pre-flight GET {target.url}{path} -> {pre.status} {pre.body[:200]!r}")
    if ws.warmup > 0:
        run_wrk(target.url, path, header, ws.warmup, ws)
    t0, w0 = cpu_ticks(target.cpu_pids), time.monotonic()
    result = run_wrk(target.url, path, header, ws.duration, ws)
    t1, w1 = cpu_ticks(target.cpu_pids), time.monotonic()
    requests = int(result["requests"])
    cpu_s = (t1 - t0) / CLK_TCK
    return {
        "label": target.label,
        "side": target.side,
        "scenario": scenario,
        "rep": rep,
        "conns": ws.conns,
        "duration_s": ws.duration,
        "rps": result["rps"],
        "p50_ms": result["p50_ms"],
        "p90_ms": result["p90_ms"],
        "p99_ms": result["p99_ms"],
        "mean_ms": result["mean_ms"],
        "max_ms": result["max_ms"],
        "requests": requests,
        "non2xx": int(result["non2xx"]),
        "sock_errors": int(result["sock_errors"]),
        "cpu_us_per_req": cpu_s * 1e6 / requests if requests else None,
        "server_cores": cpu_s / (w1 - w0),
    }


def wrk_available() -> bool:
    return shutil.which("wrk") is not None
