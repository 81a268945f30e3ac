"""Tables, target checks and the chart, from the rows the benchmark collected.

Ratios between two servers, or between two routes of one server, are taken WITHIN each
repetition (the runs are interleaved) and then summarised as median [min-max]: on a shared
machine that is what means something; absolute req/s are only indicative.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path

# (ours, theirs, what): the pairings printed as "our throughput over theirs".
PAIRS = [
    ("fastapi-session", "express-session", "session: fakeredis (our default) vs express-session (MemoryStore)"),
    ("fastapi-session-memory", "express-session", "session: memory vs express-session (MemoryStore)"),
    ("fastapi-session-redis", "express-session", "session: real Redis vs express-session (MemoryStore)"),
    ("fastapi-token", "express-token-keyobject", "token vs express-token-keyobject (pre-built key)"),
    ("fastapi-token", "express-token", "token vs express-token (the seed's string secret)"),
    ("fastapi-blacklist", "express-blacklist-keyobject", "blacklist (fakeredis) vs express-blacklist-keyobject (Redis)"),
    ("fastapi-blacklist", "express-blacklist", "blacklist (fakeredis) vs express-blacklist (Redis, string secret)"),
    ("fastapi-blacklist-redis", "express-blacklist-keyobject",
     "blacklist (real Redis) vs express-blacklist-keyobject (the same Redis)"),
]
# (ours with the signature cache, ours without it, theirs, what): the cache switch, side by side.
CACHE_PAIRS = [
    ("fastapi-session", "fastapi-session-nocache", "express-session", "session, fakeredis vs express-session"),
    ("fastapi-session-memory", "fastapi-session-memory-nocache", "express-session", "session, memory vs express-session"),
    ("fastapi-token", "fastapi-token-nocache", "express-token-keyobject", "token vs express-token-keyobject"),
    ("fastapi-token", "fastapi-token-nocache", "express-token", "token vs express-token (string secret)"),
    ("fastapi-blacklist-redis", "fastapi-blacklist-redis-nocache", "express-blacklist-keyobject",
     "blacklist, real Redis vs express-blacklist-keyobject"),
]
EMBEDDED_STORE_MODES = ["fastapi-session", "fastapi-token", "fastapi-blacklist", "fastapi-version", "fastapi-cookie-token"]
REAL_REDIS_MODES = ["fastapi-session-redis", "fastapi-blacklist-redis"]
TARGET_VS_PEER = 1.5
TARGET_REAL_REDIS_VS_PEER = 1.2
TARGET_OVERHEAD = 0.6
TARGET_READY_MS = 50.0


def fmt(values: list[float], digits: int = 0) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} [{min(values):.{digits}f}-{max(values):.{digits}f}]"


def table(headers: list[str], rows: list[list[str]]) -> str:
    """An aligned pipe table (reads in a terminal, renders as Markdown)."""
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])


class Results:
    def __init__(self, rows: list[dict]):
        self.rows = [r for r in rows if r.get("rps") is not None]
        self.failed = [r for r in rows if r.get("rps") is None]
        self.by = defaultdict(list)
        for r in self.rows:
            self.by[(r["label"], r["scenario"])].append(r)
        self.labels = list(dict.fromkeys(r["label"] for r in rows))

    def values(self, label: str, scenario: str, key: str) -> list[float]:
        return [r[key] for r in self.by.get((label, scenario), []) if r.get(key) is not None]

    def per_rep(self, a: str, a_scen: str, b: str, b_scen: str, key: str = "rps") -> list[float]:
        """a/b for each repetition in which both were measured."""
        b_by_rep = {r["rep"]: r[key] for r in self.by.get((b, b_scen), []) if r.get(key)}
        return [r[key] / b_by_rep[r["rep"]] for r in self.by.get((a, a_scen), []) if r["rep"] in b_by_rep and r.get(key)]

    def per_rep_diff(self, label: str, key: str) -> list[float]:
        health = {r["rep"]: r[key] for r in self.by.get((label, "health"), []) if r.get(key) is not None}
        return [r[key] - health[r["rep"]] for r in self.by.get((label, "profile"), [])
                if r["rep"] in health and r.get(key) is not None]

    def overhead(self, label: str) -> list[float]:
        return self.per_rep(label, "profile", label, "health")


def load_tables(res: Results, notes: dict[str, str]) -> str:
    out = []
    rows = []
    for scenario in ("health", "profile"):
        for label in res.labels:
            rs = res.by.get((label, scenario))
            if not rs:
                continue
            bad = sum(r["non2xx"] + r["sock_errors"] for r in rs)
            rows.append([label, notes.get(label, ""), "GET " + ("/health" if scenario == "health" else "/api/profile"),
                         len(rs), fmt(res.values(label, scenario, "rps")), fmt(res.values(label, scenario, "p50_ms"), 2),
                         fmt(res.values(label, scenario, "p99_ms"), 1), fmt(res.values(label, scenario, "cpu_us_per_req")),
                         fmt(res.values(label, scenario, "server_cores"), 2), f"{bad} !!" if bad else "0"])
    out.append(table(["server", "what", "route", "reps", "req/s", "p50 ms", "p99 ms", "CPU us/req", "cores",
                      "non-2xx/err"], rows))
    out.append("")
    rows = []
    for label in res.labels:
        ratio = res.overhead(label)
        if ratio:
            rows.append([label, fmt(ratio, 2), fmt(res.per_rep(label, "health", label, "profile", key="cpu_us_per_req"), 2),
                         fmt(res.per_rep_diff(label, "cpu_us_per_req")), fmt(res.per_rep_diff(label, "p50_ms"), 2)])
    out.append("Auth overhead, same server, per repetition (CPU/req health/profile is the same ratio seen through the "
               "server's CPU time, less disturbed by other load):")
    out.append(table(["server", "req/s profile/health", "CPU/req health/profile", "CPU us/req profile - health",
                      "p50 ms profile - health"], rows))
    return "\n".join(out)


def versus_table(res: Results) -> str:
    rows = []
    for ours, theirs, what in PAIRS:
        prof = res.per_rep(ours, "profile", theirs, "profile")
        if not prof:
            continue
        rows.append([what, fmt(prof, 2), fmt(res.per_rep(ours, "health", theirs, "health"), 2),
                     fmt(res.per_rep(theirs, "profile", ours, "profile", key="cpu_us_per_req"), 2)])
    if not rows:
        return "(no Express peer measured: nothing to compare)"
    return table(["ours vs theirs", "profile req/s ours/theirs", "health req/s ours/theirs",
                  "profile CPU/req theirs/ours"], rows)


def cache_table(res: Results) -> str:
    """Profile throughput against Express with the signature cache on and off, side by side."""
    rows = []
    for cached, checked, theirs, what in CACHE_PAIRS:
        on = res.per_rep(cached, "profile", theirs, "profile")
        off = res.per_rep(checked, "profile", theirs, "profile")
        if not on and not off:
            continue
        rows.append([what, fmt(res.values(cached, "profile", "rps")), fmt(res.values(checked, "profile", "rps")),
                     fmt(res.values(theirs, "profile", "rps")), fmt(on, 2), fmt(off, 2),
                     fmt(res.values(cached, "profile", "cpu_us_per_req"), 0),
                     fmt(res.values(checked, "profile", "cpu_us_per_req"), 0)])
    if not rows:
        return "(nothing measured with and without the signature cache)"
    return table(["ours vs theirs", "ours req/s, remembered", "ours req/s, checked", "theirs req/s",
                  "ratio, remembered", "ratio, checked", "CPU us/req, remembered", "CPU us/req, checked"], rows)


def ratio_check(ratio: list[float], target: float, what: str, detail: str = "") -> tuple[str, str]:
    """PASS/FAIL on the median of per-repetition ratios, SKIP when nothing was measured."""
    if not ratio:
        return "SKIP", f"{what} >= {target}: not measured"
    verdict = "PASS" if statistics.median(ratio) >= target else "FAIL"
    return verdict, f"{what} = {fmt(ratio, 2)}{detail}, target >= {target}"


def checks(res: Results, starts: list[dict]) -> list[tuple[str, str]]:
    """(PASS|FAIL|SKIP, text) for each figure the issue asks for."""
    lines = []
    for ours, theirs in (("fastapi-session", "express-session"), ("fastapi-token", "express-token-keyobject")):
        ratio = res.per_rep(ours, "profile", theirs, "profile")
        lines.append(ratio_check(ratio, TARGET_VS_PEER, f"profile req/s {ours} / {theirs}", " (median of per-rep ratios)"))
    for label in EMBEDDED_STORE_MODES + REAL_REDIS_MODES:
        lines.append(ratio_check(res.overhead(label), TARGET_OVERHEAD, f"{label}: profile/health req/s"))
    ratio = res.per_rep("fastapi-blacklist-redis", "profile", "express-blacklist-keyobject", "profile")
    lines.append(ratio_check(ratio, TARGET_REAL_REDIS_VS_PEER,
                             "profile req/s fastapi-blacklist-redis / express-blacklist-keyobject (one redis-server)",
                             " (median of per-rep ratios)"))
    for row in starts:
        med = row["start_median_ms"]
        lines.append(("PASS" if med < TARGET_READY_MS else "FAIL",
                      f"CourseServer(mode={row['mode']!r}) start-to-ready median {med:.1f} ms "
                      f"(p90 {row['start_p90_ms']:.1f}) over {row['starts']} starts, target < {TARGET_READY_MS:.0f} ms"))
    if not starts:
        lines.append(("SKIP", "CourseServer start-to-ready: not measured"))
    if res.rows or res.failed:
        bad = [r for r in res.rows if r["non2xx"] or r["sock_errors"]]
        text = (f"every measured run answered 2xx only ({len(res.rows)} runs)" if not bad and not res.failed else
                f"{len(bad)} run(s) with non-2xx/socket errors, {len(res.failed)} failed: "
                + ", ".join(f"{r['label']} {r['scenario']} rep {r['rep']}" for r in bad + res.failed))
        lines.append(("PASS" if not bad and not res.failed else "FAIL", text))
    return lines


def chart(res: Results, path: Path, subtitle: str) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    labels = [label for label in res.labels if res.by.get((label, "profile")) or res.by.get((label, "health"))]
    if not labels:
        return None
    fig, (ax1, ax3, ax2) = plt.subplots(3, 1, figsize=(13, 14), gridspec_kw={"height_ratios": [3, 2, 2]})
    x = range(len(labels))
    width = 0.38
    for offset, scenario, alpha, hatch in ((-width / 2, "health", 0.45, "//"), (width / 2, "profile", 1.0, None)):
        meds, lows, highs, colors = [], [], [], []
        for label in labels:
            vals = res.values(label, scenario, "rps") or [0.0]
            med = statistics.median(vals)
            meds.append(med)
            lows.append(med - min(vals))
            highs.append(max(vals) - med)
            colors.append("tab:blue" if label.startswith("fastapi") else "tab:orange")
        ax1.bar([i + offset for i in x], meds, width, yerr=[lows, highs], capsize=3, color=colors, alpha=alpha,
                hatch=hatch, edgecolor="black", linewidth=0.5)
        if scenario == "profile":
            for i, med in zip(x, meds):
                ax1.text(i + offset, med, f"{med:.0f}", ha="center", va="bottom", fontsize=7)
    ax1.set_xticks(list(x), labels, rotation=30, ha="right", fontsize=8)
    ax1.set_ylabel("req/s (median, bars: min-max over reps)")
    ax1.set_title(f"GET /health (hatched) and GET /api/profile (solid); blue: FastAPI (ours), orange: Express\n{subtitle}",
                  fontsize=9)
    ax1.grid(axis="y", alpha=0.3)

    for offset, scenario, alpha, hatch in ((-width / 2, "health", 0.45, "//"), (width / 2, "profile", 1.0, None)):
        meds = [statistics.median(res.values(label, scenario, "cpu_us_per_req") or [0.0]) for label in labels]
        colors = ["tab:blue" if label.startswith("fastapi") else "tab:orange" for label in labels]
        ax3.bar([i + offset for i in x], meds, width, color=colors, alpha=alpha, hatch=hatch, edgecolor="black",
                linewidth=0.5)
        if scenario == "profile":
            for i, med in zip(x, meds):
                ax3.text(i + offset, med, f"{med:.0f}", ha="center", va="bottom", fontsize=7)
    ax3.set_xticks(list(x), labels, rotation=30, ha="right", fontsize=8)
    ax3.set_ylabel("server CPU us per request (median)")
    ax3.set_title("Server CPU time per request, /health (hatched) and /api/profile (solid); lower is better", fontsize=9)
    ax3.grid(axis="y", alpha=0.3)

    names, meds, lows, highs = [], [], [], []
    for ours, theirs, _ in PAIRS:
        ratio = res.per_rep(ours, "profile", theirs, "profile")
        if ratio:
            names.append(f"{ours.removeprefix('fastapi-')}\n/ {theirs}")
            med = statistics.median(ratio)
            meds.append(med)
            lows.append(med - min(ratio))
            highs.append(max(ratio) - med)
    if names:
        ax2.bar(range(len(names)), meds, yerr=[lows, highs], capsize=3, color="tab:green", edgecolor="black", linewidth=0.5)
        for i, med in enumerate(meds):
            ax2.text(i + 0.08, med, f"{med:.2f}x", ha="left", va="bottom", fontsize=8)
        ax2.axhline(TARGET_VS_PEER, color="red", linestyle="--", linewidth=1, label=f"target {TARGET_VS_PEER}x")
        ax2.axhline(1.0, color="gray", linewidth=0.8)
        ax2.set_xticks(range(len(names)), names, fontsize=7)
        ax2.legend(fontsize=8)
    ax2.set_ylabel("profile req/s, ours / theirs (per rep)")
    ax2.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
