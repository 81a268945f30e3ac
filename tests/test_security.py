"""Attacks the course talks about, each tried for real against the server and seen to fail."""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import time

import bcrypt
import jwt
import pytest

from authcourse import ConfigurationError, CourseServer, MemoryStore, later
from authcourse.sessions import session_key
from authcourse.tokens import AUDIENCE, ISSUER, denylist_key
from conftest import ALICE, BOB, MESSAGES, ROUNDS, SECRET, TOKEN_MODES, assert_error

KEY = SECRET.encode()


def b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def claims_for(user_id: int = 1, **changes) -> dict:
    issued = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user_id),
        "role": "user",
        "iat": issued,
        "exp": issued + 3600,
        "jti": secrets.token_urlsafe(8),
        "ver": 0,  # the current version of every user of a fresh server: only the forgery itself is wrong
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def session_id_of(cookie_value: str) -> str:
    return cookie_value.rpartition(".")[0]


# Session ids ---------------------------------------------------------------------------------


def test_session_ids_are_long_random_and_never_repeat(shared_server, make_api):
    server = shared_server("session")
    api = make_api(server)
    ids = [session_id_of(api.login("alice").value) for _ in range(100)]
    assert len(set(ids)) == len(ids)
    for session_id in ids:
        assert len(base64.urlsafe_b64decode(session_id + "==")) * 8 >= 128
    # 100 ids of 256 random bits: every base64url character should turn up somewhere.
    assert len(set("".join(ids))) >= 60


def test_session_ids_come_from_the_secrets_module(shared_server, make_api, monkeypatch):
    drawn: list[tuple[int, str]] = []
    real = secrets.token_urlsafe

    def spy(nbytes: int | None = None) -> str:
        value = real(nbytes)
        drawn.append((nbytes, value))
        return value

    monkeypatch.setattr(secrets, "token_urlsafe", spy)
    api = make_api(shared_server("session"))
    session_id = session_id_of(api.login("alice").value)
    assert (32, session_id) in drawn, "the id is exactly what secrets.token_urlsafe(32) returned"


# Session fixation: the id changes at login ----------------------------------------------------


def test_login_with_a_held_cookie_issues_a_new_id_and_kills_the_old(shared_server, make_api):
    server = shared_server("session")
    api = make_api(server)
    before = api.login("alice")
    after = api.login("alice", credential=before)
    assert session_id_of(after.value) != session_id_of(before.value)
    assert_error(api.profile(before), 401, MESSAGES["session-missing"])
    assert api.profile(after).status_code == 200
    assert server.store.keys("session:*") == [session_key(session_id_of(after.value))]


def test_a_cookie_planted_before_the_victim_logs_in_is_not_the_victim_s_session(shared_server, make_api):
    server = shared_server("session")
    api = make_api(server)
    planted = api.login("bob")  # the attacker's own valid session, planted in the victim's browser
    victim = api.login("alice", credential=planted)
    assert session_id_of(victim.value) != session_id_of(planted.value)
    assert_error(api.profile(planted), 401, MESSAGES["session-missing"])
    assert api.profile(victim).json()["user"]["email"] == ALICE[0]


def test_an_id_chosen_by_the_attacker_is_never_adopted(shared_server, make_api):
    server = shared_server("session")
    api = make_api(server)
    chosen = api.login("alice").with_value("attacker-chosen-id.not-a-signature")
    victim = api.login("alice", credential=chosen)
    assert not victim.value.startswith("attacker-chosen-id")
    assert server.store.get(session_key("attacker-chosen-id")) is None


# Replay after logout --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "revocation", "message", "algorithm"),
    [
        ("session", "none", MESSAGES["session-missing"], "HS256"),
        *[(mode, revocation, MESSAGES["revoked"], algorithm) for algorithm in ("HS256", "RS256")
          for mode in ("token", "cookie-token") for revocation in ("blacklist", "version")],
    ],
)
def test_a_credential_replayed_after_logout_is_refused(shared_server, make_api, mode, revocation, message, algorithm):
    api = make_api(shared_server(mode, revocation, **({"algorithm": algorithm} if mode != "session" else {})))
    credential = api.login("alice")
    assert api.post("/logout", credential).status_code == 200
    for path in ("/api/profile", "/api/admin"):
        assert_error(api.get(path, credential), 401, message)
    assert_error(api.post("/logout", credential), 401, message)


# Forged, tampered and out-of-date tokens ------------------------------------------------------


