"""Tests for authcourse.instruments.measure: timings come with their spread; comparisons need a clear gap."""

from __future__ import annotations

from authcourse.instruments.measure import Timing, compare, time_per_call


def timing(median: float) -> Timing:
    return Timing("t", median, median * 0.9, median * 1.1, 10)


def test_a_timing_holds_the_median_between_the_fastest_and_slowest_batch() -> None:
    calls = []
    result = time_per_call("append", lambda: calls.append(1), batches=3)
    assert 0 < result.low <= result.median <= result.high
    assert result.calls > 0
    assert len(calls) > result.calls, "the batches ran the function as often as they say, after a warm-up"
    assert str(result).startswith("append: ") and str(result).count("µs") == 3


def test_compare_says_cheaper_or_costlier_only_beyond_a_factor_of_two() -> None:
    assert compare(timing(1), timing(30)) == "cheaper"
    assert compare(timing(30), timing(1)) == "costlier"
    assert compare(timing(10), timing(19)) == "about the same"
    assert compare(timing(19), timing(10)) == "about the same"
    assert compare(timing(10), timing(20)) == "cheaper", "exactly the factor counts as a gap"
