"""PostgreSQL through psycopg 3: one table, an `expires_at` column, and a prune step.

SQL has no TTL. A row holds a key, its text value or its set of members, and when it expires;
every read asks for `expires_at` later than now, so an expired row is invisible at once, and a
prune step (`DELETE ... WHERE expires_at <= now`) removes the dead rows: on demand with
`prune()`, and after a write at most every `prune_interval` seconds.

connect-pg-simple, the lesson's PostgreSQL store for express-session, does the same: a
`session(sid, sess json, expire timestamp)` table, reads filtered on `expire >= now`, and a
timer in the Node process that deletes the expired rows every `pruneSessionInterval` seconds
(15 minutes by default). Here the prune rides on writes instead of a timer, so the store keeps
no thread of its own.

"Now" is this process's clock (`clock.now()`), as in every other store but a real Redis: so
`later()` moves PostgreSQL's expiry too, and servers sharing one database must agree on the time.
Each call is one statement on one connection (a lock keeps the threads of a process in turn);
a connection lost (the database restarted) is reopened once; any other database failure is a
`StoreError`, which the app answers with 503.
"""

from __future__ import annotations

import fnmatch
import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ..clock import now
from ..errors import ConfigurationError, StoreError
from .base import Store

TABLE = "authcourse_store"
PRUNE_INTERVAL = 60.0  # seconds between two prune steps (connect-pg-simple: 15 min, on a timer)
CONNECT_TIMEOUT = 2  # seconds

Result = TypeVar("Result")

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    key        text PRIMARY KEY,
    value      text,              -- a string key...
    members    text[],            -- ...or a set key: exactly one of the two is not null
    expires_at timestamptz        -- null: never expires
);
CREATE INDEX IF NOT EXISTS {TABLE}_expires_at ON {TABLE} (expires_at);
"""
LIVE = "(expires_at IS NULL OR expires_at > to_timestamp(%(now)s))"
EXPIRED = f"({TABLE}.expires_at IS NOT NULL AND {TABLE}.expires_at <= to_timestamp(%(now)s))"


def _shown(url: str) -> str:
    """The URL without its password, to name the store and to print in errors."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return url.split("@")[-1]
    params.pop("password", None)
    user = f"{params['user']}@" if params.get("user") else ""
    port = f":{params['port']}" if params.get("port") else ""
    return f"postgresql://{user}{params.get('host', '')}{port}/{params.get('dbname', '')}"


