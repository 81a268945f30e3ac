"""Tests for authcourse.instruments.comparison: each row of the lesson's table, measured against live servers."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from authcourse.instruments import comparison, liverows
from authcourse.instruments.comparison import CostResult, Row, comparison_table
from authcourse.instruments.measure import Timing


def timing(label: str, median: float) -> Timing:
    return Timing(label, median, median, median, 1)


def server_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name.startswith("authcourse:")}


def test_a_session_login_fills_the_store_and_a_token_login_leaves_it_empty() -> None:
    before = server_threads()
    state = liverows.measure_state()
    assert [key.split(":")[0] for key in state.session_keys] == ["session", "user-sessions"]
    assert state.token_keys == ()
    assert len(state.denylist_keys) == 1 and state.denylist_keys[0].startswith("denylist:")
    assert (state.session_jar, state.token_jar) == (("sid",), ())
    assert [row.verdict for row in state.rows()] == ["confirmed", "depends on", "confirmed"]
    assert server_threads() <= before, "every server it started is stopped"


def test_the_cookie_goes_unasked_and_the_token_only_when_set_by_hand() -> None:
    sending = liverows.measure_sending()
    assert (sending.session_unasked, sending.session_status) == (("cookie",), 200)
    assert (sending.token_unasked, sending.token_unasked_status) == ((), 401)
    assert (sending.token_by_hand, sending.token_status) == (("authorization",), 200)
    assert sending.row().verdict == "confirmed"


def test_the_sizes_on_the_wire_correct_the_lessons_figures() -> None:
    sizes = liverows.measure_sizes()
    assert sizes.session_cookie_value == 43 + 1 + 43, "a 256-bit id, a dot, an HMAC-SHA256"
    assert sizes.session_request == len("Cookie: sid=\r\n") + 87
    assert 200 <= sizes.jwt <= 300 and sizes.jwt_request == len("Authorization: Bearer \r\n") + sizes.jwt
    assert sizes.cookie_token_request == len("Cookie: token=\r\n") + sizes.jwt
    assert 150 <= sizes.lesson_jwt <= 260
    assert sizes.idp_jwt >= 600  # an RS256 signature alone is 342 characters of base64url
    row = sizes.row()
    assert row.verdict == "depends on" and "87 B" in row.measured and f"{sizes.idp_jwt} B" in row.measured


def test_two_servers_share_logins_only_with_a_shared_store_and_secret() -> None:
    before = server_threads()
    assert liverows.measure_scaling().statuses == {
        "session, a memory store each": 401,
        "session, one shared store, one secret": 200,
        "session, one shared store, two secrets": 401,
        "token, one secret": 200,
        "token, two secrets": 401,
    }
    assert server_threads() <= before, "every server it started is stopped"


def test_a_replayed_credential_after_logout_is_refused_except_a_token_without_revocation() -> None:
    logout = liverows.measure_logout()
    assert logout.replayed == {"session": 401, "token, revocation none": 200, "token, revocation blacklist": 401,
                               "token, revocation version": 401}
    assert logout.logout_all == {"session": 200, "token, revocation none": 409, "token, revocation blacklist": 409,
                                 "token, revocation version": 200}
    assert [row.verdict for row in logout.rows()] == ["confirmed", "depends on"]


def test_without_a_cookie_jar_a_session_needs_the_cookie_copied_by_hand() -> None:
    no_jar = liverows.measure_no_cookie_jar()
    assert (no_jar.session_ignored, no_jar.session_by_hand, no_jar.token) == (401, 200, 200)
    assert no_jar.row().verdict == "confirmed"


@pytest.mark.parametrize(
    ("lookups", "verdict"),
    [((0.5, 5.0), "corrected"), ((0.5, 80.0), "depends on"), ((0.5, 25.0), "depends on"), ((150.0,), "confirmed")],
)
def test_the_cost_verdict_follows_how_each_lookup_compares_with_a_verify(lookups, verdict) -> None:
    result = CostResult(tuple(timing(f"store {n}", m) for n, m in enumerate(lookups)), timing("verify", 30.0))
    row = result.row()
    assert row.verdict == verdict
    assert "HS256 verify, signature checked, 30.0 µs" in row.measured


def test_the_best_for_row_comes_from_the_guide_and_departs_from_the_lesson_for_same_site_spas() -> None:
    row = comparison.best_for_row()
    assert "SPA, same site → session" in row.measured and row.verdict == "depends on"


def test_the_table_has_one_line_per_row_and_escapes_pipes() -> None:
    rows = [Row("A", "x | y", "z", "measured", "confirmed"), Row("B", "p", "q", "r", "corrected")]
    lines = comparison_table(rows).splitlines()
    assert len(lines) == 4 and lines[0].startswith("| aspect | the lesson: session")
    assert lines[2] == "| A | x \\| y | z | measured | **confirmed** |"


def test_the_browser_rows_come_from_the_browser_labs_results() -> None:
    experiments = pytest.importorskip("authcourse.browserlab.experiments")
    csrf, xss = experiments.recorded_csrf_results(), experiments.recorded_xss_result()
    cross_domain = experiments.recorded_cross_domain_result()
    rows = comparison.browser_rows(csrf, xss, cross_domain)
    assert [(row.aspect, row.verdict) for row in rows] == [
        ("CSRF risk", "depends on"), ("XSS risk", "confirmed"), ("Cross-domain", "corrected")]
    assert "sent with SameSite=None, kept home with SameSite=Lax, SameSite=Strict" in rows[0].measured
    sent_everywhere = [replace(result, credential_sent=not result.defence.startswith("Bearer")) for result in csrf]
    assert comparison.browser_rows(sent_everywhere, xss, cross_domain)[0].verdict == "confirmed"
    assert comparison.browser_rows(csrf, replace(xss, httponly_cookie_read=True), cross_domain)[1].verdict == "corrected"
    assert comparison.browser_rows(csrf, xss, replace(cross_domain, bearer_status=401))[2].verdict == "depends on"
    assert "SameSite" in rows[2].measured and "Access-Control-Allow-Credentials" in rows[2].measured
