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
        self.outcome: tuple[bool, Any] | None = None  # (True, result) or (False, error), until taken

    def _work(self, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
        while True:
            try:
                self.outcome = (True, function(*args))
            except GreenletExit:
                raise  # the greenlet is being collected: let it end
            except BaseException as error:  # noqa: BLE001 - every error goes back to the awaiting caller
                self.outcome = (False, error)
            function = args = None  # type: ignore[assignment] # hold nothing while idle
            function, args = self.parent.switch(_DONE)


_DONE = object()  # what a bridged greenlet hands back when its function has returned or raised


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
    return current.parent.switch(awaitable)


async def run_bridged(function: Callable[..., T], *args: Any) -> T:
    """Run `function(*args)` on this event loop; its `wait_for` calls await here, one by one.

    The function sees the caller's context variables, as code awaited here directly would.
    """
    here = getcurrent()
    idle = _idle.greenlets
    child = idle.pop() if idle else _Bridged(here)
    child.parent = here
    child.gr_context = contextvars.copy_context()
    request = child.switch(function, args)
    while request is not _DONE:
        try:
            answer = await request
        except BaseException:  # noqa: BLE001 - the error goes back into the code that waited for it
            request = child.throw(*sys.exc_info())
        else:
            request = child.switch(answer)
    assert child.outcome is not None
    (ok, result), child.outcome = child.outcome, None
    child.gr_context = None
    if len(idle) < MAX_IDLE:
        idle.append(child)
    if not ok:
        try:
            raise result
        finally:
            del result  # else: error -> its traceback -> this frame -> error, a cycle only the collector frees
    return result
