"""Run plain (synchronous) code on an event loop and let it wait for the network without blocking.

The auth code calls `store.get(key)` and expects an answer. Run it with `await run_bridged(f)`:
`f` runs in a greenlet, and when a store call needs a network answer it hands the awaitable to
the loop (`wait_for`), which goes on serving other requests until the answer comes back. The same
pattern lets SQLAlchemy run its synchronous ORM over asyncio drivers. Outside `run_bridged`,
`bridged()` is False and stores answer the ordinary, blocking way.

Starting a greenlet costs about 8 µs (Python gives each one a fresh frame stack, from the OS);
switching to a started one, under 1 µs. So the greenlets are kept: each thread has a small pool
of idle ones, and a request takes one, runs its function in it, and gives it back.
"""

from __future__ import annotations

import contextvars
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from greenlet import GreenletExit, getcurrent, greenlet

T = TypeVar("T")

MAX_IDLE = 256  # idle greenlets kept per thread: as many as requests that wait at once, in practice


class _Bridged(greenlet):
    """A greenlet that runs one function after another, each of which may hand awaitables to the loop."""

    def __init__(self, parent: greenlet) -> None:
        super().__init__(self._work, parent)

    def _work(self, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
        while True:
            try:
                outcome = (True, function(*args))
            except GreenletExit:
                raise  # the greenlet is being collected: let it end
            except BaseException as error:  # noqa: BLE001 - every error goes back to the awaiting caller
                outcome = (False, error)
            function = args = None  # type: ignore[assignment] # hold nothing while idle
            function, args = self.parent.switch(("done", outcome))


class _Idle(threading.local):
    def __init__(self) -> None:
        self.greenlets: list[_Bridged] = []


_idle = _Idle()


def bridged() -> bool:
    """True inside code started by `run_bridged`, where `wait_for` may be called."""
    return isinstance(getcurrent(), _Bridged)


def wait_for(awaitable: Awaitable[T]) -> T:
    """From code started by `run_bridged`: let the event loop await this, and return its result."""
    current = getcurrent()
    if not isinstance(current, _Bridged):
        raise RuntimeError("wait_for() is only possible inside run_bridged()")
    return current.parent.switch(("wait", awaitable))


async def run_bridged(function: Callable[..., T], *args: Any) -> T:
    """Run `function(*args)` on this event loop; its `wait_for` calls await here, one by one.

    The function sees the caller's context variables, as code awaited here directly would.
    """
    here = getcurrent()
    idle = _idle.greenlets
    child = idle.pop() if idle else _Bridged(here)
    child.parent = here
    child.gr_context = contextvars.copy_context()
    kind, value = child.switch(function, args)
    while kind == "wait":
        try:
            answer = await value
        except BaseException:  # noqa: BLE001 - the error goes back into the code that waited for it
            kind, value = child.throw(*sys.exc_info())
        else:
            kind, value = child.switch(answer)
    child.gr_context = None
    if len(idle) < MAX_IDLE:
        idle.append(child)
    ok, result = value
    if not ok:
        raise result
    return result
