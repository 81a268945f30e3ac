"""The lab's charts draw what the experiments returned (checked on the Figure, no pixels compared)."""

from __future__ import annotations

from authcourse.fleet.charts import plot_revocation, plot_success_rates
from authcourse.fleet.revocation import RevocationResult
from authcourse.fleet.sharing import SuccessRates


def test_the_success_chart_has_one_line_per_configuration_and_the_one_over_n_guide():
    result = SuccessRates([1, 2, 4], {"memory": [1, 0.5, 0.25], "jwt": [1, 1, 1]},
                          {"memory": "memory", "jwt": "jwt"}, "builtin", 1)
    axes = plot_success_rates(result).axes[0]
    lines = {line.get_label(): line for line in axes.get_lines()}
    assert set(lines) == {"memory", "jwt", "100 / N"}
    assert list(lines["memory"].get_ydata()) == [100, 50, 25]
    assert list(lines["100 / N"].get_ydata()) == [100, 50, 25]
    assert [tick for tick in axes.get_xticks()] == [1, 2, 4]


def test_the_revocation_chart_has_a_bar_per_scheme_red_where_it_never_revoked():
    rows = [RevocationResult("session", "sessions", True, 0.004, 1, 1, 120.0, ""),
            RevocationResult("jwt-none", "plain JWT", False, 86000.0, 0, 0, 3.0, "")]
    left, right = plot_revocation(rows).axes
    assert [bar.get_width() for bar in left.patches] == [0.004, 86000.0]
    assert [bar.get_facecolor()[:3] for bar in left.patches][1] == (0.8392156862745098, 0.15294117647058825,
                                                                     0.1568627450980392)  # tab:red
    assert [bar.get_width() for bar in right.patches] == [120.0, 3.0]
    assert [text.get_text() for text in right.texts] == ["1 store read", "0 store reads"]
