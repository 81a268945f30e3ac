"""In-process micro-costs: session lookup vs JWT verify, login (bcrypt), CourseServer start.

Each cost is timed with `timeit` (GC off while timing, as timeit does): the number of calls per
repeat is picked by `Timer.autorange` (>= 0.2 s), and the figure is the median over the repeats,
in microseconds per call.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
import timeit
from collections.abc import Callable

import jwt

from authcourse import CourseServer, MemoryStore, SessionManager, TokenService, UserDirectory, fakeredis_store, redis_store
from authcourse.passwords import DEFAULT_ROUNDS
from authcourse.sessions import session_key
from authcourse.tokens import ALGORITHM, REQUIRED_CLAIMS

from loadgen import request

Log = Callable[[str], None]


def per_call(fn: Callable[[], object], repeat: int) -> dict:
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    times = [t / number * 1e6 for t in timer.repeat(repeat, number)]
    return {"median_us": statistics.median(times), "min_us": min(times), "max_us": max(times),
            "calls_per_repeat": number, "repeats": repeat}


def lookup_vs_verify(repeat: int, redis_url: str | None, log: Log) -> list[dict]:
    """Cost per call of what the server does per authenticated request, piece by piece."""
    secret = os.urandom(32)
    stores = {"memory": MemoryStore(), "fakeredis": fakeredis_store()}
    if redis_url:
        stores["redis"] = redis_store(redis_url)
    rows = []

    def timed(name: str, what: str, fn: Callable[[], object]) -> None:
        row = {"name": name, "what": what, **per_call(fn, repeat)}
        rows.append(row)
        log(f"  micro  {name:<44} {row['median_us']:8.1f} us/call  [{row['min_us']:.1f}-{row['max_us']:.1f}]")

    try:
        for store_name, store in stores.items():
            sessions = SessionManager(store, secret)
            checking = SessionManager(store, secret, cache_size=0)  # no signature cache: an HMAC every time
            session = sessions.create_session(1, "user")
            cookie = sessions.sign(session.id)
            assert sessions.load_session(cookie) is not None
            if store_name == "memory":
                timed("session: unsign cookie, signature checked", "SessionManager.unsign, no cache (HMAC-SHA256)",
                      lambda: checking.unsign(cookie))
                timed("session: unsign cookie, signature remembered", "SessionManager.unsign, cache hit",
                      lambda: sessions.unsign(cookie))
            key = session_key(session.id)
            timed(f"session: store.get ({store_name})", f"{store_name} Store.get", lambda: store.get(key))
            timed(f"session: load_session ({store_name})", f"SessionManager.load_session, {store_name} store",
                  lambda: sessions.load_session(cookie))

        tokens = TokenService(secret, stores["fakeredis"])
        checking = TokenService(secret, stores["fakeredis"], cache_size=0)
        token = tokens.create_access_token(1, "user")
        versioned = tokens.create_access_token(1, "user", version=tokens.current_version(1))
        claims = tokens.decode_token(versioned)
        assert tokens.is_current_version(claims) and not tokens.is_revoked(claims)
        # decode_token is what the server calls; timed with one token over and over, as under wrk. PyJWT's own
        # verify, with the same options, is what any token costs the first time a server sees it.
        timed("jwt: PyJWT jwt.decode (HS256 verify + claims)", "jwt.decode, algorithms pinned, claims required",
              lambda: jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=tokens.issuer, audience=tokens.audience,
                                 options={"require": REQUIRED_CLAIMS, "strict_aud": True}))
        timed("jwt: decode_token, signature checked", "TokenService.decode_token, no cache",
              lambda: checking.decode_token(token))
        timed("jwt: decode_token, signature remembered", "TokenService.decode_token, signature remembered",
              lambda: tokens.decode_token(token))
        timed("jwt: decode_token, remembered, + denylist GET (fakeredis)", "decode_token + is_revoked",
              lambda: tokens.is_revoked(tokens.decode_token(token)))
        timed("jwt: decode_token, remembered, + version GET (fakeredis)", "decode_token + is_current_version",
              lambda: tokens.is_current_version(tokens.decode_token(versioned)))
        timed("jwt: create_access_token (sign, at login)", "TokenService.create_access_token",
              lambda: tokens.create_access_token(1, "user"))
    finally:
        for store in stores.values():
            store.close()
    return rows


def login_costs(samples: int, log: Log) -> list[dict]:
    """Wall time of one password check (UserDirectory.authenticate) at the default and at 10 rounds."""
    rows = []
    cases = [(DEFAULT_ROUNDS, "alice@example.com", "wonderland", "right password"),
             (DEFAULT_ROUNDS, "nobody@example.com", "wonderland", "unknown user (dummy hash)"),
             (10, "alice@example.com", "wonderland", "right password")]
    for rounds, email, password, case in cases:
        users = UserDirectory(rounds)
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            users.authenticate(email, password)
            times.append((time.perf_counter() - started) * 1e3)
        row = {"rounds": rounds, "case": case, "median_ms": statistics.median(times), "min_ms": min(times),
               "max_ms": max(times), "samples": samples}
        rows.append(row)
        log(f"  login  bcrypt rounds {rounds:>2}, {case:<26} {row['median_ms']:7.1f} ms  "
            f"[{row['min_ms']:.1f}-{row['max_ms']:.1f}] over {samples}")
    return rows


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def start_to_ready(starts: int, mode: str, log: Log) -> dict:
    """`CourseServer(mode).start()` until it returns (ready), then the first request, then stop()."""
    threads_before = threading.active_count()
    started = time.perf_counter()
    first = CourseServer(mode=mode).start()  # the first in this process also hashes the demo users
    cold_ms = (time.perf_counter() - started) * 1e3
    first.stop()
    start_ms, first_reply_ms, stop_ms = [], [], []
    for _ in range(starts):
        t0 = time.perf_counter()
        server = CourseServer(mode=mode).start()
        t1 = time.perf_counter()
        try:
            status = request(server.url, "GET", "/health").status
            t2 = time.perf_counter()
        finally:
            server.stop()
        t3 = time.perf_counter()
        if status != 200:
            raise RuntimeError(f"CourseServer({mode!r}) answered /health with {status}")
        start_ms.append((t1 - t0) * 1e3)
        first_reply_ms.append((t2 - t0) * 1e3)
        stop_ms.append((t3 - t2) * 1e3)
    row = {
        "mode": mode, "starts": starts, "cold_first_start_ms": cold_ms,
        "start_median_ms": statistics.median(start_ms), "start_p90_ms": percentile(start_ms, 0.9),
        "start_max_ms": max(start_ms), "first_reply_median_ms": statistics.median(first_reply_ms),
        "stop_median_ms": statistics.median(stop_ms), "threads_left": threading.active_count() - threads_before,
    }
    log(f"  start  CourseServer(mode={mode!r}) x{starts}: ready median {row['start_median_ms']:.1f} ms, "
        f"p90 {row['start_p90_ms']:.1f}, max {row['start_max_ms']:.1f}; first reply {row['first_reply_median_ms']:.1f}; "
        f"stop {row['stop_median_ms']:.1f}; cold first start {cold_ms:.0f} ms; threads left {row['threads_left']}")
    return row
