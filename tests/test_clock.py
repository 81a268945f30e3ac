"""One clock for every expiry, and later() to move it without sleeping."""

from __future__ import annotations

import threading
import time

from authcourse import later, now


def test_now_is_the_wall_clock():
    assert abs(now() - time.time()) < 1


def test_later_moves_the_clock_and_brings_it_back():
    start = now()
    with later(days=1, hours=1, minutes=1, seconds=1):
        assert 90061 <= now() - start < 90061 + 5
    assert now() - start < 5


def test_later_nests():
    start = now()
    with later(hours=1), later(minutes=30):
        assert 5400 <= now() - start < 5405


def test_later_keeps_the_clock_ticking():
    with later(hours=1):
        first = now()
        time.sleep(0.01)
        assert now() > first


def test_later_moves_the_clock_of_other_threads_too():
    seen = []
    start = now()
    with later(hours=2):
        thread = threading.Thread(target=lambda: seen.append(now()))
        thread.start()
        thread.join()
    assert 7200 <= seen[0] - start < 7205


def test_later_leaves_the_monotonic_clock_alone():
    before = time.monotonic()
    with later(days=365):
        assert time.monotonic() - before < 5
