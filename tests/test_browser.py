"""The cookie model proven against a real Chromium, case by case, and the browser experiments the chapters show.

One Chromium and one lab serve the whole module. Without Chromium these tests skip (and fail when
CI is set); tests/test_cookiemodel.py checks the model against the recorded results everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, replace

import pytest
from conftest import require

from authcourse.browserlab.browser import Browser, chromium_path
from authcourse.browserlab.experiments import (
    cross_domain_experiment,
    csrf_experiment,
    hybrid_csrf_experiment,
    log_in,
    recorded_cross_domain_result,
    recorded_csrf_results,
    recorded_xss_result,
    xss_experiment,
)
from authcourse.browserlab.matrix import Outcome, cases
from authcourse.browserlab.proof import load_recorded, run_matrix
from authcourse.browserlab.servers import BANK, LabServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require(chromium_path(), "chromium not installed (apt-get install chromium, or set AUTHCOURSE_CHROMIUM)")
    with Browser() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def outcomes(browser: Browser) -> dict[str, Outcome]:
    with LabServer() as lab:
        return {outcome.case.id: outcome for outcome in run_matrix(browser, lab)}


@pytest.mark.parametrize("case_id", [case.id for case in cases()])
def test_the_model_predicts_what_chromium_does(case_id: str, outcomes: dict[str, Outcome]):
    outcome = outcomes[case_id]
    assert outcome.agrees, f"model {outcome.model} but Chromium {outcome.chromium}"


def test_the_recorded_matrix_is_what_chromium_does_today(outcomes: dict[str, Outcome]):
    recorded = {item["id"]: item["chromium"] for item in load_recorded()["cases"]}
    assert set(recorded) == set(outcomes), "the matrix changed: run tools/record_browser_results.py"
    stale = [case_id for case_id, outcome in outcomes.items() if asdict(outcome.chromium) != recorded[case_id]]
    assert not stale, f"re-record with tools/record_browser_results.py; these changed: {stale}"


def test_an_injected_script_steals_a_localstorage_token_and_uses_an_httponly_cookie_it_cannot_read(browser):
    result = xss_experiment(browser)
    assert result.token_stolen
    assert not result.httponly_cookie_read and result.document_cookie == ""
    assert result.request_carried_cookie and result.cookie_request_status == 200
    assert result.acted_as_user and result.transfer_status == 200  # a change made as the user, cookie unread
    assert replace(result, chromium="", recorded=False) == replace(recorded_xss_result(), chromium="", recorded=False)


def test_a_forged_cross_site_post_moves_money_only_with_samesite_none_and_no_csrf_token(browser):
    results = csrf_experiment(browser)
    moved = {result.defence: result.transferred for result in results}
    assert moved == {
        "session cookie, SameSite=None": True,
        "session cookie, SameSite=Lax": False,
        "session cookie, SameSite=Strict": False,
        "Bearer token (localStorage)": False,
        "SameSite=None + CSRF token": False,
    }
    guarded = results[-1]
    assert guarded.credential_sent and guarded.status == 403  # the cookie went along; the token was missing
    plain = [replace(result, chromium="", recorded=False) for result in results]
    assert plain == [replace(result, chromium="", recorded=False) for result in recorded_csrf_results()]


def test_a_jwt_in_a_cookie_brings_csrf_back_unless_samesite_is_lax_or_strict(browser):
    results = hybrid_csrf_experiment(browser)
    moved = {result.defence: (result.cookies, result.transferred) for result in results}
    assert moved == {
        "JWT cookie, SameSite=None": (("token",), True),
        "JWT cookie, no SameSite (under 2 min old)": (("token",), True),  # Chromium's two-minute allowance
        "JWT cookie, SameSite=Lax": ((), False),
        "JWT cookie, SameSite=Strict (the lesson's)": ((), False),
    }
    plain = [replace(result, chromium="", recorded=False) for result in results]
    assert plain == [replace(result, chromium="", recorded=False)
                     for result in recorded_csrf_results("csrf_cookie_token")]


def test_the_banks_own_form_carries_the_csrf_token_and_is_accepted(browser):
    def pay_bob(lab: LabServer) -> None:
        tab = browser.tab()
        try:
            log_in(tab, lab)
            tab.goto(lab.url(BANK, "/lab/bank"))
            tab.page.fill("input[name=to]", "bob")
            tab.page.fill("input[name=amount]", "5")
            with tab.page.expect_navigation():
                tab.page.evaluate("document.getElementById('f').submit()")
        finally:
            tab.close()

    with LabServer("session", cookie_same_site="None") as lab:
        browser.run(pay_bob, lab)
        assert lab.log.transfers == [{"from": "Alice", "to": "bob", "amount": "5", "guarded": True}]


def test_a_front_end_on_another_domain_gets_no_session_cookie_but_can_send_a_bearer_token(browser):
    result = cross_domain_experiment(browser)
    assert (result.cookie_sent, result.cookie_status, result.bearer_status) == (False, 401, 200)
    assert "UserPreferences" in result.cookie_reasons
    recorded = recorded_cross_domain_result()
    assert replace(result, chromium="", recorded=False) == replace(recorded, chromium="", recorded=False)


def test_the_browser_works_where_an_asyncio_loop_runs_as_in_a_jupyter_kernel(browser):
    import asyncio

    async def in_a_kernel() -> bool:
        return xss_experiment(browser).token_stolen  # Playwright's sync API alone would refuse here

    assert asyncio.run(in_a_kernel())


def test_a_tab_used_outside_the_browsers_thread_is_refused(browser):
    with pytest.raises(RuntimeError, match="browser.run"):
        browser.tab()