def forgeries(valid: str) -> dict[str, str]:
    """Tokens an attacker could make, each to be refused with 'Invalid or expired token'."""
    header, payload, signature = valid.split(".")
    claims = unb64(payload)
    now = int(time.time())
    other = jwt.encode(claims_for(2, role="admin"), KEY, algorithm="HS256")
    return {
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}.",
        "alg None": f"{b64({'alg': 'None', 'typ': 'JWT'})}.{b64(claims)}.",
        "alg none with signature": f"{b64({'alg': 'none'})}.{b64(claims)}.{signature}",
        "payload made admin": f"{header}.{b64({**claims, 'role': 'admin'})}.{signature}",
        "payload made bob": f"{header}.{b64({**claims, 'sub': '2'})}.{signature}",
        "payload lives longer": f"{header}.{b64({**claims, 'exp': claims['exp'] + 3600})}.{signature}",
        "signature dropped": f"{header}.{payload}.",
        "signature of another token": f"{header}.{payload}.{other.split('.')[2]}",
        "signature flipped": f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}",
        "wrong key": jwt.encode(claims, b"w" * 32, algorithm="HS256"),
        "HS384": jwt.encode(claims, KEY, algorithm="HS384"),
        "HS512": jwt.encode(claims, KEY, algorithm="HS512"),
        "expired": jwt.encode(claims_for(exp=now - 10, iat=now - 3600), KEY, algorithm="HS256"),
        "not yet valid (nbf)": jwt.encode(claims_for(nbf=now + 3600), KEY, algorithm="HS256"),
        "issued in the future": jwt.encode(claims_for(iat=now + 3600, exp=now + 7200), KEY, algorithm="HS256"),
        "no exp": jwt.encode(claims_for(exp=None), KEY, algorithm="HS256"),
        "no iat": jwt.encode(claims_for(iat=None), KEY, algorithm="HS256"),
        "no sub": jwt.encode(claims_for(sub=None), KEY, algorithm="HS256"),
        "no jti": jwt.encode(claims_for(jti=None), KEY, algorithm="HS256"),
        "no aud (a sister service's token)": jwt.encode(claims_for(aud=None, iss="reports"), KEY, algorithm="HS256"),
        "no aud": jwt.encode(claims_for(aud=None), KEY, algorithm="HS256"),
        "aud of another service": jwt.encode(claims_for(aud="reports"), KEY, algorithm="HS256"),
        "no iss": jwt.encode(claims_for(iss=None), KEY, algorithm="HS256"),
        "iss of another service": jwt.encode(claims_for(iss="reports"), KEY, algorithm="HS256"),
        "sub not a user": jwt.encode(claims_for(999), KEY, algorithm="HS256"),
        "sub not a number": jwt.encode(claims_for(sub="alice"), KEY, algorithm="HS256"),
        "exp not a number": jwt.encode(claims_for(exp="tomorrow"), KEY, algorithm="HS256"),
    }


FORGERIES = list(forgeries(jwt.encode(claims_for(), KEY, algorithm="HS256")))


@pytest.mark.parametrize("mode", TOKEN_MODES)
@pytest.mark.parametrize("revocation", ["none", "blacklist", "version"])
@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_forged_or_out_of_date_token_is_refused(shared_server, make_api, mode, revocation, forgery):
    api = make_api(shared_server(mode, revocation, secret=SECRET))
    token = forgeries(api.login("alice").value)[forgery]
    credential = api.login("alice").with_value(token)
    for path in ("/api/profile", "/api/admin"):
        response = api.get(path, credential)
        assert_error(response, 401, MESSAGES["invalid"])
        if mode == "token":
            assert response.headers["www-authenticate"].startswith("Bearer"), response.headers


@pytest.mark.parametrize("mode", TOKEN_MODES)
@pytest.mark.parametrize("revocation", ["none", "blacklist", "version"])
def test_a_token_built_like_the_forgeries_but_honestly_is_accepted(shared_server, make_api, mode, revocation):
    # The control for the forgeries above: the same construction, nothing wrong with it, passes.
    api = make_api(shared_server(mode, revocation, secret=SECRET))
    token = jwt.encode(claims_for(1), KEY, algorithm="HS256")
    assert api.profile(api.login("alice").with_value(token)).status_code == 200


