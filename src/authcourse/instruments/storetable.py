"""The lesson's session-store table, measured instead of claimed.

For each store: what one session lookup costs (the work behind every authenticated request),
whether a second server with the same store and secret accepts the first one's cookie, whether
a session survives a restart of the server (a new process) and of the store, and what removes
a session once it has expired. Chapter 2 measures the stores this machine has;
`tools/record_store_table.py` records the same rows to a file, shown where a store is missing.
"""

from __future__ import annotations

import html
import json
import platform
import subprocess
import sys
import threading
import time
import timeit
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

from ..clock import later
from ..server import CourseServer
from ..sessions import SessionManager
from ..stores import Store, open_store

SECRET = b"the-secret-every-server-of-the-store-table-shares"
ALICE = {"email": "alice@example.com", "password": "wonderland"}
LOOKUPS = 100  # session lookups per timing repeat
WRITES = 10  # session creations per timing repeat
REPEATS = 5  # rounds


@dataclass(frozen=True)
class StoreRow:
    store: str  # the lesson's name for it
    measured_on: str  # what ran: memory, fakeredis, redis-server, PostgreSQL, mongomock
    lookup_us: float  # one session lookup, microseconds (the least disturbed of the rounds)
    write_us: float  # one session creation (what a login writes), microseconds (likewise)
    shared: bool  # a second server with the same store and secret accepts the first one's cookie
    survives_server_restart: bool  # a new server process, same store and secret, accepts the cookie
    survives_store_restart: bool | None  # None: the store lives inside the server's process
    cleanup: str  # what removes an expired session, as observed
    recorded: str = ""  # empty: measured just now; else where and when it was recorded

    def cells(self) -> list[str]:
        def yes(value: bool | None, *, none: str = "n/a (inside the server)") -> str:
            return none if value is None else "yes" if value else "no"

        return [self.store + (f" [{self.recorded}]" if self.recorded else ""), self.measured_on,
                f"{self.lookup_us:.0f} µs", f"{self.write_us:.0f} µs", yes(self.shared),
                yes(not self.survives_server_restart),
                yes(None if self.survives_store_restart is None else not self.survives_store_restart), self.cleanup]


COLUMNS = ["store (lesson)", "measured on", "lookup per request", "write per login", "two servers share?",
           "server restart loses?", "store restart loses?", "what removes an expired session"]


