"""run_bridged: plain code on an event loop that waits for awaitables without blocking the loop."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import weakref

import pytest

from authcourse.stores.bridge import bridged, run_bridged, wait_for


def test_plain_code_waits_for_an_awaitable_and_gets_its_result():
    def plain(x: int) -> tuple[bool, int]:
        return bridged(), wait_for(asyncio.sleep(0, result=x + 1)) * 2

    assert asyncio.run(run_bridged(plain, 20)) == (True, 42)


def test_an_error_of_the_awaitable_is_raised_where_the_code_waited():
    async def fail() -> None:
        raise KeyError("gone")

    def plain() -> str:
        try:
            wait_for(fail())
        except KeyError:
            return "caught inside"
        return "not raised"

    assert asyncio.run(run_bridged(plain)) == "caught inside"


def test_an_error_of_the_plain_code_reaches_the_awaiting_caller():
    def plain() -> None:
        wait_for(asyncio.sleep(0))
        raise ValueError("from plain code")

    with pytest.raises(ValueError, match="from plain code"):
        asyncio.run(run_bridged(plain))


def test_two_bridged_calls_interleave_on_one_loop():
    order: list[str] = []

    def plain(name: str, delay: float) -> str:
        order.append(f"{name} start")
        wait_for(asyncio.sleep(delay))
        order.append(f"{name} end")
        return name

    async def both() -> list[str]:
        return await asyncio.gather(run_bridged(plain, "slow", 0.05), run_bridged(plain, "fast", 0))

    assert asyncio.run(both()) == ["slow", "fast"]
    assert order == ["slow start", "fast start", "fast end", "slow end"]


def test_wait_for_outside_run_bridged_is_refused():
    assert not bridged()
    awaitable = asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="only possible inside run_bridged"):
        wait_for(awaitable)
    awaitable.close()


def test_a_greenlet_is_reused_once_its_call_is_over_and_carries_nothing_over():
    from greenlet import getcurrent

    seen = contextvars.ContextVar("seen", default="unset")

    def plain(value: str) -> tuple[int, str]:
        before = seen.get()
        seen.set(value)  # set inside the call: must not leak into the next one
        wait_for(asyncio.sleep(0))
        return id(getcurrent()), before

    async def one_after_another() -> list[tuple[int, str]]:
        return [await run_bridged(plain, "first"), await run_bridged(plain, "second")]

    (first_id, first_seen), (second_id, second_seen) = asyncio.run(one_after_another())
    assert first_id == second_id  # the same greenlet, started once
    assert (first_seen, second_seen) == ("unset", "unset")


def test_the_plain_code_sees_the_callers_context_variables():
    request_id = contextvars.ContextVar("request_id")

    async def handler(value: str) -> str:
        request_id.set(value)
        return await run_bridged(request_id.get)

    async def two() -> list[str]:
        return await asyncio.gather(handler("a"), handler("b"))

    assert asyncio.run(two()) == ["a", "b"]


def test_a_greenlet_whose_call_failed_or_was_cancelled_serves_the_next_call():
    def plain(action: str) -> str:
        wait_for(asyncio.sleep(0.5 if action == "wait" else 0))
        if action == "fail":
            raise ValueError("boom")
        return action

    async def run() -> list[str]:
        results = []
        with pytest.raises(ValueError):
            await run_bridged(plain, "fail")
        task = asyncio.ensure_future(run_bridged(plain, "wait"))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        results.append(await run_bridged(plain, "ok"))
        results.append(await run_bridged(plain, "ok again"))
        return results

    assert asyncio.run(run()) == ["ok", "ok again"]


def test_each_thread_has_its_own_greenlets():
    # Notebooks run one server per thread: a greenlet can only be switched to in its own thread.
    def plain(x: int) -> int:
        return wait_for(asyncio.sleep(0, result=x))

    results: list[int] = []
    threads = [threading.Thread(target=lambda i=i: results.append(asyncio.run(run_bridged(plain, i)))) for i in range(4)]
    for thread in threads:
        thread.start()
        thread.join()
    assert asyncio.run(run_bridged(plain, 9)) == 9 and sorted(results) == [0, 1, 2, 3]


def test_an_idle_greenlet_keeps_nothing_of_the_call_it_ran():
    class Result:
        pass

    class Failure(Exception):
        pass

    def plain(fail: bool) -> Result:
        wait_for(asyncio.sleep(0))
        if fail:
            raise Failure()
        return Result()

    async def run() -> list[object]:
        alive = []
        result = weakref.ref(await run_bridged(plain, False))
        alive.append(result())  # checked before the next call reuses the greenlet
        try:
            await run_bridged(plain, True)
        except Failure as error:
            failure = weakref.ref(error)
        alive.append(failure())
        return alive

    assert asyncio.run(run()) == [None, None]
