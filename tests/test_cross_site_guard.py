"""`CrossSiteGuard` (auth.py) with crafted headers, over real HTTP; and chapter 15's recorded results beside the model.

No browser here: the headers are what Chromium sends (tests/test_crossorigin.py shows it does), written
by hand, plus the ones no browser sends (garbage, huge) that must get a 4xx, never a 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conftest import ALICE, ROUNDS

from authcourse import ConfigurationError, CourseServer, Settings
from authcourse.auth import cross_site_refusal
from authcourse.browserlab.acrossorigins import (
    CorsRow,
    MetadataRow,
    bff_experiment,
    cors_experiment,
    cors_table,
    fetch_metadata_experiment,
    from_record,
    login_csrf_experiment,
    read_recorded,
    where_from,
)
from authcourse.browserlab.crossorigin import ATTACKER, cors_prediction
from authcourse.browserlab.servers import LabServer
from authcourse.browserlab.sites import fetch_site

TRUSTED = "https://app.bank.test"
LOGIN = {"email": ALICE[0], "password": ALICE[1]}


@pytest.fixture(scope="module")
def guarded() -> Iterator[CourseServer]:
    with CourseServer("session", bcrypt_rounds=ROUNDS, cross_site_guard=True, trusted_origins=(TRUSTED,)) as server:
        yield server


@pytest.fixture(scope="module")
def unguarded() -> Iterator[CourseServer]:
    with CourseServer("session", bcrypt_rounds=ROUNDS) as server:
        yield server


def login(server: CourseServer, **headers: str) -> httpx.Response:
    return httpx.post(server.url + "/login", json=LOGIN, headers=headers)


@pytest.mark.parametrize("site", ["cross-site", "same-site", "Cross-Site"])
def test_an_unsafe_request_from_another_site_is_refused_with_403(guarded, site):
    r = login(guarded, **{"sec-fetch-site": site})
    assert r.status_code == 403, r.text
    assert r.json() == {"error": f"Cross-site request refused (Sec-Fetch-Site: {site.lower()})"}
    assert "set-cookie" not in r.headers  # refused before the route ran: no session was made


@pytest.mark.parametrize("site", ["same-origin", "none"])
def test_an_unsafe_request_from_the_same_origin_or_the_user_goes_through(guarded, site):
    r = login(guarded, **{"sec-fetch-site": site, "origin": "https://evil.test"})
    assert r.status_code == 200, r.text  # Sec-Fetch-Site is the browser's own word; Origin is not consulted
    assert "sid=" in r.headers["set-cookie"]


def test_a_listed_origin_on_the_same_site_goes_through(guarded):
    assert login(guarded, **{"sec-fetch-site": "same-site", "origin": TRUSTED}).status_code == 200
    assert login(guarded, **{"sec-fetch-site": "same-site", "origin": TRUSTED + ":8443"}).status_code == 403


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_safe_methods_are_never_refused(guarded, method):
    r = httpx.request(method, guarded.url + "/health", headers={"sec-fetch-site": "cross-site",
                                                                "origin": "https://evil.test"})
    assert r.status_code != 403, r.text


def test_without_sec_fetch_site_the_origin_decides(guarded):
    own = guarded.url  # http://127.0.0.1:PORT, as the Host header says
    assert login(guarded, origin=own).status_code == 200
    r = login(guarded, origin="https://evil.test")
    assert r.status_code == 403 and r.json() == {"error": "Cross-origin request refused (Origin is another site)"}
    assert login(guarded, origin=TRUSTED).status_code == 200
    r = login(guarded, origin="null")  # a sandboxed iframe, a data: URL, some redirects
    assert r.status_code == 403 and r.json() == {"error": "Cross-origin request refused (Origin: null)"}


def test_a_client_that_sends_neither_header_is_not_a_browser_and_goes_through(guarded):
    r = login(guarded)  # httpx, curl, a mobile app: no other site can make them send anything
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("origin", ["evil.test", "javascript:alert(1)", "https://bank.test/path", "https://a b",
                                    "https://bank.test:99999999", "\u00e9vil.test", "ftp://bank.test"])
def test_a_garbage_origin_is_a_400_with_an_error(guarded, origin):
    r = httpx.post(guarded.url + "/login", json=LOGIN, headers={"origin": origin.encode("utf-8")})
    assert r.status_code == 400, r.text
    assert r.json() == {"error": "Malformed Origin header"}


def test_an_unknown_sec_fetch_site_is_a_400(guarded):
    r = login(guarded, **{"sec-fetch-site": "cross-galaxy"})
    assert r.status_code == 400 and r.json() == {"error": "Unknown Sec-Fetch-Site value"}


def test_a_huge_origin_is_a_4xx_never_a_500(guarded):
    r = login(guarded, origin="https://" + "a" * 5000 + ".test")
    assert r.status_code == 400 and r.json() == {"error": "Origin header too long"}
    r = login(guarded, origin="https://" + "a" * 200_000 + ".test")  # past uvicorn's own header limit
    assert 400 <= r.status_code < 500, r.text
    assert login(guarded).status_code == 200  # and the server still answers


def test_the_guard_is_off_unless_asked_for(unguarded):
    assert login(unguarded, **{"sec-fetch-site": "cross-site", "origin": "https://evil.test"}).status_code == 200


@pytest.mark.parametrize("origins", ["https://app.bank.test", ("app.bank.test",), ("https://app.bank.test/",), (None,)])
def test_trusted_origins_are_checked_when_the_server_is_set_up(origins):
    with pytest.raises(ConfigurationError, match="trusted_origins"):
        Settings(cross_site_guard=True, trusted_origins=origins)


def test_the_refusal_function_alone():
    refusal = cross_site_refusal("post", {"sec-fetch-site": "cross-site"}, "https://bank.test")
    assert refusal is not None and refusal.status == 403
    assert cross_site_refusal("DELETE", {"origin": "https://bank.test"}, "https://bank.test") is None
    assert cross_site_refusal("PUT", {"origin": "https://evil.test"}, "https://bank.test").status == 403
    assert cross_site_refusal("GET", {"sec-fetch-site": "cross-site"}, "https://bank.test") is None


# The model beside the recording (everywhere; the live comparison is in tests/test_crossorigin.py) ---------

def test_the_model_predicts_every_recorded_sec_fetch_site():
    data = read_recorded()
    rows = [from_record(MetadataRow, item, data["chromium"]) for item in data["fetch_metadata"]]
    assert len(rows) == 6 and all(row.agrees for row in rows), [row for row in rows if not row.agrees]


def test_the_model_predicts_every_recorded_cors_case():
    data = read_recorded()
    rows = [from_record(CorsRow, item, data["chromium"]) for item in data["cors"]]
    assert len(rows) == 15 and all(row.agrees for row in rows), [row for row in rows if not row.agrees]


@pytest.mark.parametrize(("source", "target", "expected"), [
    (None, "https://bank.test/x", "none"),
    ("https://bank.test/a", "https://bank.test:443/x", "same-origin"),
    ("https://bank.test:8443/a", "https://bank.test/x", "same-site"),
    ("https://app.bank.test/a", "https://bank.test/x", "same-site"),
    ("http://bank.test/a", "https://bank.test/x", "cross-site"),
    ("https://evil.test/a", "https://bank.test/x", "cross-site"),
    ("https://a.github.io/", "https://b.github.io/", "cross-site"),
])
def test_fetch_site(source, target, expected):
    assert fetch_site(source, target) == expected


def test_cors_prediction():
    allowed = {"https://front.test"}
    assert cors_prediction("star", "https://evil.test", allowed, preflighted=False) == (True, False)
    assert cors_prediction("star", "https://evil.test", allowed, preflighted=True) == (False, False)
    assert cors_prediction("reflect", "https://evil.test", allowed, preflighted=True) == (True, True)
    assert cors_prediction("allowlist", "https://evil.test", allowed, preflighted=False) == (True, False)
    assert cors_prediction("allowlist", "https://front.test", allowed, preflighted=True) == (True, True)
    assert cors_prediction("allowlist", "https://front.test.evil.test", allowed, preflighted=True) == (False, False)


# The lab's cross-origin pages over plain HTTP, and the chapter without a browser --------------------------

@pytest.fixture(scope="module")
def lab() -> Iterator[Any]:
    with LabServer("session") as server:
        yield server


def local(lab: Any, path: str) -> str:
    return lab.url("127.0.0.1", path, "http")


def test_the_cors_policies_answer_what_they_are_named_for(lab):
    lab.app.state.crossorigin.allowed.add("https://front.test")
    evil, front = {"origin": "https://evil.test"}, {"origin": "https://front.test"}
    star = httpx.get(local(lab, "/lab/cors/star/data"), headers=evil).headers
    assert star["access-control-allow-origin"] == "*"
    assert httpx.get(local(lab, "/lab/cors/reflect/data"), headers=evil).headers["access-control-allow-origin"] == \
        "https://evil.test"
    assert "access-control-allow-origin" not in httpx.get(local(lab, "/lab/cors/allowlist/data"), headers=evil).headers
    listed = httpx.options(local(lab, "/lab/cors/allowlist/transfer"), headers=front)
    assert listed.status_code == 204 and listed.headers["access-control-allow-origin"] == "https://front.test"
    assert "access-control-allow-methods" not in httpx.options(local(lab, "/lab/cors/allowlist/transfer"),
                                                               headers=evil).headers


def test_the_cross_origin_pages_refuse_bad_input_with_a_4xx(lab):
    answers = [
        httpx.get(local(lab, "/lab/cors/everything/data")),
        httpx.post(local(lab, "/lab/form-login"), json={"email": "x"}),
        httpx.post(local(lab, "/lab/form-login"), content=b"a" * 10_000,
                   headers={"content-type": "application/x-www-form-urlencoded"}),
        httpx.post(local(lab, "/lab/form-login"), data={"email": ALICE[0], "password": "wrong"}),
        httpx.get(local(lab, "/lab/bff/profile"), cookies={"__Host-bff": "forged"}),
        httpx.post(local(lab, "/lab/bff/login"), content=b"{not json"),
        httpx.get(local(lab, "/lab/attacker-login"), params={"target": "javascript:alert(1)"}),
        httpx.get(local(lab, "/lab/attacker-login")),
    ]
    assert [r.status_code for r in answers] == [400, 400, 413, 401, 401, 400, 400, 422], [r.text for r in answers]
    assert all("error" in r.json() for r in answers)


def test_the_attacker_s_own_account_logs_in_at_the_form_login(lab):
    form = httpx.post(local(lab, "/lab/form-login"), data={"email": ATTACKER[0], "password": ATTACKER[1]})
    assert form.status_code == 200 and "sid=" in form.headers["set-cookie"]


def test_the_bff_keeps_the_token_and_gives_the_page_only_an_httponly_cookie():
    with LabServer("token") as api:
        login = httpx.post(local(api, "/lab/bff/login"), json=LOGIN)
        assert login.status_code == 200 and login.json() == {"message": "Logged in"}  # no token for the page
        cookie = login.headers["set-cookie"]
        assert cookie.startswith("__Host-bff=") and all(part in cookie for part in ("HttpOnly", "Secure",
                                                                                    "SameSite=Strict", "Path=/"))
        session = cookie.split(";")[0].split("=", 1)[1]
        profile = httpx.get(local(api, "/lab/bff/profile"), headers={"cookie": f"__Host-bff={session}"})
        assert profile.status_code == 200 and profile.json()["user"]["email"] == ALICE[0]
        assert api.app.state.crossorigin.bff_tokens[session].count(".") == 2  # the JWT stays on the server


def test_without_chromium_the_chapter_shows_its_recording(monkeypatch):
    monkeypatch.setenv("AUTHCOURSE_CHROMIUM", "/nonexistent/chromium")
    assert where_from(None).startswith("Chromium results: RECORDED")
    for rows in (cors_experiment(), fetch_metadata_experiment(), login_csrf_experiment(), bff_experiment()):
        assert rows and all(row.recorded for row in rows)
    assert "RECORDED" in str(cors_table(cors_experiment()))