@pytest.mark.parametrize("algorithm", ["HS256", "RS256"])
@pytest.mark.parametrize("mode", TOKEN_MODES)
def test_a_token_expires_after_24_hours(shared_server, make_api, mode, algorithm):
    api = make_api(shared_server(mode, algorithm=algorithm))
    credential = api.login("alice")
    with later(hours=23, minutes=59):
        assert api.profile(credential).status_code == 200
    with later(hours=24, seconds=1):
        assert_error(api.profile(credential), 401, MESSAGES["invalid"])
    assert api.profile(credential).status_code == 200, "back in the present, the token is valid again"


def test_jwt_signatures_are_compared_in_constant_time(shared_server, make_api, monkeypatch):
    api = make_api(shared_server("token"))
    credential = api.login("alice")
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    tampered = credential.value[:-2] + ("AA" if credential.value[-2:] != "AA" else "BB")
    assert api.profile(credential.with_value(tampered)).status_code == 401
    assert calls, "PyJWT checks the HMAC with hmac.compare_digest"


# Sessions: signature and constant time ----------------------------------------------------------


def test_session_signatures_are_compared_in_constant_time(shared_server, make_api, monkeypatch):
    api = make_api(shared_server("session"))
    credential = api.login("alice")
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    tampered = credential.value[:-1] + ("A" if credential.value[-1] != "A" else "B")
    assert_error(api.profile(credential.with_value(tampered)), 401, MESSAGES["session-missing"])
    assert api.profile(credential).status_code == 200
    assert len(calls) == 2, "sessions.unsign compares with hmac.compare_digest, never =="


def test_a_forged_session_cookie_never_reaches_the_store(shared_server, make_api, monkeypatch):
    server = shared_server("session", store="memory")
    api = make_api(server)
    credential = api.login("bob")
    reads = []
    real_get = server.store.get
    monkeypatch.setattr(server.store, "get", lambda key: reads.append(key) or real_get(key))
    forged = credential.with_value(session_id_of(credential.value) + ".forged-signature")
    assert_error(api.profile(forged), 401, MESSAGES["session-missing"])
    assert reads == []


# Unknown user and wrong password: one answer, one bcrypt check ---------------------------------


@pytest.mark.parametrize("mode", ["session", "token", "cookie-token"])
def test_unknown_email_and_wrong_password_look_the_same(shared_server, make_api, monkeypatch, mode):
    api = make_api(shared_server(mode))
    checks: list[int] = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda password, hashed: checks.append(1) or real(password, hashed))

    def attempt(email: str, password: str):
        checks.clear()
        response = api.post_login(email, password)
        headers = {k: v for k, v in response.headers.items() if k != "date"}
        return response.status_code, response.content, headers, len(checks)

    wrong_password = attempt(ALICE[0], "not-wonderland")
    unknown_email = attempt("mallory@example.com", "not-wonderland")
    assert wrong_password == unknown_email
    assert wrong_password[0] == 401 and wrong_password[3] == 1
    assert attempt(*ALICE)[3] == 1


@pytest.mark.parametrize("email", [ALICE[0], "mallory@example.com"])
def test_a_too_long_password_gets_the_same_answer_for_known_and_unknown_emails(shared_server, make_api, email):
    api = make_api(shared_server("session"))
    response = api.post_login(email, "x" * 73)
    assert_error(response, 400, "Password must be at most 72 bytes in UTF-8")


# One user cannot reach another's session or tokens ---------------------------------------------


def test_a_user_cannot_reach_another_user_s_session(shared_server, make_api):
    server = shared_server("session")
    api = make_api(server)
    alice, bob = api.login("alice"), api.login("bob")
    alice_id, alice_sig = alice.value.rsplit(".", 1)
    bob_id, bob_sig = bob.value.rsplit(".", 1)
    for mixed in (f"{alice_id}.{bob_sig}", f"{bob_id}.{alice_sig}", f"{alice_id}{bob_id}.{alice_sig}"):
        assert_error(api.profile(alice.with_value(mixed)), 401, MESSAGES["session-missing"])
    assert api.profile(alice).json()["user"]["email"] == ALICE[0]
    assert_error(api.get("/api/admin", alice), 403, MESSAGES["forbidden"])
    assert api.post("/logout-all", alice).json()["sessions_ended"] == 1
    assert api.profile(bob).json()["user"]["email"] == BOB[0]


@pytest.mark.parametrize("revocation", ["blacklist", "version"])
def test_revoking_one_user_s_tokens_leaves_the_other_s(shared_server, make_api, revocation):
    api = make_api(shared_server("token", revocation))
    alice, bob = api.login("alice"), api.login("bob")
    assert api.post("/logout", alice).status_code == 200
    assert api.get("/api/admin", bob).status_code == 200


