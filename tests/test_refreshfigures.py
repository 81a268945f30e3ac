"""The refresh row of the compromised-account comparison: what is measured is what the server does."""

from __future__ import annotations

from authcourse.instruments.refreshfigures import Spread, measure_refresh_figures


def test_a_stolen_access_token_outlives_logout_by_its_lifetime_and_a_stolen_refresh_token_does_not():
    figures = measure_refresh_figures(requests=20, runs=2, resolution=60)
    assert figures.access_lifetime == 900
    assert figures.access_lifetime - figures.resolution < figures.stolen_access_works_for <= figures.access_lifetime
    assert figures.stolen_refresh_works_for == 0
    assert figures.store_ops_per_request == 0
    assert figures.store_ops_per_refresh == 2  # read the family, compare-and-set it
    assert 0 < figures.request_cost.low <= figures.request_cost.median <= figures.request_cost.high


def test_cost_per_request_spreads_one_refresh_over_the_requests_of_an_access_lifetime():
    figures = measure_refresh_figures(requests=20, runs=1, resolution=900)
    assert figures.cost_per_request(1) == figures.request_cost.median + figures.refresh_cost.median
    assert figures.cost_per_request(100) == figures.request_cost.median + figures.refresh_cost.median / 100


def test_a_spread_reads_as_median_and_range():
    assert str(Spread(12.4, 10.0, 20.6)) == "12 µs (runs: 10 µs to 21 µs)"
