"""PipelinedRedis: replies as they come off the network, pipelining, and failures as redis-py's errors."""

from __future__ import annotations

import asyncio

import pytest
import redis

from authcourse.realservers.process import free_port
from authcourse.realservers.redis import RedisServer
from authcourse.stores.resp import PipelinedRedis, _Connection


def replies_of(*chunks: bytes, commands: int = 2) -> list:
    """Send `commands` GETs on a connection with no socket, feed it `chunks` as the server's bytes."""

    async def run() -> list:
        connection = _Connection(asyncio.get_running_loop())
        futures = connection.send(*[("GET", f"k{i}") for i in range(commands)])
        for chunk in chunks:
            connection.data_received(chunk)
        return [f.result() if f.done() and not f.exception() else f.exception() if f.done() else "waiting"
                for f in futures]

    return asyncio.run(run())


def test_replies_cut_anywhere_by_the_network_resolve_in_order():
    wire = b"$5\r\nhe\r\no\r\n*2\r\n$1\r\na\r\n:3\r\n$-1\r\n:-2\r\n"
    whole = replies_of(wire, commands=4)
    assert whole == ["he\r\no", ["a", 3], None, -2]
    for cut in range(1, len(wire)):
        assert replies_of(wire[:cut], wire[cut:], commands=4) == whole


def test_a_reply_not_all_there_keeps_its_command_waiting():
    assert replies_of(b"+OK\r\n$5\r\nhel") == ["OK", "waiting"]


def test_an_error_reply_becomes_a_response_error_for_its_command_only():
    first, second = replies_of(b"-WRONGTYPE Operation against a key\r\n+OK\r\n")
    assert isinstance(first, redis.ResponseError) and str(first).startswith("WRONGTYPE")
    assert second == "OK"


def test_bytes_that_are_not_redis_protocol_fail_every_waiting_command():
    replies = replies_of(b"HTTP/1.1 400 Bad Request\r\n")
    assert all(isinstance(r, redis.ConnectionError) and "cannot read Redis's reply" in str(r) for r in replies)


@pytest.mark.redis
def test_commands_of_one_loop_turn_share_one_connection_and_keep_their_order(redis_url):
    client = PipelinedRedis.from_connection_kwargs(redis.Redis.from_url(redis_url).connection_pool.connection_kwargs)

    async def run() -> list:
        await client.execute("SET", "n", "0")
        replies = await asyncio.gather(*(client.execute("INCR", "n") for _ in range(50)))
        tail = await client.execute_many(("GET", "n"), ("GET", "missing"), ("SADD", "s", "a", "b"), ("SMEMBERS", "s"))
        client.close()
        return [replies, tail]

    replies, tail = asyncio.run(run())
    assert replies == list(range(1, 51))
    assert tail[:3] == ["50", None, 2] and sorted(tail[3]) == ["a", "b"]


@pytest.mark.redis
def test_a_wrong_type_is_raised_as_redis_py_raises_it(redis_url):
    client = PipelinedRedis.from_connection_kwargs(redis.Redis.from_url(redis_url).connection_pool.connection_kwargs)

    async def run() -> None:
        await client.execute("SADD", "s", "a")
        try:
            await client.execute("GET", "s")
        finally:
            client.close()

    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        asyncio.run(run())


def test_an_unreachable_redis_is_a_connection_error():
    client = PipelinedRedis("127.0.0.1", free_port())
    with pytest.raises(redis.ConnectionError, match="cannot reach Redis"):
        asyncio.run(client.execute("PING"))


@pytest.mark.redis
def test_a_redis_that_dies_fails_the_waiting_commands_and_the_next_ones_reconnect(redis_server):
    server = RedisServer().start()
    client = PipelinedRedis("127.0.0.1", server.port)

    async def run() -> tuple[str, str]:
        assert await client.execute("PING") == "PONG"
        server.stop(kill=True)
        with pytest.raises(redis.ConnectionError):
            await client.execute("PING")
        server.start()
        try:
            return "failed", await client.execute("PING")
        finally:
            client.close()

    try:
        assert asyncio.run(run()) == ("failed", "PONG")
    finally:
        server.cleanup()



async def slow_redis(delays: list[float]) -> asyncio.Server:
    """A stand-in Redis on a free port that answers each read with +PONG after the next delay."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for delay in delays:
                if not await reader.read(1024):
                    break
                await asyncio.sleep(delay)
                writer.write(b"+PONG\r\n")
                await writer.drain()
        finally:
            writer.transport.abort()  # also when the test's loop ends while this still sleeps

    return await asyncio.start_server(handle, "127.0.0.1", 0)


def test_a_command_sent_after_an_idle_spell_is_not_taken_for_a_silent_redis(monkeypatch):
    from authcourse.stores import resp

    monkeypatch.setattr(resp, "REPLY_TIMEOUT", 0.2)

    async def run() -> list:
        server = await slow_redis([0, 0.1, 0])
        client = PipelinedRedis("127.0.0.1", server.sockets[0].getsockname()[1])
        try:
            replies = [await client.execute("PING")]
            await asyncio.sleep(0.15)  # idle; the watchdog looks 0.2 s after the first write
            replies.append(await client.execute("PING"))  # answered 0.1 s later: not silent
            return replies
        finally:
            client.close()
            server.close()

    assert asyncio.run(run()) == ["PONG", "PONG"]


def test_a_redis_that_stops_answering_fails_the_waiting_command_after_the_timeout(monkeypatch):
    from authcourse.stores import resp

    monkeypatch.setattr(resp, "REPLY_TIMEOUT", 0.2)

    async def run() -> None:
        server = await slow_redis([2.0])
        client = PipelinedRedis("127.0.0.1", server.sockets[0].getsockname()[1])
        try:
            await client.execute("PING")
        finally:
            client.close()
            server.close()

    with pytest.raises(redis.TimeoutError, match="no reply"):
        asyncio.run(run())


def test_commands_whose_connection_is_lost_are_sent_once_more_on_a_new_one():
    accepted: list[int] = []

    async def run() -> str:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted.append(1)
            try:
                await reader.read(1024)
                if len(accepted) > 1:  # the first connection is dropped unanswered, the second one answers
                    writer.write(b"+PONG\r\n")
                    await writer.drain()
                    await reader.read(1024)
            finally:
                writer.transport.abort()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        client = PipelinedRedis("127.0.0.1", server.sockets[0].getsockname()[1])
        try:
            return await client.execute("PING")
        finally:
            client.close()
            server.close()

    assert asyncio.run(run()) == "PONG"
    assert len(accepted) == 2


@pytest.mark.redis
def test_a_lost_connection_leaves_no_pending_task_behind(redis_server):
    server = RedisServer().start()
    client = PipelinedRedis("127.0.0.1", server.port)

    async def run() -> int:
        await client.execute("PING")
        server.stop(kill=True)
        with pytest.raises(redis.ConnectionError):
            await client.execute("PING")
        await asyncio.sleep(0.01)
        return len([task for task in asyncio.all_tasks() if task is not asyncio.current_task()])

    try:
        assert asyncio.run(run()) == 0
    finally:
        client.close()
        server.cleanup()