class PostgresStore(Store):
    """Keys, strings, sets and TTLs in one PostgreSQL table, shared by every server using the database."""

    blocking = True  # every call is a round trip to the database

    def __init__(self, url: str, *, prune_interval: float = PRUNE_INTERVAL) -> None:
        self.url = url
        self.name = _shown(url)
        self.prune_interval = prune_interval
        self._lock = threading.Lock()
        self._connection: psycopg.Connection[Any] | None = None
        self._last_prune = now()
        try:
            self._run(lambda connection: self._create_schema(connection))
        except StoreError as error:
            self.close()
            reason = str(error).removeprefix("PostgreSQL: ")
            raise ConfigurationError(f"cannot reach PostgreSQL at {self.name}: {reason}") from None

    # Connection -------------------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        if self._connection is None or self._connection.closed:
            conninfo = make_conninfo(self.url, connect_timeout=CONNECT_TIMEOUT)
            self._connection = psycopg.connect(conninfo, autocommit=True)
        return self._connection

    @staticmethod
    def _create_schema(connection: psycopg.Connection[Any]) -> None:
        with connection.transaction():
            # Two servers starting at once would race on CREATE TABLE IF NOT EXISTS.
            connection.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (TABLE,))
            connection.execute(SCHEMA)

    def _run(self, work: Callable[[psycopg.Connection[Any]], Result]) -> Result:
        """Run `work` on the connection; reopen a lost connection once; any failure is a StoreError."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    return work(self._connect())
                except psycopg.OperationalError as error:
                    lost = self._connection is None or self._connection.closed or self._connection.broken
                    if lost and self._connection is not None:
                        self._connection.close()
                    if not lost or attempt == 2:
                        raise StoreError(f"PostgreSQL: {error}".strip()) from None
                except psycopg.Error as error:
                    raise StoreError(f"PostgreSQL: {error}".strip()) from None
        raise AssertionError("unreachable")

    def _one(self, sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
        return self._run(lambda connection: connection.execute(sql, params).fetchone())

    @staticmethod
    def _expiry(ttl: float | None) -> float | None:
        return None if ttl is None else now() + ttl

    def _after_write(self) -> None:
        if now() - self._last_prune >= self.prune_interval:
            self.prune()

    # The Store interface -------------------------------------------------------------------------

    def get(self, key: str) -> str | None:
        row = self._one(f"SELECT value, members IS NOT NULL FROM {TABLE} WHERE key = %(key)s AND {LIVE}",
                        {"key": key, "now": now()})
        if row is None:
            return None
        if row[1]:
            raise StoreError(f"{key} holds a set, not a string")
        return row[0]

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        self._one(
            f"INSERT INTO {TABLE} (key, value, members, expires_at) "
            f"VALUES (%(key)s, %(value)s, NULL, to_timestamp(%(expires)s::float8)) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, members = NULL, expires_at = EXCLUDED.expires_at "
            "RETURNING key",
            {"key": key, "value": value, "expires": self._expiry(ttl)},
        )
        self._after_write()

    def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        row = self._one(
            f"WITH gone AS (DELETE FROM {TABLE} WHERE key = ANY(%(keys)s) RETURNING expires_at) "
            f"SELECT count(*) FROM gone WHERE {LIVE}",
            {"keys": list(keys), "now": now()},
        )
        return int(row[0]) if row else 0

    def ttl(self, key: str) -> float | None:
        row = self._one(f"SELECT extract(epoch FROM expires_at) FROM {TABLE} WHERE key = %(key)s AND {LIVE}",
                        {"key": key, "now": now()})
        return None if row is None or row[0] is None else float(row[0]) - now()

    def incr(self, key: str) -> int:
        # One statement, so two servers counting at once never lose an increment. A set stays
        # as it was and answers NULL; text that is not an integer makes the cast fail.
        row = self._one(
            f"INSERT INTO {TABLE} (key, value) VALUES (%(key)s, '1') ON CONFLICT (key) DO UPDATE SET "
            f"value = CASE WHEN {EXPIRED} THEN '1' WHEN {TABLE}.members IS NOT NULL THEN NULL "
            f"ELSE ({TABLE}.value::bigint + 1)::text END, "
            f"members = CASE WHEN {EXPIRED} THEN NULL ELSE {TABLE}.members END, "
            f"expires_at = CASE WHEN {EXPIRED} THEN NULL ELSE {TABLE}.expires_at END "
            "RETURNING value",
            {"key": key, "now": now()},
        )
        if row is None or row[0] is None:
            raise StoreError(f"{key} holds a set, not an integer")
        self._after_write()
        return int(row[0])

    def add_member(self, key: str, member: str, ttl: float | None = None) -> None:
        # A live string stays untouched and answers NULL members (Redis: WRONGTYPE).
        string = f"(NOT {EXPIRED} AND {TABLE}.members IS NULL)"
        row = self._one(
            f"INSERT INTO {TABLE} (key, members, expires_at) "
            "VALUES (%(key)s, ARRAY[%(member)s::text], to_timestamp(%(expires)s::float8)) "
            "ON CONFLICT (key) DO UPDATE SET "
            f"members = CASE WHEN {EXPIRED} THEN ARRAY[%(member)s::text] WHEN {string} THEN NULL "
            f"WHEN %(member)s::text = ANY({TABLE}.members) THEN {TABLE}.members "
            f"ELSE array_append({TABLE}.members, %(member)s::text) END, "
            f"value = CASE WHEN {EXPIRED} THEN NULL ELSE {TABLE}.value END, "
            f"expires_at = CASE WHEN {string} THEN {TABLE}.expires_at "
            "WHEN %(expires)s::float8 IS NOT NULL THEN to_timestamp(%(expires)s::float8) "
            f"WHEN {EXPIRED} THEN NULL ELSE {TABLE}.expires_at END "
            "RETURNING members IS NULL",
            {"key": key, "member": member, "expires": self._expiry(ttl), "now": now()},
        )
        if row is None or row[0]:
            raise StoreError(f"{key} holds a string, not a set")
        self._after_write()

    def members(self, key: str) -> set[str]:
        row = self._one(f"SELECT members, value IS NOT NULL FROM {TABLE} WHERE key = %(key)s AND {LIVE}",
                        {"key": key, "now": now()})
        if row is None:
            return set()
        if row[1]:
            raise StoreError(f"{key} holds a string, not a set")
        return set(row[0])

    def remove_member(self, key: str, member: str) -> None:
        params = {"key": key, "member": member, "now": now()}

        def remove(connection: psycopg.Connection[Any]) -> None:
            connection.execute(
                f"UPDATE {TABLE} SET members = array_remove(members, %(member)s::text) "
                f"WHERE key = %(key)s AND members IS NOT NULL AND {LIVE}", params)
            connection.execute(f"DELETE FROM {TABLE} WHERE key = %(key)s AND members = '{{}}'", params)

        self._run(remove)

    def keys(self, pattern: str = "*") -> list[str]:
        prefix = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
        like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self._run(lambda connection: connection.execute(
            f"SELECT key FROM {TABLE} WHERE key LIKE %(like)s AND {LIVE} ORDER BY key",
            {"like": like, "now": now()}).fetchall())
        return [key for (key,) in rows if fnmatch.fnmatchcase(key, pattern)]

    def compare_and_set(self, key: str, expected: str, value: str, ttl: float | None = None) -> bool:
        # One UPDATE: PostgreSQL locks the row, so of two servers racing, one matches and one does not.
        row = self._one(
            f"UPDATE {TABLE} SET value = %(value)s, expires_at = to_timestamp(%(expires)s::float8) "
            f"WHERE key = %(key)s AND value = %(expected)s AND members IS NULL AND {LIVE} RETURNING key",
            {"key": key, "value": value, "expected": expected, "expires": self._expiry(ttl), "now": now()},
        )
        if row is not None:
            self._after_write()
        return row is not None

    def prune(self) -> int:
        """Delete every expired row now; return how many went (connect-pg-simple's pruneSessions)."""
        self._last_prune = now()
        row = self._one(
            f"WITH gone AS (DELETE FROM {TABLE} WHERE expires_at <= to_timestamp(%(now)s) RETURNING 1) "
            "SELECT count(*) FROM gone",
            {"now": now()},
        )
        return int(row[0]) if row else 0

    def held(self) -> int:
        """How many rows the table holds, expired ones included (what a prune step shrinks)."""
        row = self._one(f"SELECT count(*) FROM {TABLE}", {})
        return int(row[0]) if row else 0

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


def postgres_store(url: str, *, prune_interval: float = PRUNE_INTERVAL) -> PostgresStore:
    """A store in a PostgreSQL database, checked at once so a wrong URL fails here, clearly."""
    try:
        conninfo_to_dict(url)
        urlsplit(url).port  # conninfo_to_dict lets a port that is not a number through
    except (psycopg.ProgrammingError, ValueError) as error:
        raise ConfigurationError(f"bad PostgreSQL URL {url!r}: {error}") from None
    return PostgresStore(url, prune_interval=prune_interval)
