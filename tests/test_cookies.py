"""The cookie model: what it renders, what it parses back, and every combination it refuses."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from authcourse.cookies import Cookie, CookieError


def test_a_default_cookie_is_httponly_lax_on_the_whole_site():
    assert Cookie("sid", "abc").render() == "sid=abc; Path=/; HttpOnly; SameSite=Lax"


def test_every_attribute_is_rendered():
    cookie = Cookie(
        "__Secure-id",
        "v",
        max_age=3600,
        expires=datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
        domain="example.com",
        path="/api",
        secure=True,
        http_only=True,
        same_site="Strict",
    )
    assert cookie.render() == (
        "__Secure-id=v; Max-Age=3600; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Domain=example.com; "
        "Path=/api; Secure; HttpOnly; SameSite=Strict"
    )


@pytest.mark.parametrize(
    "cookie",
    [
        Cookie("sid", "abc"),
        Cookie("sid", "", path=None, http_only=False, same_site=None),
        Cookie("token", "a.b-c_d~", max_age=0, same_site="Strict"),
        Cookie("pref", "dark", max_age=86400, domain="example.com", path="/app", http_only=False),
        Cookie("tp", "x", secure=True, same_site="None"),
        Cookie("__Host-sid", "x", secure=True),
        Cookie("__Secure-sid", "x", secure=True, domain="example.com"),
        Cookie("e", "1", expires=datetime(2031, 6, 7, 8, 9, 10, tzinfo=timezone.utc)),
    ],
    ids=lambda cookie: cookie.render(),
)
def test_parse_reads_back_what_render_wrote(cookie):
    assert Cookie.parse(cookie.render()) == cookie


def test_parse_ignores_the_case_of_attribute_names_and_spaces():
    cookie = Cookie.parse(" sid = v ;  path=/ ; httponly ; SECURE ; samesite=strict ; MAX-AGE=5 ; Unknown=1")
    assert cookie == Cookie("sid", "v", max_age=5, path="/", secure=True, http_only=True, same_site="Strict")


def test_parse_reads_the_servers_own_expired_cookie():
    expired = Cookie("sid", "abc", max_age=86400).expired()
    parsed = Cookie.parse(expired.render())
    assert parsed.value == "" and parsed.max_age == 0
    assert parsed.expires == datetime(1970, 1, 1, tzinfo=timezone.utc)


def test_expired_keeps_name_path_and_flags():
    cookie = Cookie("sid", "abc", max_age=60, secure=True, same_site="Strict")
    expired = cookie.expired()
    assert (expired.name, expired.path, expired.secure, expired.http_only, expired.same_site) == (
        "sid",
        "/",
        True,
        True,
        "Strict",
    )


@pytest.mark.parametrize(
    "header",
    ["no-equals-sign", "sid=v; Max-Age=soon", "sid=v; Max-Age=1.5", "sid=v; Expires=yesterday"],
)
def test_parse_refuses_what_it_cannot_read(header):
    with pytest.raises(CookieError):
        Cookie.parse(header)


def test_parse_refuses_a_contradiction_it_reads():
    with pytest.raises(CookieError, match="SameSite=None requires Secure"):
        Cookie.parse("tp=x; SameSite=None")


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"name": "tp", "same_site": "None"}, "SameSite=None requires Secure"),
        ({"name": "__Secure-id"}, "a __Secure- cookie requires Secure"),
        ({"name": "__Host-id"}, "a __Host- cookie requires Secure"),
        ({"name": "__Host-id", "secure": True, "domain": "example.com"}, "a __Host- cookie must not have a Domain"),
        ({"name": "__Host-id", "secure": True, "path": "/api"}, "a __Host- cookie must have Path=/"),
        ({"name": "__Host-id", "secure": True, "path": None}, "a __Host- cookie must have Path=/"),
        ({"name": "sid", "path": "api"}, "Path must start with /"),
        ({"name": "sid", "same_site": "lax"}, "SameSite must be Strict, Lax or None"),
    ],
)
def test_contradictory_attributes_are_refused(kwargs, problem):
    with pytest.raises(CookieError, match=re.escape(problem)):
        Cookie(value="x", **kwargs)


def test_every_problem_is_named_at_once():
    with pytest.raises(CookieError) as caught:
        Cookie("__Host-id", "x", domain="example.com", path="/api")
    assert str(caught.value).count(";") == 2


@pytest.mark.parametrize(
    "name", ["secure", "Path", "EXPIRES", "max-age", "domain", "httponly", "SameSite", "partitioned"]
)
def test_a_name_that_is_an_attribute_is_refused(name):
    # Starlette's set_cookie raises on these; a browser would read them as attributes.
    with pytest.raises(CookieError, match="invalid cookie name"):
        Cookie(name, "x")


@pytest.mark.parametrize("name", ["", "a b", "a=b", "a;b", "a,b", "sïd", "a\tb", "(sid)", 'a"b'])
def test_a_name_that_is_not_a_token_is_refused(name):
    with pytest.raises(CookieError, match="invalid cookie name"):
        Cookie(name, "x")


@pytest.mark.parametrize("value", ["a b", 'a"b', "a,b", "a;b", "a\\b", "é", "a\nb", "a\x00b"])
def test_a_value_a_cookie_cannot_carry_is_refused(value):
    with pytest.raises(CookieError, match="cookie value"):
        Cookie("sid", value)


def test_problems_is_empty_for_a_valid_cookie():
    assert Cookie("sid", "abc").problems() == []
