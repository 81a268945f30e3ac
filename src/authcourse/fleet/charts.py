"""The lab's charts, drawn with matplotlib from the experiments' results (a Figure, no global state)."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from .revocation import RevocationResult
from .sharing import SuccessRates

MARKERS = {"memory": "o", "shared": "s", "shared-secret-each": "v", "jwt": "D", "jwt-secret-each": "x"}


def plot_success_rates(result: SuccessRates) -> Figure:
    """Success rate of GET /api/profile after one login, against the number of servers."""
    figure = Figure(figsize=(8, 4.2))
    axes = figure.add_subplot()
    for key, rates in result.rates.items():
        # Lines that coincide (shared Redis and JWT at 100 %) get a small offset so both stay visible.
        offset = {"shared": 1.5, "jwt": -1.5, "shared-secret-each": 1.5, "jwt-secret-each": -1.5}.get(key, 0)
        axes.plot(result.counts, [100 * rate + offset for rate in rates], marker=MARKERS.get(key, "o"),
                  label=result.labels[key])
    axes.plot(result.counts, [100 / n for n in result.counts], color="grey", linestyle=":", label="100 / N")
    axes.set_xlabel(f"servers behind the {result.balancer} load balancer (N)")
    axes.set_ylabel("GET /api/profile answered 200 (%)")
    axes.set_xticks(result.counts)
    axes.set_ylim(0, 108)
    axes.set_title("One login, then profile requests sent round-robin")
    axes.legend(fontsize=8, loc="center right")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def plot_revocation(rows: Sequence[RevocationResult]) -> Figure:
    """Time from revoke until the stolen credential fails everywhere, and the cost per request, per scheme."""
    figure = Figure(figsize=(9, 3.6))
    left, right = figure.subplots(1, 2)
    labels = [row.label for row in rows]
    seconds = [row.seconds_to_revoke for row in rows]
    colors = ["tab:red" if not row.revoked_everywhere else "tab:green" for row in rows]
    left.barh(labels, seconds, color=colors)
    left.set_xscale("log")
    left.set_xlabel("seconds until refused on every server (log)")
    left.set_title("Time to revoke (red: only when it expires)")
    left.invert_yaxis()
    micros = [row.microseconds_per_request for row in rows]
    right.barh(labels, micros, color="tab:blue")
    right.set_xlabel("µs per authenticated request\n(every JWT signature checked)")
    right.set_title("Cost per request")
    right.set_yticklabels([])
    right.invert_yaxis()
    right.set_xlim(0, max(micros) * 1.6)
    for index, row in enumerate(rows):
        reads = row.store_reads_per_request
        right.annotate(f"{reads} store read{'' if reads == 1 else 's'}", (micros[index], index), xytext=(4, 0),
                       textcoords="offset points", va="center", fontsize=8)
    figure.tight_layout()
    return figure
