"""Whatever a client sends, the answer is a clear 4xx with `{"error": ...}`, never a 500.

And the store is unharmed afterwards: the same keys and values, the sessions and tokens that
were valid before still valid.
"""

from __future__ import annotations

import base64
import json
import socket

import pytest

from conftest import ALICE, BOB, MESSAGES, assert_error

# Every (mode, revocation) shape of the server: each reads credentials a different way.
SHAPES = [("session", "none"), ("token", "blacklist"), ("token", "version"), ("cookie-token", "blacklist")]
CREDENTIAL_ROUTES = [("GET", "/api/profile"), ("GET", "/api/admin"), ("POST", "/logout"), ("POST", "/logout-all")]
# Chapter 14's routes get the same garbage (the sweep only: each answers 401 before reading a body).
CREDENTIAL_ROUTES += [("POST", "/account/password"), ("POST", "/account/email"), ("POST", "/account/api-keys"),
                      ("GET", "/sessions"), ("DELETE", "/sessions/AAAAAAAAAAAAAAAAAAAAAA")]
JSON = {"Content-Type": "application/json"}


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def login(body: bytes | None = None, headers: dict | None = None, **kwargs):
    return ("POST", "/login", {"content": body, "headers": headers if headers is not None else JSON, **kwargs})


def login_json(value) -> tuple:
    return ("POST", "/login", {"json": value})


# Bodies of POST /login ----------------------------------------------------------------------

LOGIN_CASES = {
    "malformed json": login(b'{"email": "alice@example.com",'),
    "empty body": login(b""),
    "no body and no content type": ("POST", "/login", {}),
    "json that is not utf-8": login(b'{"email": "\xff\xfe", "password": "x"}'),
    "a lone surrogate": login(b'{"email": "a", "password": "\\ud800"}'),
    "nested ten thousand deep": login(b"[" * 10_000 + b"]" * 10_000),
    "a number too big for a float": login(b'{"email": 1e999999, "password": "x"}'),
    "a five thousand digit integer": login(b'{"email": ' + b"1" * 5000 + b', "password": "x"}'),
    "NaN": login(b'{"email": "a", "password": NaN}'),
    "text/plain": login(b'{"email": "a", "password": "b"}', {"Content-Type": "text/plain"}),
    "form encoded": login(b"email=a&password=b", {"Content-Type": "application/x-www-form-urlencoded"}),
    "multipart": login(b"--x--", {"Content-Type": "multipart/form-data; boundary=x"}),
    "json without content type": login(b'{"email": "a", "password": "b"}', {}),
    "a body over 16 KB": login(json.dumps({"email": "a", "password": "b", "pad": "x" * 17_000}).encode()),
    "a json array": login_json([ALICE[0], ALICE[1]]),
    "a json string": login_json("alice@example.com"),
    "a json number": login_json(42),
    "json null": login_json(None),
    "json true": login_json(True),
    "an empty object": login_json({}),
    "no email": login_json({"password": ALICE[1]}),
    "no password": login_json({"email": ALICE[0]}),
    "email a number": login_json({"email": 1, "password": ALICE[1]}),
    "email a list": login_json({"email": [ALICE[0]], "password": ALICE[1]}),
    "email an object": login_json({"email": {"$ne": None}, "password": ALICE[1]}),
    "password null": login_json({"email": ALICE[0], "password": None}),
    "password a number": login_json({"email": ALICE[0], "password": 12345678}),
    "password true": login_json({"email": ALICE[0], "password": True}),
    "password an object": login_json({"email": ALICE[0], "password": {"$gt": ""}}),
    "an email of 400 characters": login_json({"email": "a" * 390 + "@example.com", "password": "x"}),
    "a password of 2000 characters": login_json({"email": ALICE[0], "password": "x" * 2000}),
    "a 73 byte password": login_json({"email": ALICE[0], "password": "x" * 73}),
    "a 73 byte password, unknown email": login_json({"email": "nobody@example.com", "password": "x" * 73}),
    "a 74 byte password in 37 characters": login_json({"email": ALICE[0], "password": "é" * 37}),
    "a 76 byte password in 19 emoji": login_json({"email": ALICE[0], "password": "😀" * 19}),
    "a 72 byte password, wrong": login_json({"email": ALICE[0], "password": "x" * 72}),
    "a 72 byte multi-byte password, wrong": login_json({"email": ALICE[0], "password": "€" * 24}),
    "NUL characters": login_json({"email": "alice@example.com\x00", "password": "wonderland\x00"}),
    "non-ascii email": login_json({"email": "ålice@exämple.com", "password": "wönderland"}),
    "empty strings": login_json({"email": "", "password": ""}),
}

