"""Run plain (synchronous) code on an event loop and let it wait for the network without blocking.

The auth code calls `store.get(key)` and expects an answer. Run it with `await run_bridged(f)`:
`f` runs in a greenlet, and when a store call needs a network answer it hands the awaitable to
the loop (`wait_for`), which goes on serving other requests until the answer comes back. The same
pattern lets SQLAlchemy run its synchronous ORM over asyncio drivers. Outside `run_bridged`,
`bridged()` is False and stores answer the ordinary, blocking way.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from greenlet import getcurrent, greenlet

T = TypeVar("T")


class _Bridged(greenlet):
    """A greenlet whose code may hand awaitables to the event loop that started it."""


def bridged() -> bool:
    """True inside code started by `run_bridged`, where `wait_for` may be called."""
    return isinstance(getcurrent(), _Bridged)


def wait_for(awaitable: Awaitable[T]) -> T:
    """From code started by `run_bridged`: let the event loop await this, and return its result."""
    current = getcurrent()
    if not isinstance(current, _Bridged):
        raise RuntimeError("wait_for() is only possible inside run_bridged()")
    return current.parent.switch(awaitable)


async def run_bridged(function: Callable[..., T], *args: Any) -> T:
    """Run `function(*args)` on this event loop; its `wait_for` calls await here, one by one."""
    child = _Bridged(function, getcurrent())
    request = child.switch(*args)
    while not child.dead:
        try:
            answer = await request
        except BaseException:  # noqa: BLE001 - the error goes back into the code that waited for it
            request = child.throw(*sys.exc_info())
        else:
            request = child.switch(answer)
    return request
