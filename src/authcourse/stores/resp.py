"""A small asyncio Redis client that pipelines by itself: the commands of one loop turn go out together.

Under load, many requests wait on Redis at once. Here every command is queued on the one
connection this event loop has, the queue is written in one `write` at the end of the loop's
turn, and the replies, which Redis sends back in order, resolve the waiting futures in order.
The protocol itself (RESP2, which every Redis speaks) is hiredis's, the C parser Redis ships:
`pack_command` writes a command, `Reader` reads replies. Errors are redis-py's own
(`redis.ConnectionError`, `redis.ResponseError`), so the app answers them the same way (503).

Why not `redis.asyncio`? It takes a connection from a pool for every command and sends
commands one by one; measured under load, a read through it cost the server about 50 µs of
CPU against about 10 µs here (README.md, "Benchmarks").
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from typing import Any

import hiredis
import redis

CONNECT_TIMEOUT = 2.0  # seconds
REPLY_TIMEOUT = 5.0  # seconds without any reply while commands wait: the connection is given up

Reply = Any  # str | int | None | list | redis.ResponseError


class _Connection(asyncio.Protocol):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.waiting: deque[asyncio.Future[Reply]] = deque()
        self.outgoing: list[bytes] = []
        self.reader = hiredis.Reader(replyError=redis.ResponseError, protocolError=redis.ConnectionError,
                                     encoding="utf-8")
        self.closed = False
        self.last_reply = loop.time()
        self.watchdog: asyncio.TimerHandle | None = None
        self.guard: asyncio.Task[None] | None = None

    async def close_when_cancelled(self) -> None:
        try:
            await self.loop.create_future()
        finally:
            if self.transport is not None:
                self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, error: Exception | None) -> None:
        self.fail(redis.ConnectionError(f"connection to Redis lost{f': {error}' if error else ''}"))

    def fail(self, error: Exception) -> None:
        self.closed = True
        if self.watchdog is not None:
            self.watchdog.cancel()
        if self.guard is not None and not self.guard.done():
            self.guard.cancel()  # its work is done; a pending task left behind would be logged when collected
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(error)
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        try:
            while self.waiting:
                reply = self.reader.gets()
                if reply is False:  # the rest of the reply has not arrived yet
                    break
                future = self.waiting.popleft()
                if not future.done():
                    future.set_result(reply)
        except (ValueError, redis.ConnectionError) as error:
            self.fail(redis.ConnectionError(f"cannot read Redis's reply: {error}"))
            return
        self.last_reply = self.loop.time()

    def send(self, *commands: tuple[Any, ...]) -> list[asyncio.Future[Reply]]:
        if self.closed:
            raise redis.ConnectionError("connection to Redis closed")
        if not self.waiting:
            self.last_reply = self.loop.time()  # the reply clock starts when something waits, not before
        futures = []
        for command in commands:
            self.outgoing.append(hiredis.pack_command(command))
            future = self.loop.create_future()
            self.waiting.append(future)
            futures.append(future)
        if len(self.outgoing) == len(commands):  # the first of this turn: write them all at its end
            self.loop.call_soon(self.flush)
        return futures

    def flush(self) -> None:
        if self.outgoing and self.transport is not None and not self.closed:
            self.transport.write(b"".join(self.outgoing))
            if self.watchdog is None:
                self.watchdog = self.loop.call_later(REPLY_TIMEOUT, self.check_alive)
        self.outgoing.clear()

    def check_alive(self) -> None:
        self.watchdog = None
        if self.closed:
            return
        if self.waiting and self.loop.time() - self.last_reply >= REPLY_TIMEOUT:
            self.fail(redis.TimeoutError(f"Redis sent no reply for {REPLY_TIMEOUT:.0f} s"))
        elif self.waiting:
            self.watchdog = self.loop.call_later(REPLY_TIMEOUT, self.check_alive)


class PipelinedRedis:
    """`await client.execute("GET", key)`; one connection per event loop, opened on first use."""

    def __init__(self, host: str = "127.0.0.1", port: int = 6379, db: int = 0, *, path: str | None = None,
                 username: str | None = None, password: str | None = None) -> None:
        self.host, self.port, self.db, self.path = host, port, db, path
        self.username, self.password = username, password
        self._connections: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Connection] = (
            weakref.WeakKeyDictionary()
        )
        self._opening: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Future[_Connection]] = (
            weakref.WeakKeyDictionary()
        )

    @classmethod
    def from_connection_kwargs(cls, kwargs: dict[str, Any]) -> PipelinedRedis:
        return cls(kwargs.get("host", "127.0.0.1"), kwargs.get("port", 6379), kwargs.get("db", 0) or 0,
                   path=kwargs.get("path"), username=kwargs.get("username"), password=kwargs.get("password"))

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> _Connection:
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                if self.path:
                    _, connection = await loop.create_unix_connection(lambda: _Connection(loop), self.path)
                else:
                    _, connection = await loop.create_connection(lambda: _Connection(loop), self.host, self.port)
        except (OSError, TimeoutError) as error:
            where = self.path or f"{self.host}:{self.port}"
            raise redis.ConnectionError(f"cannot reach Redis at {where}: {error}") from None
        # A task that only waits: when the loop ends (asyncio.run cancels what is left), it closes
        # the connection, so no transport outlives its loop.
        guard = loop.create_task(connection.close_when_cancelled())
        connection.guard = guard
        setup = []
        if self.password is not None:
            setup.append(("AUTH", self.username, self.password) if self.username else ("AUTH", self.password))
        if self.db:
            setup.append(("SELECT", self.db))
        for reply in await asyncio.gather(*connection.send(*setup)) if setup else []:
            if isinstance(reply, Exception):
                connection.fail(redis.ConnectionError(f"Redis refused the connection setup: {reply}"))
                raise reply
        return connection

    async def _connection(self) -> _Connection:
        loop = asyncio.get_running_loop()
        connection = self._connections.get(loop)
        if connection is not None and not connection.closed:
            return connection
        opening = self._opening.get(loop)
        if opening is None:  # one connect per loop, however many requests wait for it
            opening = loop.create_task(self._connect(loop))
            self._opening[loop] = opening
            opening.add_done_callback(lambda _: self._opening.pop(loop, None))
        connection = await asyncio.shield(opening)
        self._connections[loop] = connection
        return connection

    async def execute(self, *command: Any) -> Reply:
        """Send one command; its reply, or redis-py's error for it."""
        (reply,) = await self.execute_many(command)
        return reply

    async def execute_many(self, *commands: tuple[Any, ...]) -> list[Reply]:
        """Send commands back to back (one write); their replies in order. A command's error is raised."""
        for attempt in (1, 2):
            connection = await self._connection()
            try:
                replies = [await future for future in connection.send(*commands)]
                break
            except redis.ConnectionError:
                # The connection was lost under the commands: once more on a new one, as redis-py
                # retries a command whose connection failed. A Redis that cannot be reached fails
                # the reconnect itself, and one that stays silent fails with TimeoutError, no retry.
                if attempt == 2 or not connection.closed:
                    raise
        for reply in replies:
            if isinstance(reply, redis.ResponseError):
                raise reply
        return replies

    def close(self) -> None:
        """Close the connections of every loop (each loop's transport is closed from that loop)."""
        for loop, connection in list(self._connections.items()):
            if connection.guard is not None and not loop.is_closed():
                loop.call_soon_threadsafe(connection.guard.cancel)
        self._connections.clear()
