"""The cookie model, proven: the matrix's cases run in Chromium, each beside the model's verdict.

`run_matrix(browser, lab)` runs every group of `matrix.groups()` (or some) in a real Chromium
against a running `LabServer`; `observe` does the same or, with no browser here, reads the
recording (`recorded/cookie_matrix.json`); `table` shows Chromium's result per request and
cookie under the third-party cookie setting it was measured with, flagging every case where the
model disagrees; `side_by_side` puts the two settings in one table.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from ..fleet.resulttable import ResultTable
from .cookiemodel import Request, predict
from .matrix import SUBRESOURCES, Case, Group, Observed, Outcome, groups, label


def set_url(group: Group) -> str:
    return group.set_from + "?" + urlencode([("set", cookie) for cookie in group.cookies])


def run_group(browser: Any, lab: Any, group: Group) -> list[Outcome]:
    """One group in a fresh profile of `browser` against a running `lab`, each case beside the model."""
    return browser.run(run_groups, browser, lab, [group])


def run_groups(browser: Any, lab: Any, chosen: list[Group]) -> list[Outcome]:
    """The groups one after the other, in one profile emptied between groups (a new one costs half a second)."""
    shared = None
    try:
        outcomes = []
        for group in chosen:
            if group.third_party_cookies:
                tab = browser.tab(third_party_cookies=True)
                try:
                    outcomes += run_in_tab(tab, lab, group)
                finally:
                    tab.close()
            else:
                shared = shared.empty() if shared else browser.tab()
                outcomes += run_in_tab(shared, lab, group)
        return outcomes
    finally:
        if shared is not None:
            shared.close()  # and its connections to the lab, before the lab stops


def batches(requests: tuple[Request, ...]) -> list[list[Request]]:
    """The requests in page loads: each top-level request alone, the others of one page together."""
    together: dict[str | None, list[Request]] = {}
    alone = []
    for request in requests:
        if request.kind in SUBRESOURCES and request.from_url is not None:
            together.setdefault(request.from_url, []).append(request)
        else:
            alone.append([request])
    return alone + list(together.values())


def run_in_tab(tab: Any, lab: Any, group: Group) -> list[Outcome]:
    from .browser import make_requests

    tab.goto(lab.localize(set_url(group)))
    jar = tab.stored()
    done = {}
    for batch in batches(group.requests):
        from_url = lab.localize(batch[0].from_url) if batch[0].from_url else None
        answers = make_requests(tab, lab, [(r.kind, lab.localize(r.url)) for r in batch], from_url)
        done.update(zip(batch, answers))
    results = [(request, *done[request]) for request in group.requests]
    visible: dict[str, list[str]] = {}
    for url in dict.fromkeys(request.url for request in group.requests):
        tab.goto(lab.localize(url))
        visible[url] = [part.split("=", 1)[0] for part in tab.script_view()["cookie"].split("; ") if part]
    tab.wait_for_reports([tag for _, _, tag in results])
    outcomes = []
    for request, sent, tag in results:
        blocked = tab.reasons_for(tag)
        for cookie in group.cookies:
            name = cookie.split("=", 1)[0]
            case = Case(f"{group.name} | {name} | {label(request)}", cookie, group.set_from, request)
            reasons = tab.refused.get(name, []) if name not in jar else blocked.get(name, [])
            observed = Observed(name in jar, name in sent, name in visible[request.url], sorted(reasons))
            outcomes.append(Outcome(case, predict(cookie, group.set_from, request), observed))
    return outcomes


def run_matrix(browser: Any, lab: Any, names: tuple[str, ...] | None = None) -> list[Outcome]:
    """Every case (or the groups `names`) in Chromium and in the model."""
    chosen = [group for group in groups() if names is None or group.name in names]
    return browser.run(run_groups, browser, lab, chosen)


@dataclass
class Observation:
    """Outcomes of some groups of the matrix, live or as recorded, and where they come from."""

    outcomes: list[Outcome]
    live: bool
    chromium: str

    @property
    def source(self) -> str:
        if self.live:
            return f"Chromium results: live, Chromium {self.chromium}"
        return (f"Chromium results: RECORDED in Chromium {self.chromium} (no browser here; "
                f"install chromium and run `{load_recorded()['command']}` or this notebook to see them live)")


def observe(names: tuple[str, ...], browser: Any = None, lab: Any = None) -> Observation:
    """The groups `names` run live when a browser and a lab are given, else taken from the recording."""
    if browser is not None and lab is not None:
        return Observation(run_matrix(browser, lab, names), True, browser.version)
    wanted = {f"{group.name} | " for group in groups() if group.name in names}
    chosen = [outcome for outcome in recorded_outcomes() if any(outcome.case.id.startswith(w) for w in wanted)]
    return Observation(chosen, False, load_recorded()["chromium"])


SHORT_REASONS = {
    "SchemefulSameSiteStrict": "Strict",
    "SchemefulSameSiteLax": "Lax",
    "SchemefulSameSiteUnspecifiedTreatedAsLax": "Lax(default)",
    "UserPreferences": "3P-blocked",
    "SameSiteNoneInsecure": "None-needs-Secure",
}


def cell(outcome: Outcome) -> str:
    observed = outcome.chromium
    if observed.sent:
        text = "sent"
    else:
        reasons = observed.reasons or list(outcome.model.reasons)
        text = "no:" + "+".join(SHORT_REASONS.get(reason, reason) for reason in reasons) if reasons else "no"
        if not observed.stored:
            text = "not stored:" + text[3:]
    return text if outcome.agrees else text + " (MODEL WRONG)"


BLOCKED = ("third-party cookies blocked (the lab's Chromium profile, as in Chrome Incognito; "
           "Safari blocks them, Firefox partitions them)")
ALLOWED = "third-party cookies allowed (Chrome's default profile in 2026)"


def setting(outcomes: list[Outcome]) -> str:
    """The browser setting the outcomes were measured under, as a caption line."""
    allowed = {outcome.case.request.third_party_cookies for outcome in outcomes}
    if allowed == {True}:
        return "measured with " + ALLOWED
    if allowed == {False}:
        return "measured with " + BLOCKED
    return "measured with third-party cookies blocked in some rows, allowed in others"


def agreement(outcomes: list[Outcome]) -> str:
    agree = sum(outcome.agrees for outcome in outcomes)
    return f"model agrees with Chromium on {agree} of {len(outcomes)} cases"


def grid(outcomes: list[Outcome], cookies: tuple[str, ...] | None) -> tuple[list[str], dict[str, dict[str, str]]]:
    """Cookie names (columns) and, per request (row), the cell text of each cookie."""
    outcomes = [outcome for outcome in outcomes if cookies is None or outcome.case.name in cookies]
    names = list(dict.fromkeys(outcome.case.name for outcome in outcomes))
    rows: dict[str, dict[str, str]] = {}
    for outcome in outcomes:
        rows.setdefault(outcome.case.id.split(" | ", 2)[2], {})[outcome.case.name] = cell(outcome)
    return names, rows


def table(outcomes: list[Outcome], cookies: tuple[str, ...] | None = None) -> ResultTable:
    """Chromium's result per request (rows) and cookie (columns) under the setting it was measured with;
    the model is flagged wherever it disagrees. `print` it for text; in Jupyter it shows as HTML."""
    outcomes = [outcome for outcome in outcomes if cookies is None or outcome.case.name in cookies]
    names, rows = grid(outcomes, cookies)
    body = [[row, *(cells.get(name, "") for name in names)] for row, cells in rows.items()]
    return ResultTable.of(["request", *names], body, caption=setting(outcomes), notes=[agreement(outcomes)])


def side_by_side(blocked: list[Outcome], allowed: list[Outcome], cookies: tuple[str, ...] | None = None) -> ResultTable:
    """The same requests under both settings: each cell reads "blocked setting / allowed setting".

    Only the requests measured under both settings are shown (the allowed profile runs the cross-site rows)."""
    names, blocked_rows = grid([o for o in blocked if not o.case.request.third_party_cookies], cookies)
    _, allowed_rows = grid([o for o in allowed if o.case.request.third_party_cookies], cookies)
    shared = [row for row in blocked_rows if row in allowed_rows]
    body = [[row, *(f"{blocked_rows[row].get(n, '')} / {allowed_rows[row].get(n, '')}" for n in names)]
            for row in shared]
    both = [o for o in blocked + allowed if o.case.id.split(" | ", 2)[2] in shared
            and (cookies is None or o.case.name in cookies)]
    return ResultTable.of(["request", *names], body,
                          caption="each cell: third-party cookies BLOCKED (the lab's Chromium) / ALLOWED "
                                  "(Chrome's default profile)",
                          notes=[agreement(both)])


def to_record(outcome: Outcome) -> dict[str, Any]:
    return {"id": outcome.case.id, "cookie": outcome.case.cookie, "set_from": outcome.case.set_from,
            "request": asdict(outcome.case.request), "chromium": asdict(outcome.chromium)}


RECORDED = "cookie_matrix.json"


def load_recorded() -> dict[str, Any]:
    """The matrix as recorded in Chromium: {"chromium": version, "command": ..., "cases": [...]}."""
    text = resources.files("authcourse.browserlab").joinpath("recorded", RECORDED).read_text(encoding="utf-8")
    return json.loads(text)


def recorded_outcomes() -> list[Outcome]:
    """The recorded Chromium results, each beside the model's prediction for the same case."""
    found = []
    for item in load_recorded()["cases"]:
        request = Request(**item["request"])
        case = Case(item["id"], item["cookie"], item["set_from"], request)
        found.append(Outcome(case, predict(case.cookie, case.set_from, request), Observed(**item["chromium"])))
    return found
