"""run_bridged: plain code on an event loop that waits for awaitables without blocking the loop."""

from __future__ import annotations

import asyncio

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