LOGIN_EXPECTED = {
    "malformed json": (400, "Malformed JSON body"),
    "text/plain": (415, "Content-Type must be application/json"),
    "json without content type": (415, "Content-Type must be application/json"),
    "a body over 16 KB": (413, None),
    "a json array": (422, "Invalid request body: body must be a JSON object"),
    "no password": (422, "Invalid request body: password is required"),
    "email a number": (422, "Invalid request body: email must be a string"),
    "a 73 byte password": (400, "Password must be at most 72 bytes in UTF-8"),
    "a 74 byte password in 37 characters": (400, "Password must be at most 72 bytes in UTF-8"),
    "a 76 byte password in 19 emoji": (400, "Password must be at most 72 bytes in UTF-8"),
    "a 72 byte password, wrong": (401, MESSAGES["credentials"]),
    "a 72 byte multi-byte password, wrong": (401, MESSAGES["credentials"]),
    "NUL characters": (401, MESSAGES["credentials"]),
}

# Credentials: each sent as a bearer token and as both cookies -----------------------------------

HS256 = b64(b'{"alg":"HS256","typ":"JWT"}')
BAD_KID = b64(b'{"alg":"HS256","kid":"../../etc/passwd"}')

GARBAGE_TOKENS = {
    "an 8 KB value": "a" * 8192,
    "a 100 KB value": "a" * 100_000,
    "three dots": "...",
    "three empty parts": "a.b.c",
    "too many parts": "a.b.c.d.e",
    "not base64": "***.***.***",
    "header not json": f"{b64(b'not json')}.{b64(b'{}')}.{b64(b'sig')}",
    "header a json list": f"{b64(b'[]')}.{b64(b'{}')}.{b64(b'sig')}",
    "payload not json": f"{HS256}.{b64(b'not json')}.{b64(b'sig')}",
    "payload a json list": f"{HS256}.{b64(b'[1,2]')}.{b64(b'sig')}",
    "header with a bad kid": f"{BAD_KID}.{b64(b'{}')}.x",
    "a signed id with a dot": "x.y",
    "a quoted value": '"abc"',
    "percent signs": "%00%ff%",
    "a very long signed-looking id": "A" * 43 + "." + "B" * 43 + "C" * 200,
}

RAW_HEADERS = {
    "latin-1 bytes in Authorization": {"Authorization": b"Bearer \xff\xfe\xe9"},
    "utf-8 bytes in Authorization": {"Authorization": "Bearer é.ü.ß".encode()},
    "Basic credentials": {"Authorization": "Basic YWxpY2U6d29uZGVybGFuZA=="},
    "Bearer with many spaces": {"Authorization": "Bearer a b c"},
    "a 60 KB Authorization": {"Authorization": "Bearer " + "x" * 60_000},
    "latin-1 bytes in Cookie": {"Cookie": b"sid=\xff\xfe; token=\xe9\x80"},
    "utf-8 bytes in Cookie": {"Cookie": "sid=é; token=ü".encode()},
    "utf-8 bytes in signed-looking cookies": {"Cookie": "sid=été.signature; token=é.ü.ß".encode()},
    "latin-1 bytes in signed-looking cookies": {"Cookie": b"sid=\xe9t\xe9.sig; token=\xe9.\xfc.\xdf"},
    "an 8 KB Cookie header": {"Cookie": "sid=" + "s" * 4096 + "; token=" + "t" * 4096},
    "cookie syntax soup": {"Cookie": "sid=;;;==; =token; token; ;; sid=\"x\"; token=a=b=c"},
    "both cookies twice": {"Cookie": "sid=a; sid=b; token=c; token=d"},
    "a cookie named like an attribute": {"Cookie": "Path=/; Secure; HttpOnly; Max-Age=1"},
    "garbage extra headers": {"X-Garbage": b"\x80\x81\xfe", "User-Agent": b"\xff" * 100, "Accept": "\u00e9".encode()},
    "a non-ascii referer and origin": {"Referer": "http://évil.test/".encode(), "Origin": b"http://\xe9vil.test"},
}


def credential_cases(routes: list[tuple[str, str]] = CREDENTIAL_ROUTES) -> dict[str, tuple]:
    cases: dict[str, tuple] = {}
    for method, path in routes:
        for name, token in GARBAGE_TOKENS.items():
            headers = {"Authorization": f"Bearer {token}", "Cookie": f"sid={token}; token={token}"}
            cases[f"{method} {path}: {name}"] = (method, path, {"headers": headers})
        for name, headers in RAW_HEADERS.items():
            cases[f"{method} {path}: {name}"] = (method, path, {"headers": headers})
    return cases


OTHER_CASES = {
    f"{method} {path}": (method, path, {})
    for path in ("/", "/login", "/logout", "/logout-all", "/api/profile", "/api/admin", "/health", "/docs", "/nope",
                 "/account/password", "/sessions", "/sessions/x")
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
}

ALL_CASES = {**LOGIN_CASES, **credential_cases(), **OTHER_CASES}
# What could write to the store: logins, and the routes that revoke (each garbage credential once).
WRITING_CASES = {**LOGIN_CASES, **credential_cases([("POST", "/logout"), ("POST", "/logout-all")])}


