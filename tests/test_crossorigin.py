"""Chapter 15 in a real Chromium: CORS with credentials, Fetch Metadata, login CSRF, the backend-for-frontend.

One Chromium serves the module; each experiment runs once. Every row is checked three ways: against
what the web's rules say it must be (written out here), against the model's prediction, and against
the recording the notebook shows where no browser is installed. Without Chromium these tests skip
(and fail when CI is set).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from conftest import require

from authcourse.browserlab.acrossorigins import (
    METADATA_CASES,
    CorsRow,
    LoginCsrfRow,
    MetadataRow,
    SpaRow,
    bff_experiment,
    cors_experiment,
    fetch_metadata_experiment,
    from_record,
    login_csrf_experiment,
    read_recorded,
)
from authcourse.browserlab.browser import Browser, chromium_path

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require(chromium_path(), "chromium not installed (apt-get install chromium, or set AUTHCOURSE_CHROMIUM)")
    with Browser() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def metadata(browser: Browser) -> dict[str, MetadataRow]:
    return {row.request: row for row in fetch_metadata_experiment(browser)}


@pytest.fixture(scope="module")
def cors(browser: Browser) -> dict[tuple[str, str, str, bool], CorsRow]:
    return {(row.policy, row.page, row.request, row.third_party_cookies): row for row in cors_experiment(browser)}


# Sec-Fetch-Site, -Mode, -Dest, -User, Origin sent?, and what the guarded server answered.
METADATA = {
    "same-origin fetch POST": ("same-origin", "cors", "empty", "", True, 200),
    "same-site, cross-origin fetch POST": ("same-site", "cors", "empty", "", True, 403),
    "cross-site fetch POST": ("cross-site", "cors", "empty", "", True, 403),
    "cross-site form POST": ("cross-site", "navigate", "document", "", True, 403),
    "cross-site link (top-level GET)": ("cross-site", "navigate", "document", "?1", False, 200),
    "URL typed by the user (GET)": ("none", "navigate", "document", "?1", False, 200),
}


@pytest.mark.parametrize("name", [name for name, _, _ in METADATA_CASES])
def test_chromium_sends_the_fetch_metadata_and_the_guard_answers(name: str, metadata: dict[str, MetadataRow]):
    row = metadata[name]
    site, mode, dest, user, has_origin, guarded = METADATA[name]
    assert (row.site, row.mode, row.dest, row.user, bool(row.origin)) == (site, mode, dest, user, has_origin), row
    assert row.agrees, f"the model says {row.predicted_site}, Chromium sent {row.site}"
    assert row.guarded_status == guarded, row


EVIL, FRONT = "https://evil.test", "https://front.test"
GET, SIMPLE, JSON = "GET (read the data)", "simple POST (a form body)", "JSON POST (preflighted)"
# (policy, calling page, request, third-party cookies) -> preflight, request sent, cookie sent, readable, state changed
CORS = {
    ("star", EVIL, GET, True): (False, True, True, False, False),
    ("star", EVIL, SIMPLE, True): (False, True, True, False, True),  # unreadable, yet the money moved
    ("star", EVIL, JSON, True): (True, False, False, False, False),  # `*` with credentials fails the preflight
    ("reflect", EVIL, GET, True): (False, True, True, True, False),  # the attacker reads the victim's data
    ("reflect", EVIL, SIMPLE, True): (False, True, True, True, True),
    ("reflect", EVIL, JSON, True): (True, True, True, True, True),
    ("allowlist", EVIL, GET, True): (False, True, True, False, False),
    ("allowlist", EVIL, SIMPLE, True): (False, True, True, False, True),  # CORS is not a CSRF defence
    ("allowlist", EVIL, JSON, True): (True, False, False, False, False),
    ("allowlist", FRONT, GET, True): (False, True, True, True, False),
    ("allowlist", FRONT, SIMPLE, True): (False, True, True, True, True),
    ("allowlist", FRONT, JSON, True): (True, True, True, True, True),
    ("reflect", EVIL, GET, False): (False, True, False, True, False),  # readable, but a 401: no cookie went
    ("reflect", EVIL, SIMPLE, False): (False, True, False, True, False),
    ("reflect", EVIL, JSON, False): (True, True, False, True, False),
}


@pytest.mark.parametrize("case", list(CORS), ids=lambda case: "-".join(str(part) for part in case))
def test_each_cors_case_in_chromium(case: tuple[str, str, str, bool], cors: dict[Any, CorsRow]):
    row = cors[case]
    measured = (row.preflight_sent, row.request_sent, row.cookie_sent, row.readable, row.state_changed)
    assert measured == CORS[case], row
    assert row.agrees, f"the model predicted {row.predicted}"
    if row.readable:
        assert row.read_status == (200 if row.cookie_sent else 401)


def test_the_cors_table_covers_exactly_these_cases(cors):
    assert set(cors) == set(CORS)


def test_login_csrf_works_without_a_defence_and_is_refused_by_the_guard(browser):
    rows = {row.server: row for row in login_csrf_experiment(browser)}
    open_login, guarded = rows["form login, no defence"], rows["form login + CrossSiteGuard"]
    assert (open_login.forged_status, open_login.logged_in_as) == (200, "mallory@evil.test")
    assert (guarded.forged_status, guarded.logged_in_as) == (403, "alice@example.com")
    assert open_login.sec_fetch_site == guarded.sec_fetch_site == "cross-site"
    assert_recorded("login_csrf", LoginCsrfRow, list(rows.values()))


def test_a_script_injected_into_the_spa_finds_no_token_behind_a_bff(browser):
    rows = {row.design: row for row in bff_experiment(browser)}
    kept, bff = rows["SPA keeps the token in localStorage"], rows["SPA behind a BFF (HttpOnly cookie)"]
    assert kept.token_found and "storage keys=['token']" in kept.readable
    assert not bff.token_found and bff.readable == "document.cookie='', storage keys=[]"
    assert kept.api_status == bff.api_status == 200  # either way the script can act while the page is open
    assert_recorded("bff", SpaRow, list(rows.values()))


def test_the_recording_is_what_chromium_does_today(metadata, cors):
    assert_recorded("fetch_metadata", MetadataRow, list(metadata.values()))
    assert_recorded("cors", CorsRow, list(cors.values()))


def assert_recorded(name: str, cls: Any, live: list[Any]) -> None:
    data = read_recorded()
    recorded = [replace(from_record(cls, item, ""), recorded=False) for item in data[name]]
    assert recorded == [replace(row, chromium="") for row in live], \
        f"{name} changed: run tools/record_browser_results.py crossorigin"
