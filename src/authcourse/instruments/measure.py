"""Timing small operations, robustly enough to compare them on a busy machine.

`time_per_call` runs a function in batches and keeps every batch's cost per call, so a figure
comes with its spread. `compare` turns two timings into words ("cheaper", "about the same",
"costlier") only when the gap is wide enough that load on a shared machine cannot flip it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

BATCH_SECONDS = 0.01  # each batch runs about this long
SAME_WITHIN = 2.0  # a factor: two timings closer than this are "about the same"


@dataclass(frozen=True)
class Timing:
    """What one call costs, in microseconds: the median batch and the fastest and slowest ones."""

    label: str
    median: float  # microseconds per call
    low: float  # microseconds per call, fastest batch
    high: float  # microseconds per call, slowest batch
    calls: int  # calls made in all

    def __str__(self) -> str:
        return f"{self.label}: {self.median:.1f} µs per call (batches from {self.low:.1f} µs to {self.high:.1f} µs)"


def time_per_call(label: str, function: Callable[[], object], *, batches: int = 7) -> Timing:
    """Run `function` in `batches` batches of about BATCH_SECONDS each; the cost of one call."""
    function()  # warm up (imports, caches, first connection)
    number, started = 1, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < BATCH_SECONDS / 10:
        function()
        number += 1
    number = max(1, round(number * BATCH_SECONDS / elapsed))
    costs = []
    for _ in range(batches):
        started = time.perf_counter()
        for _ in range(number):
            function()
        costs.append((time.perf_counter() - started) / number * 1e6)
    return Timing(label, statistics.median(costs), min(costs), max(costs), number * batches)


def compare(first: Timing, second: Timing, *, same_within: float = SAME_WITHIN) -> str:
    """'cheaper', 'about the same' or 'costlier': the first against the second, by median."""
    ratio = first.median / second.median
    if ratio * same_within <= 1:
        return "cheaper"
    if ratio >= same_within:
        return "costlier"
    return "about the same"