@pytest.fixture(params=SHAPES, ids="-".join)
def shape(request) -> tuple[str, str]:
    return request.param


@pytest.fixture
def api(shared_server, make_api, shape):
    return make_api(shared_server(*shape))


def send(api, case: tuple):
    method, path, kwargs = case
    kwargs = dict(kwargs)
    if kwargs.get("content") is None:
        kwargs.pop("content", None)
    return api.request(method, path, **kwargs)


@pytest.mark.parametrize("case", list(LOGIN_CASES))
def test_a_bad_login_body_gets_a_clear_4xx(api, case):
    response = send(api, LOGIN_CASES[case])
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert_error(response, response.status_code)
    if case in LOGIN_EXPECTED:
        assert_error(response, *LOGIN_EXPECTED[case])
    assert "set-cookie" not in response.headers
    assert "token" not in response.json()


@pytest.mark.parametrize("case", list(credential_cases([("GET", "/api/profile")])))
def test_a_garbage_credential_is_a_401_not_an_error(api, case):
    # Here one route, case by case; the sweep below sends the same garbage to every route.
    response = send(api, ALL_CASES[case])
    assert_error(response, 401)
    assert response.json()["error"] in (MESSAGES["session-missing"], MESSAGES["token-missing"], MESSAGES["invalid"])


def test_every_request_of_the_sweep_gets_a_json_4xx_or_a_2xx(api):
    """The whole sweep against one server: routes x methods x bodies x garbage; no 500 anywhere."""
    failures = []
    for name, case in ALL_CASES.items():
        response = send(api, case)
        ok = response.status_code < 300 or (
            400 <= response.status_code < 500 and response.headers.get("content-type") == "application/json"
        )
        if not ok or (response.status_code >= 400 and "error" not in response.json()):
            failures.append((name, response.status_code, response.text[:100]))
    assert failures == []
    assert api.get("/health").status_code == 200, "the keep-alive connection survived the sweep"


def test_unknown_routes_and_wrong_methods_answer_json(api):
    assert_error(api.get("/nope"), 404, "Not Found")
    assert_error(api.request("PUT", "/login"), 405, "Method Not Allowed")
    assert_error(api.request("DELETE", "/api/profile"), 405, "Method Not Allowed")


def snapshot(store) -> dict[str, object]:
    """Every key with its value (text, or the members of a set)."""
    return {key: store.members(key) if key.startswith("user-sessions:") else store.get(key) for key in store.keys()}


@pytest.mark.parametrize("store", ["memory", "fakeredis", pytest.param("redis", marks=pytest.mark.redis)])
def test_the_store_is_unharmed_by_the_sweep(shared_server, make_api, shape, store):
    server = shared_server(*shape, store=store)
    api = make_api(server)
    alice, bob = api.login("alice"), api.login("bob")
    if shape[1] == "blacklist":
        assert api.post("/logout", api.login("alice")).status_code == 200  # one denylist entry to keep
    before = snapshot(server.store)
    for case in WRITING_CASES.values():
        assert send(api, case).status_code < 500
    assert snapshot(server.store) == before
    assert api.profile(alice).json()["user"]["email"] == ALICE[0]
    assert api.get("/api/admin", bob).json()["user"]["email"] == BOB[0]


# Below HTTP: bytes no client library would send --------------------------------------------------

RAW_REQUESTS = {
    "not http at all": b"GARBAGE\r\n\r\n",
    "a NUL in a header": b"GET /api/profile HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \x00\x01\r\n\r\n",
    "a header without a colon": b"GET /api/profile HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
    "a bad content length": b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    "latin-1 cookie bytes": b"GET /api/profile HTTP/1.1\r\nHost: x\r\nCookie: sid=\xff\xfe; token=\x80\r\n\r\n",
    "latin-1 bearer bytes": b"GET /api/profile HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\n\r\n",
    "a non-ascii path": b"GET /api/pr\xc3\xb6file HTTP/1.1\r\nHost: x\r\n\r\n",
}


@pytest.mark.parametrize("raw", list(RAW_REQUESTS))
def test_malformed_http_is_refused_below_the_app_and_the_server_goes_on(shared_server, make_api, raw):
    server = shared_server("token", "blacklist")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(RAW_REQUESTS[raw])
        status_line = sock.recv(65536).split(b"\r\n", 1)[0]
    status = int(status_line.split()[1])
    # uvicorn itself answers what it cannot parse (400, text/plain); the app answers the rest.
    assert 400 <= status < 500, status_line
    assert make_api(server).get("/health").status_code == 200


def test_a_body_that_never_arrives_does_not_hurt_the_server(shared_server, make_api):
    server = shared_server("session")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        head = b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        sock.sendall(head + b'{"e')
        sock.shutdown(socket.SHUT_WR)
        reply = sock.recv(65536)
    assert not reply.startswith(b"HTTP/1.1 5"), reply
    api = make_api(server)
    assert api.profile(api.login("alice")).status_code == 200