@dataclass(frozen=True)
class StoreTable:
    rows: tuple[StoreRow, ...]

    def __getitem__(self, measured_on: str) -> StoreRow:
        return next(row for row in self.rows if row.measured_on.startswith(measured_on))

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
        body = "".join(
            "<tr>" + "".join(f'<td style="text-align:left">{html.escape(c)}</td>' for c in row.cells()) + "</tr>"
            for row in self.rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __str__(self) -> str:  # not padded: measured figures change width from run to run
        return "\n".join(" | ".join(line) for line in [COLUMNS] + [row.cells() for row in self.rows])

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


# The measurements ------------------------------------------------------------------------------------


def time_stores(stores: Sequence[Store]) -> list[tuple[float, float]]:
    """For each store, µs of one session lookup and of one session creation (a login's writes).

    The stores take turns, round after round, so a burst of load from elsewhere hits them all
    alike; each figure is the fastest round's, the one least disturbed (as `timeit` advises).
    """
    readers = [SessionManager(store, SECRET, touch_interval=10**6) for store in stores]  # reads only
    writers = [SessionManager(store, SECRET) for store in stores]
    cookies = [reader.sign(reader.create_session(1, "user").id) for reader in readers]
    for reader, cookie in zip(readers, cookies):
        reader.load_session(cookie)  # the cookie's signature is now remembered, as for a returning client
    lookups: list[list[float]] = [[] for _ in stores]
    writes: list[list[float]] = [[] for _ in stores]
    for _ in range(REPEATS):
        for i, (reader, writer, cookie) in enumerate(zip(readers, writers, cookies)):
            lookups[i].append(timeit.timeit(lambda: reader.load_session(cookie), number=LOOKUPS) / LOOKUPS)
            writes[i].append(timeit.timeit(lambda: writer.create_session(2, "user"), number=WRITES) / WRITES)
    for reader in readers:
        reader.destroy_all_for_user(1)
        reader.destroy_all_for_user(2)
    return [(min(read) * 1e6, min(write) * 1e6) for read, write in zip(lookups, writes)]


def log_in(server: CourseServer) -> str:
    """The signed session cookie of a fresh login of alice."""
    response = httpx.post(f"{server.url}/login", json=ALICE)
    response.raise_for_status()
    return response.cookies["sid"]


def accepts(server: CourseServer, cookie: str) -> bool:
    return httpx.get(f"{server.url}/api/profile", headers={"Cookie": f"sid={cookie}"}).status_code == 200


def try_sharing(spec: str) -> tuple[bool, str]:
    """Two servers on one store spec, one secret: does B accept A's cookie? Also returns the cookie."""
    a = CourseServer("session", store=spec, secret=SECRET, bcrypt_rounds=4).start()
    b = CourseServer("session", store=spec, secret=SECRET, bcrypt_rounds=4).start()
    try:
        cookie = log_in(a)
        return accepts(b, cookie), cookie
    finally:
        stopping = [threading.Thread(target=server.stop) for server in (a, b)]  # each stop waits ~0.1 s
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()


_NEW_PROCESS = """
import json, sys
from authcourse import SessionManager, open_store
cases = json.loads(sys.stdin.read())
secret = sys.argv[1].encode()
found = [SessionManager(open_store(spec), secret).load_session(cookie) is not None for spec, cookie in cases]
print(json.dumps(found))
"""


def start_new_process() -> subprocess.Popen[str]:
    """A brand-new Python process with the same secret, importing while the measurements run."""
    return subprocess.Popen([sys.executable, "-c", _NEW_PROCESS, SECRET.decode()], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def survive_new_process(process: subprocess.Popen[str], cases: Sequence[tuple[str, str]]) -> list[bool]:
    """For each (store spec, cookie): does the new server process find the session?"""
    out, err = process.communicate(json.dumps(cases), timeout=60)
    if process.returncode != 0:
        raise RuntimeError(f"the new process failed: {err.strip()}")
    return json.loads(out)


def survive_store_restart(spec: str, cookie: str, restart: Callable[[], object]) -> bool:
    store = open_store(spec)
    try:
        restart()
        return SessionManager(store, SECRET).load_session(cookie) is not None
    finally:
        store.close()


def observe_cleanup(store: Store, *, real_clock: bool = False) -> str:
    """Put in one key that expires, let it expire, and see what still holds it, and until when."""
    before = store.held() or 0
    store.set("cleanup:probe", "x", ttl=0.05 if real_clock else 60)
    if real_clock:  # a real server's clock: wait for it, up to 2 s
        deadline = time.monotonic() + 2
        while (store.held() or 0) > before and time.monotonic() < deadline:
            time.sleep(0.02)
        return "the store itself, unasked" if (store.held() or 0) == before else "still held after 2 s"
    with later(seconds=61):
        if (store.held() or 0) == before:
            return "the store itself: never seen after expiry"
        store.get("cleanup:probe")
        if (store.held() or 0) == before:
            return "nothing but a read of that key"
        prune = getattr(store, "prune", None)
        if prune is not None and prune() >= 1:
            return "a prune step (DELETE ... WHERE expires_at <= now)"
        store.delete("cleanup:probe")
        return "nothing: it stays until deleted"


def measure_row(store: str, measured_on: str, spec: str, opened: Store, *,
                restart_store: Callable[[], object] | None = None, real_clock: bool = False) -> tuple[StoreRow, str]:
    """Everything but the timings and the new-process check, which `measure_table` runs for all rows at once."""
    cleanup = observe_cleanup(opened, real_clock=real_clock)
    shared, cookie = try_sharing(spec)
    kept = None if restart_store is None else survive_store_restart(spec, cookie, restart_store)
    return StoreRow(store, measured_on, 0.0, 0.0, shared, False, kept, cleanup), cookie


def measure_table(candidates: Sequence[dict[str, Any]]) -> StoreTable:
    """Measure each candidate (`store`, `measured_on`, `spec`, optional `restart_store`, `real_clock`)."""
    process = start_new_process()
    opened = [open_store(candidate["spec"]) for candidate in candidates]
    try:
        timings = time_stores(opened)
        measured = [measure_row(**candidate, opened=store) for candidate, store in zip(candidates, opened)]
    except BaseException:
        process.kill()
        process.communicate()
        raise
    finally:
        for store in opened:
            store.close()
    survived = survive_new_process(process, [(candidate["spec"], cookie)
                                             for candidate, (_, cookie) in zip(candidates, measured)])
    return StoreTable(tuple(
        replace(row, lookup_us=lookup, write_us=write, survives_server_restart=kept)
        for (row, _), (lookup, write), kept in zip(measured, timings, survived)
    ))


# Recorded rows, for machines without a store's binaries -------------------------------------------------


def save_rows(table: StoreTable, path: Path) -> None:
    where = f"recorded on {platform.node() or 'a machine'} ({platform.system()}, {platform.machine()}), " \
            f"{datetime.now(timezone.utc):%Y-%m-%d}"
    rows = [asdict(replace(row, recorded=row.recorded or where, lookup_us=round(row.lookup_us, 1),
                           write_us=round(row.write_us, 1))) for row in table.rows]
    path.write_text(json.dumps({"rows": rows}, indent=1, ensure_ascii=False) + "\n")


def load_rows(path: Path) -> dict[str, StoreRow]:
    """Recorded rows by what they were measured on."""
    return {row["measured_on"]: StoreRow(**row) for row in json.loads(path.read_text())["rows"]}