# Secrets ----------------------------------------------------------------------------------------


def test_a_weak_secret_stops_the_server_from_starting():
    with pytest.raises(ConfigurationError, match="at least 32"):
        CourseServer("token", secret="hunter2", bcrypt_rounds=ROUNDS).start()


def test_a_weak_secret_in_the_environment_stops_the_server_from_starting(monkeypatch):
    monkeypatch.setenv("AUTHCOURSE_SECRET", "x" * 31)
    with pytest.raises(ConfigurationError, match="the secret is 31 bytes"):
        CourseServer("session", bcrypt_rounds=ROUNDS).start()


@pytest.mark.parametrize("mode", ["session", "token", "cookie-token"])
def test_servers_with_their_own_random_secrets_refuse_each_other(make_server, make_api, monkeypatch, mode):
    monkeypatch.delenv("AUTHCOURSE_SECRET", raising=False)
    shared = MemoryStore()  # the same store, so only the secret differs
    a, b = make_api(make_server(mode, store=shared)), make_api(make_server(mode, store=shared))
    credential = a.login("alice")
    assert a.profile(credential).status_code == 200
    expected = MESSAGES["session-missing"] if mode == "session" else MESSAGES["invalid"]
    assert_error(b.profile(credential), 401, expected)


@pytest.mark.parametrize("mode", ["session", "token", "cookie-token"])
def test_servers_sharing_authcourse_secret_accept_each_other(make_server, make_api, monkeypatch, mode):
    monkeypatch.setenv("AUTHCOURSE_SECRET", "shared-secret-for-every-server-behind-the-lb")
    shared = MemoryStore()
    a, b = make_api(make_server(mode, store=shared)), make_api(make_server(mode, store=shared))
    credential = a.login("alice")
    assert b.profile(credential).json()["user"]["email"] == ALICE[0]


# Time: idle and absolute session timeouts, the denylist's TTL --------------------------------------


@pytest.mark.parametrize("store", ["memory", "fakeredis"])
def test_an_idle_session_is_refused_after_30_minutes(shared_server, make_api, store):
    api = make_api(shared_server("session", store=store))
    credential = api.login("alice")
    with later(minutes=29):
        assert api.profile(credential).status_code == 200
    with later(minutes=29 + 31):
        assert_error(api.profile(credential), 401, MESSAGES["session-missing"])


@pytest.mark.parametrize("store", ["memory", "fakeredis"])
def test_an_active_session_still_ends_24_hours_after_login(shared_server, make_api, store):
    api = make_api(shared_server("session", store=store))
    credential = api.login("alice")
    for step in range(1, 72):  # a request every 20 minutes for 23 h 40 min
        with later(minutes=20 * step):
            assert api.profile(credential).status_code == 200, step
    with later(hours=24, minutes=1):
        assert_error(api.profile(credential), 401, MESSAGES["session-missing"])


def test_the_session_cookie_lives_no_longer_than_the_absolute_timeout(shared_server, make_api):
    api = make_api(shared_server("session"))
    response = api.post_login(*ALICE)
    assert "Max-Age=86400" in response.headers["set-cookie"]


@pytest.mark.parametrize("store", ["memory", "fakeredis"])
@pytest.mark.parametrize("mode", TOKEN_MODES)
def test_the_denylist_entry_expires_with_the_token(shared_server, make_api, store, mode):
    server = shared_server(mode, "blacklist", store=store)
    api = make_api(server)
    credential = api.login("alice")
    jti = jwt.decode(credential.value, options={"verify_signature": False})["jti"]
    assert api.post("/logout", credential).status_code == 200
    key = denylist_key(jti)
    with later(hours=23, minutes=59):
        assert server.store.get(key) is not None
        assert_error(api.profile(credential), 401, MESSAGES["revoked"])
        assert 0 < server.store.ttl(key) <= 60 + 1
    with later(hours=24, seconds=1):
        assert server.store.keys("denylist:*") == []
        assert_error(api.profile(credential), 401, MESSAGES["invalid"])


def test_secure_cookies_are_marked_secure(make_server, make_api):
    for mode in ("session", "cookie-token"):
        api = make_api(make_server(mode, secure_cookies=True))
        response = api.post_login(*ALICE)
        assert "; Secure" in response.headers["set-cookie"], response.headers
