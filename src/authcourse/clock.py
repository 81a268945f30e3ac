"""Time, and how the course moves it.

Every expiry in authcourse (session idle and absolute timeouts, JWT `iat`/`exp`/`nbf`, the
denylist's TTLs in the memory store and in fakeredis) is computed from `time.time()`, and
nothing else. So one time-travel library moves all of them together: `later(hours=25)` shifts
the clock of the whole process, the background servers included, while the event loop's own
monotonic clock keeps ticking normally. A real `redis-server` is another process and keeps
its own clock: its keys still expire in real time, but every entry also records its own
expiry, which the package checks against `time.time()`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import time_machine


def now() -> float:
    """Seconds since the epoch, the one clock every expiry is measured with."""
    return time.time()


@contextmanager
def later(*, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0) -> Iterator[None]:
    """Run the block as if that much time had passed; the clock keeps ticking from there."""
    offset = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    with time_machine.travel(time.time() + offset, tick=True):
        yield
