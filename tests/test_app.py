"""The mini-server's contract over HTTP (DESIGN.md), in every mode x revocation x store."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import jwt
import pymongo.errors
import pytest
import redis
from conftest import (
    ALICE,
    BOB,
    CONFIGS,
    KEY_SET_CONFIGS,
    MESSAGES,
    ROUNDS,
    SECRET,
    STORES,
    TLS,
    TOKEN_MODES,
    assert_error,
    config_id,
    fresh_mongomock_url,
    resolve_store,
    set_cookies,
)

from authcourse import (
    ConfigurationError,
    CourseServer,
    MemoryStore,
    StoreError,
    create_app,
    fakeredis_store,
    open_store,
)
from authcourse.realservers.process import free_port
from authcourse.sessions import session_key, stored_id, user_sessions_key
from authcourse.tokens import AUDIENCE, ISSUER, denylist_key, token_version_key


@pytest.fixture(params=CONFIGS + KEY_SET_CONFIGS, ids=config_id)
def config(request: pytest.FixtureRequest) -> tuple[str, ...]:
    """(mode, revocation) signed with HS256, or (mode, revocation, algorithm) with a key set."""
    return request.param


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def server(shared_server, config, store) -> CourseServer:
    mode, revocation, *algorithm = config
    return shared_server(mode, revocation=revocation, store=store, **({"algorithm": algorithm[0]} if algorithm else {}))


@pytest.fixture
def api(make_api, server):
    return make_api(server)


def missing_message(mode: str) -> str:
    return MESSAGES["session-missing"] if mode == "session" else MESSAGES["token-missing"]


def assert_bearer_challenge(response, mode: str) -> None:
    """Token mode answers every 401 with a Bearer challenge; the cookie modes with none."""
    challenge = response.headers.get("www-authenticate")
    if mode == "token":
        assert challenge is not None and challenge.startswith("Bearer"), response.headers
    else:
        assert challenge is None, response.headers


# Every mode ----------------------------------------------------------------------------------


def test_health_answers_ok_without_authentication(api):
    response = api.get("/health")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok"}


def test_login_hands_out_the_mode_s_credential(api, config):
    mode = config[0]
    response = api.post_login(*ALICE)
    assert response.status_code == 200, response.text
    body = response.json()
    cookies = set_cookies(response)
    if mode == "session":
        assert body == {"message": "Logged in", "user": {"id": 1, "name": "Alice"}}
        sid = cookies["sid"]
        assert sid.http_only and sid.same_site == "Lax" and sid.path == "/" and not sid.secure
        assert sid.max_age == 24 * 60 * 60
        assert "password" not in response.text
    elif mode == "token":
        assert set(body) == {"token"}
        assert body["token"].count(".") == 2
        assert cookies == {}
    else:
        assert body == {"message": "Logged in", "user": {"id": 1, "name": "Alice"}}
        token = cookies["token"]
        assert token.http_only and token.same_site == "Strict" and token.path == "/"
        assert token.value.count(".") == 2
        assert token.value not in response.text, "cookie-token mode keeps the JWT out of the body"
    if mode != "session":
        issued = body["token"] if mode == "token" else cookies["token"].value
        header = jwt.get_unverified_header(issued)
        assert header["alg"] == (config[2] if len(config) > 2 else "HS256"), header
        assert ("kid" in header) == (len(config) > 2), header


def test_profile_shows_the_logged_in_user(api):
    credential = api.login("alice")
    response = api.profile(credential)
    assert response.status_code == 200, response.text
    assert response.json() == {"user": {"id": 1, "name": "Alice", "email": "alice@example.com", "role": "user"}}


def test_profile_without_credentials_is_refused_with_the_mode_s_message(api, config):
    mode = config[0]
    response = api.profile(None)
    assert_error(response, 401, missing_message(mode))
    assert_bearer_challenge(response, mode)


def test_wrong_password_and_unknown_email_are_both_invalid_credentials(api):
    for email, password in [(ALICE[0], "not-the-password"), ("nobody@example.com", ALICE[1]), (ALICE[0], "")]:
        response = api.post_login(email, password)
        assert_error(response, 401, MESSAGES["credentials"])
        assert "set-cookie" not in response.headers


def test_login_email_is_case_and_space_insensitive(api):
    response = api.post_login("  Alice@Example.COM ", ALICE[1])
    assert response.status_code == 200, response.text


def test_admin_route_welcomes_bob(api):
    response = api.get("/api/admin", api.login("bob"))
    assert response.status_code == 200, response.text
    assert response.json()["user"]["role"] == "admin"


def test_admin_route_forbids_alice(api):
    response = api.get("/api/admin", api.login("alice"))
    assert_error(response, 403, MESSAGES["forbidden"])


def test_admin_route_refuses_the_unauthenticated(api, config):
    response = api.get("/api/admin")
    assert_error(response, 401, missing_message(config[0]))
    assert_bearer_challenge(response, config[0])


def test_logout_without_credentials_is_refused(api, config):
    assert_error(api.post("/logout"), 401, missing_message(config[0]))
    assert_error(api.post("/logout-all"), 401, missing_message(config[0]))


def test_logout_answers_logged_out(api):
    response = api.post("/logout", api.login("alice"))
    assert response.status_code == 200, response.text
    assert response.json() == {"message": "Logged out"}


def test_a_fresh_login_after_logout_works(api):
    credential = api.login("alice")
    assert api.post("/logout", credential).status_code == 200
    fresh = api.login("alice")
    assert fresh != credential
    response = api.profile(fresh)
    assert response.status_code == 200, response.text
    assert response.json()["user"]["email"] == ALICE[0]


def test_a_fresh_login_after_logout_all_works(api, config):
    credential = api.login("alice")
    if config[:2] in [("session", "none"), ("token", "version"), ("cookie-token", "version")]:
        assert api.post("/logout-all", credential).status_code == 200
    fresh = api.login("alice")
    assert api.profile(fresh).status_code == 200


def test_two_users_logged_in_at_once_each_see_themselves(api):
    alice, bob = api.login("alice"), api.login("bob")
    assert api.profile(alice).json()["user"]["email"] == ALICE[0]
    assert api.profile(bob).json()["user"]["email"] == BOB[0]


def test_unknown_routes_and_methods_answer_json_errors(api):
    assert_error(api.get("/nowhere"), 404)
    assert_error(api.get("/login"), 405)


# Session mode --------------------------------------------------------------------------------


@pytest.fixture
def session_server(shared_server, store) -> CourseServer:
    return shared_server("session", store=store)


def test_session_login_stores_the_session_server_side(make_api, session_server):
    api = make_api(session_server)
    credential = api.login("alice")
    session_id = credential.value.rpartition(".")[0]
    assert session_server.store.get(session_key(session_id)) is not None
    assert session_server.store.members(user_sessions_key(1)) == {stored_id(session_id)}


def test_session_logout_deletes_the_session_and_clears_the_cookie(make_api, session_server):
    api = make_api(session_server)
    credential = api.login("alice")
    session_id = credential.value.rpartition(".")[0]
    response = api.post("/logout", credential)
    assert response.status_code == 200, response.text
    assert session_server.store.get(session_key(session_id)) is None
    assert session_server.store.members(user_sessions_key(1)) == set()
    cleared = set_cookies(response)["sid"]
    assert cleared.value == "" and cleared.max_age == 0
    replay = api.profile(credential)
    assert_error(replay, 401, MESSAGES["session-missing"])


def test_session_logout_clears_the_cookie_in_a_client_s_jar(session_server):
    with httpx.Client(base_url=session_server.url, verify=TLS) as client:
        assert client.post("/login", json={"email": ALICE[0], "password": ALICE[1]}).status_code == 200
        assert client.cookies.get("sid")
        assert client.get("/api/profile").status_code == 200
        assert client.post("/logout").status_code == 200
        assert client.cookies.get("sid") is None
        assert_error(client.get("/api/profile"), 401, MESSAGES["session-missing"])


def test_session_logout_all_ends_every_session_of_the_user_only(make_api, session_server):
    api = make_api(session_server)
    laptop, phone, bob = api.login("alice"), api.login("alice"), api.login("bob")
    response = api.post("/logout-all", laptop)
    assert response.status_code == 200, response.text
    assert response.json()["sessions_ended"] == 2
    assert set_cookies(response)["sid"].max_age == 0
    assert_error(api.profile(laptop), 401, MESSAGES["session-missing"])
    assert_error(api.profile(phone), 401, MESSAGES["session-missing"])
    assert api.profile(bob).status_code == 200
    assert session_server.store.keys("session:*") == [session_key(bob.value.rpartition(".")[0])]


def test_session_logout_ends_only_the_presented_session(make_api, session_server):
    api = make_api(session_server)
    laptop, phone = api.login("alice"), api.login("alice")
    assert api.post("/logout", laptop).status_code == 200
    assert api.profile(laptop).status_code == 401
    assert api.profile(phone).status_code == 200


@pytest.mark.parametrize("revocation", ["blacklist", "version"])
def test_session_mode_accepts_no_token_revocation(revocation):
    with pytest.raises(ConfigurationError, match="token modes"):
        CourseServer("session", revocation=revocation)
    with pytest.raises(ConfigurationError):
        create_app(mode="session", revocation=revocation, bcrypt_rounds=ROUNDS)


# Token modes ---------------------------------------------------------------------------------


@pytest.fixture(params=TOKEN_MODES)
def token_mode(request: pytest.FixtureRequest) -> str:
    return request.param


def test_token_claims_name_the_user_and_role(shared_server, make_api, token_mode):
    api = make_api(shared_server(token_mode))
    token = api.login("bob").value
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "2" and claims["role"] == "admin"
    assert claims["exp"] - claims["iat"] == 24 * 60 * 60
    assert set(claims) >= {"sub", "role", "iat", "exp", "jti", "iss", "aud"}
    assert (claims["iss"], claims["aud"]) == (ISSUER, AUDIENCE)


def carrying(token_mode: str, token: str) -> dict[str, dict[str, str]]:
    """The request keyword that carries a token the way the mode expects it."""
    if token_mode == "token":
        return {"headers": {"Authorization": f"Bearer {token}"}}
    return {"headers": {"Cookie": f"token={token}"}}


@pytest.mark.parametrize("audience", [None, "reports"], ids=["without-aud", "aud-reports"])
def test_a_sister_service_s_token_under_the_shared_secret_is_refused(shared_server, make_api, token_mode, audience):
    # Another service holding the same secret signs a token for Bob: the signature is good, but
    # the token was not issued by this server for this server (RFC 8725 sections 3.8, 3.9).
    api = make_api(shared_server(token_mode, secret=SECRET))
    issued = int(time.time())
    claims = {"iss": "reports", "sub": "2", "role": "admin", "iat": issued, "exp": issued + 600, "jti": "sister"}
    if audience is not None:
        claims["aud"] = audience
    sister = jwt.encode(claims, SECRET, algorithm="HS256")
    assert_error(api.get("/api/admin", **carrying(token_mode, sister)), 401, MESSAGES["invalid"])
    own = jwt.encode(dict(claims, iss=ISSUER, aud=AUDIENCE), SECRET, algorithm="HS256")
    accepted = api.get("/api/admin", **carrying(token_mode, own))
    assert accepted.status_code == 200, accepted.text


def test_token_logout_without_revocation_leaves_the_old_token_working(shared_server, make_api, token_mode, store):
    # The lesson's point: the client forgets the token; the server cannot force it.
    server = shared_server(token_mode, revocation="none", store=store)
    api = make_api(server)
    credential = api.login("alice")
    assert api.post("/logout", credential).status_code == 200
    response = api.profile(credential)
    assert response.status_code == 200, response.text
    assert response.json()["user"]["email"] == ALICE[0]
    assert server.store.keys() == []


def test_blacklist_logout_revokes_the_presented_token(shared_server, make_api, token_mode, store):
    server = shared_server(token_mode, revocation="blacklist", store=store)
    api = make_api(server)
    credential, other = api.login("alice"), api.login("alice")
    response = api.post("/logout", credential)
    assert response.status_code == 200, response.text
    replay = api.profile(credential)
    assert_error(replay, 401, MESSAGES["revoked"])
    assert_bearer_challenge(replay, token_mode)
    assert api.profile(other).status_code == 200, "a denylist revokes one token, not the user's others"


def test_blacklist_entry_lives_as_long_as_the_token_would_have(shared_server, make_api, token_mode, store):
    server = shared_server(token_mode, revocation="blacklist", store=store)
    api = make_api(server)
    credential = api.login("alice")
    claims = jwt.decode(credential.value, options={"verify_signature": False})
    assert api.post("/logout", credential).status_code == 200
    key = denylist_key(claims["jti"])
    assert server.store.keys("denylist:*") == [key]
    ttl = server.store.ttl(key)
    remaining = claims["exp"] - time.time()
    assert ttl is not None and remaining - 10 < ttl <= remaining + 1, (ttl, remaining)


def test_version_logout_refuses_every_token_of_the_user(shared_server, make_api, token_mode, store):
    server = shared_server(token_mode, revocation="version", store=store)
    api = make_api(server)
    laptop, phone, bob = api.login("alice"), api.login("alice"), api.login("bob")
    assert api.post("/logout", laptop).status_code == 200
    for credential in (laptop, phone):
        replay = api.profile(credential)
        assert_error(replay, 401, MESSAGES["revoked"])
        assert_bearer_challenge(replay, token_mode)
    assert api.profile(bob).status_code == 200
    assert server.store.get(token_version_key(1)) == "1"


def test_version_logout_all_refuses_every_token_of_the_user(shared_server, make_api, token_mode, store):
    server = shared_server(token_mode, revocation="version", store=store)
    api = make_api(server)
    laptop, phone, bob = api.login("alice"), api.login("alice"), api.login("bob")
    response = api.post("/logout-all", phone)
    assert response.status_code == 200, response.text
    assert response.json()["message"] == "Logged out everywhere"
    assert_error(api.profile(laptop), 401, MESSAGES["revoked"])
    assert_error(api.profile(phone), 401, MESSAGES["revoked"])
    assert api.profile(bob).status_code == 200
    assert api.profile(api.login("alice")).status_code == 200


@pytest.mark.parametrize("revocation", ["none", "blacklist"])
def test_logout_all_without_versions_is_a_conflict_naming_version(
    shared_server, make_api, token_mode, store, revocation
):
    server = shared_server(token_mode, revocation=revocation, store=store)
    api = make_api(server)
    credential = api.login("alice")
    response = api.post("/logout-all", credential)
    assert_error(response, 409)
    assert "version" in response.json()["error"]
    assert api.profile(credential).status_code == 200, "a refused logout-all revokes nothing"


def test_cookie_token_logout_clears_the_cookie(shared_server, make_api):
    api = make_api(shared_server("cookie-token", revocation="blacklist"))
    response = api.post("/logout", api.login("alice"))
    cleared = set_cookies(response)["token"]
    assert cleared.value == "" and cleared.max_age == 0


def test_token_mode_sets_no_cookie_on_logout(shared_server, make_api):
    api = make_api(shared_server("token", revocation="blacklist"))
    response = api.post("/logout", api.login("alice"))
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("header", ["Basic YWxpY2U6d29uZGVybGFuZA==", "Bearer", "Token abc", "BearerX abc"])
def test_token_mode_without_a_bearer_token_says_no_token_provided(shared_server, make_api, header):
    api = make_api(shared_server("token"))
    response = api.get("/api/profile", headers={"Authorization": header})
    assert_error(response, 401, MESSAGES["token-missing"])
    assert response.headers["www-authenticate"] == "Bearer"


def test_token_mode_ignores_a_token_cookie_and_cookie_token_mode_ignores_the_header(make_server, make_api):
    token_api = make_api(make_server("token", secret=b"k" * 32))
    cookie_api = make_api(make_server("cookie-token", secret=b"k" * 32))
    bearer = token_api.login("alice")
    cookie = cookie_api.login("alice")
    as_cookie = token_api.get("/api/profile", headers={"Cookie": f"token={bearer.value}"})
    assert_error(as_cookie, 401, MESSAGES["token-missing"])
    as_header = cookie_api.get("/api/profile", headers={"Authorization": f"Bearer {cookie.value}"})
    assert_error(as_header, 401, MESSAGES["token-missing"])


@pytest.mark.parametrize("signature_cache", [True, False], ids=["cache-on", "cache-off"])
@pytest.mark.parametrize("mode", ["session", "token", "cookie-token"])
def test_the_signature_cache_switch_decides_whether_checked_signatures_are_remembered(
    shared_server, make_api, mode, signature_cache
):
    server = shared_server(mode, signature_cache=signature_cache)
    api = make_api(server)
    credential = api.login("alice")
    for _ in range(3):
        assert api.profile(credential).status_code == 200
    auth = server.app.state.auth
    remembered = auth.sessions.verified if mode == "session" else auth.tokens.verified
    assert len(remembered) == (1 if signature_cache else 0)


def test_without_the_signature_cache_expiry_and_revocation_still_hold(shared_server, make_api):
    server = shared_server("token", revocation="blacklist", signature_cache=False)
    api = make_api(server)
    credential = api.login("alice")
    assert api.profile(credential).status_code == 200
    assert api.post("/logout", credential).status_code == 200
    assert_error(api.profile(credential), 401, MESSAGES["revoked"])


def test_bearer_scheme_is_case_insensitive(shared_server, make_api):
    api = make_api(shared_server("token"))
    token = api.login("alice").value
    assert api.get("/api/profile", headers={"Authorization": f"bearer {token}"}).status_code == 200


# One store, many servers ------------------------------------------------------------------


SHARED_STORES = [
    "fakeredis",
    "mongomock",
    "mongodb",
    pytest.param("redis", marks=pytest.mark.redis),
    pytest.param("postgres", marks=pytest.mark.postgres),
]


def shared_spec(request: pytest.FixtureRequest, store: str):
    """One store two servers can share: the same URL (a database), or the same fakeredis object."""
    return fakeredis_store() if store == "fakeredis" else resolve_store(request, store)


@pytest.mark.parametrize("store", SHARED_STORES)
def test_a_session_is_valid_on_every_server_sharing_store_and_secret(make_server, make_api, store, request):
    shared = shared_spec(request, store)
    a = make_api(make_server("session", store=shared, secret=b"x" * 32))
    b = make_api(make_server("session", store=shared, secret=b"x" * 32))
    credential = a.login("alice")
    assert b.profile(credential).status_code == 200
    assert b.post("/logout", credential).status_code == 200
    assert_error(a.profile(credential), 401, MESSAGES["session-missing"])


@pytest.mark.parametrize("store", SHARED_STORES)
def test_a_token_revoked_on_one_server_is_refused_by_every_server_sharing_the_store(
    make_server, make_api, store, request
):
    shared = shared_spec(request, store)
    a = make_api(make_server("token", revocation="blacklist", store=shared, secret=b"x" * 32))
    b = make_api(make_server("token", revocation="blacklist", store=shared, secret=b"x" * 32))
    credential = a.login("alice")
    assert b.profile(credential).status_code == 200
    assert a.post("/logout", credential).status_code == 200
    assert_error(b.profile(credential), 401, MESSAGES["revoked"])


STORE_METHODS = ("get", "set", "delete", "ttl", "incr", "add_member", "members", "remove_member")


class FlakyStore(MemoryStore):
    """A memory store that can be switched off: every call then fails as a Redis that went away."""

    def __init__(self, failure: Exception) -> None:
        super().__init__()
        self.failure = failure
        self.down = False

    def __getattribute__(self, name: str):
        if name in STORE_METHODS and object.__getattribute__(self, "down"):
            raise object.__getattribute__(self, "failure")
        return object.__getattribute__(self, name)


@pytest.mark.parametrize(
    "failure", [redis.ConnectionError("gone"), StoreError("nonsense")], ids=["redis-down", "store-error"]
)
@pytest.mark.parametrize("config", [("session", "none"), ("token", "blacklist"), ("token", "version")], ids=config_id)
def test_a_store_that_fails_answers_503_not_500(make_server, make_api, config, failure):
    store = FlakyStore(failure)
    api = make_api(make_server(config[0], revocation=config[1], store=store))
    credential = api.login("alice")
    store.down = True
    try:
        assert_error(api.profile(credential), 503, "Session store unavailable")
        assert_error(api.post("/logout", credential), 503, "Session store unavailable")
        if config[0] == "session":
            assert_error(api.post_login(*ALICE), 503, "Session store unavailable")
    finally:
        store.down = False
    assert api.profile(credential).status_code == 200


def test_a_fakeredis_outage_answers_503_and_the_server_recovers(make_api):
    store = fakeredis_store()
    with CourseServer("session", store=store, bcrypt_rounds=4) as server:
        api = make_api(server)
        credential = api.login(ALICE)
        store.server.connected = False
        assert_error(api.profile(credential), 503, "Session store unavailable")
        store.server.connected = True
        response = api.profile(credential)
        assert response.status_code == 200, response.text


class GatedStore(MemoryStore):
    """A memory store that says it blocks, and whose reads wait for a gate: a slow network store."""

    blocking = True

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.waiting = threading.Event()
        self.readers: set[str] = set()

    def get(self, key: str) -> str | None:
        self.readers.add(threading.current_thread().name)
        if not self.gate.is_set():
            self.waiting.set()
            self.gate.wait(10)
        return super().get(key)


class ThreadRecordingStore(MemoryStore):
    """A memory store that notes which thread reads it."""

    def __init__(self) -> None:
        super().__init__()
        self.readers: set[str] = set()

    def get(self, key: str) -> str | None:
        self.readers.add(threading.current_thread().name)
        return super().get(key)


@pytest.mark.parametrize("config", [("session", "none"), ("token", "blacklist")], ids=config_id)
def test_a_blocking_store_call_does_not_hold_the_event_loop(make_server, make_api, config):
    mode, revocation = config
    store = GatedStore()
    store.gate.set()
    server = make_server(mode, revocation=revocation, store=store)
    api = make_api(server)
    credential = api.login("alice")
    store.gate.clear()
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(api.profile, credential)
        assert store.waiting.wait(5), "the profile request never reached the store"
        with httpx.Client(base_url=server.url, timeout=2) as other:
            assert other.get("/health").status_code == 200  # served while the store call waits
        assert not pending.done()
        store.gate.set()
        assert pending.result(5).status_code == 200
    assert f"authcourse:{server.port}" not in store.readers  # never read on the server's loop thread


def test_a_store_in_this_process_is_read_on_the_event_loop(make_server, make_api):
    store = ThreadRecordingStore()
    server = make_server("session", store=store)
    api = make_api(server)
    assert api.profile(api.login("alice")).status_code == 200
    assert store.readers == {f"authcourse:{server.port}"}


@pytest.mark.redis
@pytest.mark.parametrize("config", [("session", "none"), ("token", "blacklist"), ("token", "version")], ids=config_id)
def test_login_profile_and_logout_work_off_the_loop_with_a_real_redis(make_server, make_api, config):
    mode, revocation = config
    server = make_server(mode, revocation=revocation, store="redis")
    assert server.store.blocking
    api = make_api(server)
    credential = api.login("alice")
    assert api.profile(credential).status_code == 200
    assert api.post("/logout", credential).status_code == 200
    assert api.profile(credential).status_code == 401


@pytest.mark.redis
def test_a_real_redis_is_read_through_the_pipelined_client_inside_requests(make_server, make_api):
    server = make_server("token", revocation="blacklist", store="redis")
    sent: list[tuple] = []
    pipelined = server.store.pipelined
    original = pipelined.execute_many

    def spy(*commands: tuple) -> object:
        sent.extend(commands)
        return original(*commands)

    pipelined.execute_many = spy
    api = make_api(server)
    credential = api.login("alice")
    assert api.profile(credential).status_code == 200
    assert [command[0] for command in sent] == ["GET"] and sent[0][1].startswith("denylist:")


# The database stores: a malformed row, a database that is down or never was ------------------------

MALFORMED_ROWS = ["not json", "[]", '"text"', "{}", '{"user_id": "1", "role": "user", "created_at": 1, "last_seen": 1}',
                  '{"user_id": 1, "role": "user", "created_at": 1, "last_seen": NaN}', '{"user_id": 1, "extra": 2}']


@pytest.mark.parametrize("row", MALFORMED_ROWS)
@pytest.mark.parametrize("store", ["fakeredis", "mongomock", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_malformed_session_row_is_refused_with_401_not_a_crash(shared_server, make_api, store, row):
    server = shared_server("session", store=store)
    api = make_api(server)
    credential = api.login("alice")
    key = session_key(credential.value.rpartition(".")[0])
    server.store.set(key, row, ttl=600)
    assert_error(api.profile(credential), 401, MESSAGES["session-missing"])
    assert server.store.get(key) == row, "the row is left alone (its TTL retires it)"
    assert api.profile(api.login("alice")).status_code == 200, "a fresh login works"


def test_a_malformed_token_version_answers_503_not_500(shared_server, make_api):
    server = shared_server("token", revocation="version")
    api = make_api(server)
    credential = api.login("alice")
    server.store.set(token_version_key(1), "garbage")
    assert_error(api.profile(credential), 503, "Session store unavailable")


@pytest.mark.parametrize("url", ["postgresql://postgres@127.0.0.1:{port}/postgres",
                                 "mongodb://127.0.0.1:{port}/authcourse?serverSelectionTimeoutMS=100"])
def test_an_unreachable_database_store_is_a_configuration_error_at_start(url):
    with pytest.raises(ConfigurationError, match="cannot reach"):
        CourseServer("session", store=url.format(port=free_port()), bcrypt_rounds=ROUNDS).start()


@pytest.mark.postgres
def test_postgres_going_down_answers_503_and_the_server_recovers(make_server, make_api, postgres_server, postgres_url):
    api = make_api(make_server("session", store=postgres_url))
    credential = api.login("alice")
    postgres_server.stop()
    try:
        assert_error(api.profile(credential), 503, "Session store unavailable")
        assert_error(api.post_login(*ALICE), 503, "Session store unavailable")
    finally:
        postgres_server.start()
    response = api.profile(credential)
    assert response.status_code == 200, "the session survived the database restart"


@pytest.mark.postgres
def test_a_session_survives_a_server_restart_on_postgres_but_not_on_memory(make_server, make_api, postgres_url):
    for store, survives in ((postgres_url, True), ("memory", False)):
        first = make_server("session", store=store, secret=SECRET)
        credential = make_api(first).login("alice")
        first.stop()
        second = make_server("session", store=store, secret=SECRET)
        response = make_api(second).profile(credential)
        assert (response.status_code == 200) is survives, (store, response.text)


class UnreachableCollection:
    """A MongoDB collection whose server has gone away: every call raises as pymongo does."""

    def __getattr__(self, name: str):
        def fail(*args, **kwargs):
            raise pymongo.errors.AutoReconnect("connection closed")

        return fail


def test_a_mongodb_outage_answers_503_and_the_server_recovers(make_server, make_api):
    store = open_store(fresh_mongomock_url())
    api = make_api(make_server("session", store=store))
    credential = api.login("alice")
    collection, store.collection = store.collection, UnreachableCollection()
    try:
        assert_error(api.profile(credential), 503, "Session store unavailable")
        assert_error(api.post_login(*ALICE), 503, "Session store unavailable")
    finally:
        store.collection = collection
    assert api.profile(credential).status_code == 200


def test_a_demoted_admin_s_old_token_still_says_admin_but_the_server_reads_the_role_per_request(make_server, make_api):
    server = make_server("token", revocation="version")
    api = make_api(server)
    credential = api.login("bob")
    server.users.set_role(2, "user")
    assert jwt.decode(credential.value, options={"verify_signature": False})["role"] == "admin"
    assert_error(api.get("/api/admin", credential), 403, MESSAGES["forbidden"])
    server.app.state.auth.tokens.revoke_all_for_user(2)  # the version bump: the stale token is refused
    assert_error(api.profile(credential), 401, MESSAGES["revoked"])
    assert jwt.decode(api.login("bob").value, options={"verify_signature": False})["role"] == "user"
