"""The cookie model alone, no browser: each rule it encodes, and the errors it gives for bad input.

tests/test_browser.py proves the same model against Chromium, case by case.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from authcourse.browserlab.cookiemodel import REQUEST_KINDS, Request, predict
from authcourse.browserlab.proof import ALLOWED, BLOCKED, observe, side_by_side, table
from authcourse.browserlab.setcookie import CookieModelError, SetCookie
from authcourse.browserlab.sites import registrable_domain
from authcourse.cookies import Cookie

BANK = "https://bank.test/"
EVIL = "https://evil.test/"


def cross(kind: str, **extra) -> Request:
    return Request(kind, "https://bank.test/account", from_url="https://evil.test/page", **extra)


@pytest.mark.parametrize(
    "same_site, kind, sent",
    [
        ("Strict", "navigate", False),
        ("Lax", "navigate", True),
        ("Lax", "form-get", True),
        ("Lax", "form-post", False),
        ("Lax", "img", False),
        ("None", "form-post", True),
        ("None", "fetch", False),
        (None, "navigate", True),
        (None, "form-post", True),
        (None, "iframe", False),
    ],
)
def test_samesite_decides_what_a_cross_site_request_carries(same_site, kind, sent):
    cookie = Cookie("sid", "abc", secure=True, same_site=same_site)
    assert predict(cookie, BANK, cross(kind)).sent is sent


def test_a_cookie_without_samesite_rides_a_cross_site_post_only_in_its_first_two_minutes():
    cookie = "sid=abc; Secure"
    assert predict(cookie, BANK, cross("form-post", cookie_age=119)).sent
    late = predict(cookie, BANK, cross("form-post", cookie_age=121))
    assert not late.sent and late.reason == "SchemefulSameSiteUnspecifiedTreatedAsLax"


def test_third_party_cookies_blocked_by_default_and_allowed_on_request():
    cookie = Cookie("sid", "abc", secure=True, same_site="None")
    blocked = predict(cookie, BANK, cross("fetch"))
    assert (blocked.sent, blocked.reason) == (False, "UserPreferences")
    assert predict(cookie, BANK, cross("fetch", third_party_cookies=True)).sent


def test_strict_cookie_on_a_blocked_third_party_request_gets_both_reasons():
    verdict = predict(Cookie("s", "1", same_site="Strict"), BANK, cross("img"))
    assert verdict.reasons == ("SchemefulSameSiteStrict", "UserPreferences")


def test_ports_never_make_a_site_but_schemes_do():
    cookie = Cookie("s", "1", same_site="Strict", secure=True)
    other_port = Request("fetch", "https://bank.test:8443/x", from_url="https://bank.test:9443/")
    assert predict(cookie, BANK, other_port).context == "same-site"
    assert predict(cookie, BANK, other_port).sent
    other_scheme = Request("fetch", "http://bank.test/x", from_url="https://bank.test/")
    assert predict(Cookie("s", "1", same_site="Strict"), "http://bank.test/", other_scheme).context == "cross-site"


def test_a_subdomain_is_the_same_site_and_localhost_is_not_127_0_0_1():
    assert registrable_domain("app.bank.test") == registrable_domain("bank.test") == "bank.test"
    assert registrable_domain("shop.example.co.uk") == "example.co.uk"
    request = Request("fetch", "http://127.0.0.1:8000/", from_url="http://localhost:8000/")
    assert predict(Cookie("s", "1", same_site="Strict"), "http://127.0.0.1:8000/", request).context == "cross-site"


def test_samesite_none_without_secure_is_not_stored():
    verdict = predict("sid=abc; SameSite=None", BANK, Request("navigate", BANK))
    assert (verdict.stored, verdict.reason) == (False, "SameSiteNoneInsecure")


def test_secure_cookies_need_a_secure_origin_to_be_set_and_to_be_sent():
    plain = "http://bank.test/"
    assert predict(Cookie("s", "1", secure=True), plain, Request("navigate", plain)).reason == "SecureOnly"
    assert predict(Cookie("s", "1", secure=True), "http://localhost/", Request("navigate", "http://localhost/")).sent
    over_http = predict(Cookie("s", "1", secure=True), BANK, Request("navigate", plain))
    assert (over_http.stored, over_http.sent, over_http.reason) == (True, False, "SecureOnly")


def test_httponly_hides_the_cookie_from_scripts_but_not_from_requests():
    hidden = predict(Cookie("s", "1", http_only=True), BANK, Request("navigate", BANK))
    shown = predict(Cookie("s", "1", http_only=False), BANK, Request("navigate", BANK))
    assert (hidden.sent, hidden.visible_to_script) == (True, False)
    assert (shown.sent, shown.visible_to_script) == (True, True)


def test_path_matches_whole_segments_only():
    cookie = Cookie("s", "1", path="/api")
    for url, sent in [("https://bank.test/api", True), ("https://bank.test/api/x", True),
                      ("https://bank.test/apix", False), ("https://bank.test/API", False)]:
        verdict = predict(cookie, BANK, Request("navigate", url))
        assert verdict.sent is sent, url
    assert predict(cookie, BANK, Request("navigate", "https://bank.test/")).reason == "NotOnPath"


def test_without_a_path_attribute_the_default_path_is_the_setting_urls_directory():
    verdict = predict("s=1", "https://bank.test/app/login", Request("navigate", "https://bank.test/other"))
    assert verdict.reason == "NotOnPath"
    assert predict("s=1", "https://bank.test/app/login", Request("navigate", "https://bank.test/app/x")).sent


def test_domain_widens_a_cookie_to_subdomains_and_must_cover_the_setting_host():
    wide = Cookie("s", "1", domain="bank.test")
    assert predict(wide, "https://app.bank.test/", Request("navigate", "https://bank.test/")).sent
    narrow = predict(Cookie("s", "1"), "https://app.bank.test/", Request("navigate", "https://bank.test/"))
    assert narrow.reason == "DomainMismatch"
    assert predict(Cookie("s", "1", domain="evil.test"), BANK, Request("navigate", BANK)).reason == "InvalidDomain"
    assert predict(Cookie("s", "1", domain="test"), BANK, Request("navigate", BANK)).reason == "InvalidDomain"


def test_max_age_and_expires_end_a_cookie():
    assert predict(Cookie("s", "1", max_age=0), BANK, Request("navigate", BANK)).reason == "Expired"
    short = Cookie("s", "1", max_age=60)
    assert predict(short, BANK, Request("navigate", BANK, cookie_age=59)).sent
    assert predict(short, BANK, Request("navigate", BANK, cookie_age=61)).reason == "Expired"
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    past = Cookie("s", "1", expires=now - timedelta(days=1))
    assert not predict(past, BANK, Request("navigate", BANK), now=now).stored
    both = Cookie("s", "1", max_age=60, expires=now - timedelta(days=1))
    assert predict(both, BANK, Request("navigate", BANK), now=now).sent  # Max-Age wins


def test_prefixes_are_checked_when_the_cookie_is_set():
    assert predict(Cookie("__Host-s", "1", secure=True), BANK, Request("navigate", BANK)).sent
    with_domain = "__Host-s=1; Secure; Path=/; Domain=bank.test"
    assert predict(with_domain, BANK, Request("navigate", BANK)).reason == "InvalidPrefix"
    assert predict("__Host-s=1; Secure", BANK, Request("navigate", BANK)).reason == "InvalidPrefix"  # no Path=/
    assert predict("__Secure-s=1", BANK, Request("navigate", BANK)).reason == "InvalidPrefix"
    assert predict("__Secure-s=1; Secure", BANK, Request("navigate", BANK)).stored


def test_a_typed_navigation_carries_even_strict_cookies():
    assert predict(Cookie("s", "1", same_site="Strict"), BANK, Request("navigate", BANK)).sent


def test_the_raw_header_and_the_packages_cookie_give_the_same_verdict():
    cookie = Cookie("sid", "abc", max_age=60, secure=True, same_site="Lax")
    assert SetCookie.parse(cookie.render()) == SetCookie.from_cookie(cookie)
    assert predict(cookie, BANK, cross("form-post")) == predict(cookie.render(), BANK, cross("form-post"))


@pytest.mark.parametrize(
    "cookie, message",
    [("", "non-empty"), ("novalue", "no name=value"), ("=abc", "no name=value"), ("a=b\nc", "control"),
     (42, "must be a Cookie")],
)
def test_a_malformed_cookie_gets_a_clear_error(cookie, message):
    with pytest.raises(CookieModelError, match=message):
        predict(cookie, BANK, Request("navigate", BANK))


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: Request("post", BANK), "request kind must be one of"),
        (lambda: Request("fetch", BANK), "made by a page"),
        (lambda: Request("navigate", "ftp://bank.test/"), "http or https"),
        (lambda: Request("navigate", "https:///nohost"), "no host"),
        (lambda: Request("navigate", "https://bank.test:99999/"), "not a valid URL"),
        (lambda: Request("navigate", BANK, cookie_age=-1), "cookie_age"),
        (lambda: predict("s=1", "file:///x", Request("navigate", BANK)), "set_from_url"),
        (lambda: predict("s=1", BANK, "navigate"), "request must be"),
    ],
)
def test_an_impossible_request_gets_a_clear_error(build, message):
    with pytest.raises(CookieModelError, match=message):
        build()


# The model against what Chromium did, as recorded (tests/test_browser.py checks the recording live) -----


def test_the_matrix_has_every_samesite_value_for_every_request_kind_in_every_context():
    from authcourse.browserlab.matrix import cases

    found = cases()
    assert len(found) >= 60
    covered = {(case.name, case.request.kind, predict(case.cookie, case.set_from, case.request).context,
                case.request.url.split(":")[0], case.request.third_party_cookies) for case in found}
    for name in ("strict", "lax", "none", "absent"):
        for kind in REQUEST_KINDS:
            for context in ("same-origin", "same-site", "cross-site"):
                assert (name, kind, context, "https", False) in covered
            assert (name, kind, "cross-site", "https", True) in covered
            assert (name, kind, "cross-site", "http", False) in covered


def test_the_model_agrees_with_every_case_recorded_in_chromium():
    from authcourse.browserlab.proof import recorded_outcomes

    outcomes = recorded_outcomes()
    assert len(outcomes) >= 60
    assert [outcome.case.id for outcome in outcomes if not outcome.agrees] == []


def test_every_matrix_table_names_the_third_party_cookie_setting_it_was_measured_under():
    blocked = table(observe(("https",)).outcomes)
    allowed = table(observe(("https-3pc-allowed",)).outcomes)
    assert str(blocked).splitlines()[0] == "measured with " + BLOCKED
    assert str(allowed).splitlines()[0] == "measured with " + ALLOWED
    assert "<caption" in blocked._repr_html_() and "blocked" in blocked._repr_html_()


def test_side_by_side_shows_samesite_none_blocked_in_the_lab_and_sent_where_third_party_cookies_are_allowed():
    both = side_by_side(observe(("https",)).outcomes, observe(("https-3pc-allowed",)).outcomes)
    rows = {row[0]: dict(zip(both.columns, row)) for row in both.rows}
    assert set(rows) == {f"{kind} from https://evil.test" for kind in REQUEST_KINDS}  # only rows run under both
    assert rows["fetch from https://evil.test"]["none"] == "no:3P-blocked / sent"
    assert rows["img from https://evil.test"]["lax"] == "no:Lax+3P-blocked / no:Lax"
    assert rows["form-post from https://evil.test"]["none"] == "sent / sent"
    assert str(both).endswith("model agrees with Chromium on 56 of 56 cases")


def test_a_verdict_shows_as_a_table_not_as_a_dataclass_repr():
    post = Request("form-post", "https://bank.test/x", from_url="https://evil.test/")
    verdict = predict("lax=1; SameSite=Lax; Secure; Path=/", "https://bank.test/x", post)
    shown = str(verdict).splitlines()
    assert shown[0].split() == ["stored", "sent", "in", "document.cookie", "request", "Chromium's", "reasons"]
    assert shown[1].split() == ["True", "False", "True", "cross-site", "SchemefulSameSiteLax"]
    assert "Verdict(" not in str(verdict) and "<td" in verdict._repr_html_()
