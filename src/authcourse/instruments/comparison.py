"""The lesson's comparison table: its rows, their verdicts, and the table they make.

Each row holds the lesson's claim for sessions and for tokens, what was measured here, and a
verdict (`confirmed`, `corrected` or `depends on`). The rows measured over HTTP come from
`liverows` (each `measure_*` result's `row()`); the cost row from `requestcost`, the browser rows
from `browserlab.experiments`, the "best for" row from the decision guide. `comparison_table(rows)`
renders them; nothing in it is typed by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .guide import Case, recommend
from .measure import Timing, compare

Verdict = Literal["confirmed", "corrected", "depends on"]
COST_SAME_WITHIN = 4.0  # a lookup and a verify are "about the same" within this factor


@dataclass(frozen=True)
class Row:
    aspect: str
    session_claim: str  # the lesson's words, session column
    token_claim: str  # the lesson's words, token column
    measured: str
    verdict: Verdict


# Lookup vs verify -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostResult:
    lookups: tuple[Timing, ...]  # one store GET, per store
    verify: Timing  # one HS256 check by PyJWT

    def bucket(self, lookup: Timing) -> str:
        # A factor of 4, not 2: a loaded machine slows a CPU-bound HMAC more than a wait on a socket.
        return compare(lookup, self.verify, same_within=COST_SAME_WITHIN)

    def row(self) -> Row:
        buckets = {self.bucket(lookup) for lookup in self.lookups}
        verdict: Verdict = "corrected" if buckets == {"cheaper"} else "depends on"
        if buckets <= {"costlier"}:
            verdict = "confirmed"
        shown = ", ".join(f"{lookup.label} {lookup.median:.1f} µs" for lookup in self.lookups)
        return Row("Cost per request (section 3: \"no database lookup needed\")", "look up the session in the store",
                   "verify the signature, no lookup",
                   f"{shown}; HS256 verify, signature checked, {self.verify.median:.1f} µs", verdict)


# CSRF, XSS and cross-domain: from the browser lab (authcourse.browserlab.experiments) ----------------------


def browser_rows(csrf: Sequence[Any], xss: Any, cross_domain: Any) -> list[Row]:
    """The three browser rows, from the results of `experiments.csrf_experiment()`, `xss_experiment()`
    and `cross_domain_experiment()` (live in Chromium, or as recorded there)."""
    forged = {result.defence: result for result in csrf}
    session = [result for name, result in forged.items() if name.startswith("session cookie")]
    bearer = [result for name, result in forged.items() if name.startswith("Bearer")]
    sent = [result.defence.split(", ")[-1] for result in session if result.credential_sent]
    kept = [result.defence.split(", ")[-1] for result in session if not result.credential_sent]
    if sent and kept:
        csrf_verdict: Verdict = "depends on"
    elif sent and not any(result.credential_sent for result in bearer):
        csrf_verdict = "confirmed"
    else:
        csrf_verdict = "corrected"
    bearer_text = "; ".join(f"{r.defence}: sent {r.credential_sent}, {r.status}" for r in bearer)
    csrf_row = Row("CSRF risk", "Yes (cookies sent automatically)", "No (if using Authorization header)",
                   f"forged cross-site POST: session cookie sent with {', '.join(sent) or 'no setting'}, kept home "
                   f"with {', '.join(kept) or 'no setting'}; {bearer_text}", csrf_verdict)
    xss_confirmed = xss.token_stolen and not xss.httponly_cookie_read
    xss_row = Row("XSS risk", "Lower (httpOnly cookie)", "Higher (if stored in localStorage)",
                  f"injected script: localStorage token stolen {xss.token_stolen}; HttpOnly cookie readable "
                  f"{xss.httponly_cookie_read}, yet the script's own request carried it "
                  f"({xss.cookie_request_status}): HttpOnly stops theft, not use",
                  "confirmed" if xss_confirmed else "corrected")
    # The lesson's row is right that the cookie stays home and the Bearer token goes, wrong about why.
    cross_corrected = not cross_domain.cookie_sent and cross_domain.bearer_status == 200
    cross_row = Row("Cross-domain", "Difficult (cookie domain restrictions)", "Easy (token in any header)",
                    f"fetch from another site: session cookie sent {cross_domain.cookie_sent} "
                    f"({', '.join(cross_domain.cookie_reasons) or 'no reason given'}) -> {cross_domain.cookie_status}; "
                    f"Bearer token with CORS -> {cross_domain.bearer_status}. The cause is not the cookie's "
                    "domain: it is SameSite, the browser's third-party cookie policy, and CORS, which must allow "
                    "credentials (a same-site fetch sends the cookie with credentials: 'include' and "
                    "Access-Control-Allow-Credentials: true)",
                    "corrected" if cross_corrected else "depends on")
    return [csrf_row, xss_row, cross_row]


# Best for ---------------------------------------------------------------------------------------


def best_for_row() -> Row:
    cases = {"server-rendered": Case("server-rendered"), "SPA, same site": Case("spa-same-site"),
             "SPA, other site": Case("spa-cross-site"), "mobile": Case("mobile"),
             "microservices": Case("service", servers=3, other_verifiers=True)}
    answers = {name: recommend(case).use for name, case in cases.items()}
    lesson = {"server-rendered": "session", "SPA, same site": "token", "SPA, other site": "token",
              "mobile": "token", "microservices": "token"}
    agree = all(answers[name].startswith(use) for name, use in lesson.items())
    shown = ", ".join(f"{name} → {use}" for name, use in answers.items())
    return Row("Best for", "Server-rendered apps, single-domain", "SPAs, mobile apps, microservices, APIs",
               f"the guide of chapter 5: {shown}", "confirmed" if agree else "depends on")


# The table --------------------------------------------------------------------------------------


def comparison_table(rows: list[Row]) -> str:
    """The rows as a Markdown table: aspect, the lesson's claim, measured here, verdict."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| aspect | the lesson: session | the lesson: token | measured here | verdict |",
             "|---|---|---|---|---|"]
    lines += [f"| {cell(r.aspect)} | {cell(r.session_claim)} | {cell(r.token_claim)} | {cell(r.measured)} | "
              f"**{r.verdict}** |" for r in rows]
    return "\n".join(lines)
