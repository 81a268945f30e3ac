"""Chapter 14, the session's whole life: password change, re-authentication, active sessions, hashes at rest.

OWASP ASVS 5.0: V6.2.3 (a password change asks for the current password), V7.4.3 (a password
change ends every other session), V7.5.1 and V7.5.3 (sensitive actions ask for the password
again), V7.5.2 (the user sees and ends their sessions). Servers here are started per test:
a password change alters the server's users, so no server is shared between tests.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import httpx
import pytest

from authcourse import MemoryStore
from authcourse.refresh import RefreshTokens
from authcourse.sessions import SessionManager, stored_id
from authcourse.tokens import load_secret
from conftest import ALICE, BOB, SECRET, STORES, Credential, assert_error, set_cookies

NEW = "a-new-password-1"
REAUTH_MISSING = "Re-authentication required: send your current password as current_password"
REAUTH_FAILED = "Re-authentication failed: invalid credentials"


def change_password(api: Any, credential: Credential, current: str | None = "wonderland", new: str = NEW) -> Any:
    body = {"new_password": new} if current is None else {"current_password": current, "new_password": new}
    return api.post("/account/password", credential, json=body)


def credential_after(api: Any, response: httpx.Response, before: Credential) -> Credential:
    """The credential the password change gave the caller (a new cookie or a new token)."""
    assert response.status_code == 200, response.text
    if before.mode == "token":
        return before.with_value(response.json()["token"])
    return before.with_value(set_cookies(response)["sid" if before.mode == "session" else "token"].value)


# A password change ends the other logins (ASVS V7.4.3) --------------------------------------------


def test_a_password_change_ends_every_other_session_and_keeps_the_caller_in(make_server, make_api):
    server = make_server("session", store="memory")
    api = make_api(server)
    laptop, phone, tablet = api.login("alice"), api.login("alice"), api.login("alice")
    bob = api.login("bob")
    response = change_password(api, laptop)
    assert response.json()["other_sessions_ended"] == 2
    current = credential_after(api, response, laptop)
    assert api.profile(current).status_code == 200
    for other in (phone, tablet):
        assert_error(api.profile(other), 401, "Not authenticated")
    assert api.profile(bob).status_code == 200, "another user's session must survive"


def test_the_caller_s_session_gets_a_new_id_at_the_password_change(make_server, make_api):
    server = make_server("session", store="memory")
    api = make_api(server)
    laptop = api.login("alice")
    current = credential_after(api, change_password(api, laptop), laptop)
    assert current.value != laptop.value
    assert_error(api.profile(laptop), 401, "Not authenticated")


def test_after_a_password_change_only_the_new_password_logs_in(make_server, make_api):
    server = make_server("session", store="memory")
    api = make_api(server)
    change_password(api, api.login("alice"))
    assert_error(api.post_login(*ALICE), 401, "Invalid credentials")
    assert api.post_login(ALICE[0], NEW).status_code == 200


@pytest.mark.parametrize("mode", ["token", "cookie-token"])
def test_a_password_change_ends_every_refresh_family_and_every_access_token_with_versions(make_server, make_api, mode):
    server = make_server(mode, revocation="version", refresh=True, store="memory")
    api = make_api(server)
    logins = [api.post_login(*ALICE) for _ in range(2)]
    laptop, phone = (api.credential_from(response) for response in logins)
    phone_refresh = set_cookies(logins[1])["refresh"].value
    response = change_password(api, laptop)
    current = credential_after(api, response, laptop)
    assert api.profile(current).status_code == 200
    assert_error(api.profile(phone), 401, "Token revoked")
    refreshed = api.post("/refresh", headers={"Cookie": f"refresh={phone_refresh}"})
    assert_error(refreshed, 401, "Refresh token expired or revoked")
    mine = set_cookies(response)["refresh"].value
    assert api.post("/refresh", headers={"Cookie": f"refresh={mine}"}).status_code == 200


@pytest.mark.parametrize("mode", ["token", "cookie-token"])
def test_without_versions_a_password_change_says_which_tokens_live_on(make_server, make_api, mode):
    server = make_server(mode, revocation="blacklist", store="memory")
    api = make_api(server)
    laptop, phone = api.login("alice"), api.login("alice")
    response = change_password(api, laptop)
    assert "only --revocation version" in response.json()["warning"]
    assert_error(api.profile(laptop), 401, "Token revoked")
    assert api.profile(phone).status_code == 200  # what the warning says: the seed's stateless tokens


# Sensitive actions ask for the password again (ASVS V6.2.3, V7.5.1, V7.5.3) ------------------------

SENSITIVE = [
    ("/account/password", {"new_password": NEW}),
    ("/account/email", {"new_email": "alice@new.example"}),
    ("/account/api-keys", {"name": "ci"}),
]


@pytest.mark.parametrize("mode", ["session", "token", "cookie-token"])
@pytest.mark.parametrize(("path", "body"), SENSITIVE, ids=[path for path, _ in SENSITIVE])
def test_a_sensitive_action_without_the_password_is_refused_even_with_a_valid_login(make_server, make_api, mode,
                                                                                     path, body):
    server = make_server(mode, store="memory")
    api = make_api(server)
    alice = api.login("alice")
    assert_error(api.post(path, alice, json=body), 403, REAUTH_MISSING)
    assert_error(api.post(path, alice, json={**body, "current_password": "wrong-guess"}), 403, REAUTH_FAILED)
    assert_error(api.post(path, alice, json={**body, "current_password": BOB[1]}), 403, REAUTH_FAILED)
    assert api.profile(alice).status_code == 200, "a refused re-authentication does not log the user out"
    assert api.post_login(*ALICE).status_code == 200, "nothing changed"
    assert api.post(path, alice, json={**body, "current_password": ALICE[1]}).status_code in (200, 201)


def test_a_wrong_password_at_re_authentication_costs_one_bcrypt_check_like_login(make_server, make_api, monkeypatch):
    import authcourse.users as users_module

    calls: list[str] = []
    real = users_module.verify_password
    def counted(password: str, hashed: str) -> bool:
        calls.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(users_module, "verify_password", counted)
    server = make_server("session", store="memory")
    api = make_api(server)
    alice = api.login("alice")
    for wrong in ("wrong-guess", "", "x" * 72):
        calls.clear()
        assert_error(change_password(api, alice, current=wrong), 403, REAUTH_FAILED)
        assert len(calls) == 1, "exactly one bcrypt check per attempt, whatever the guess"


def test_a_new_password_under_8_characters_is_refused_and_nothing_changes(make_server, make_api):
    server = make_server("session", store="memory")
    api = make_api(server)
    laptop, phone = api.login("alice"), api.login("alice")
    assert_error(change_password(api, laptop, new="short"), 400, "new_password must be at least 8 characters")
    assert api.profile(phone).status_code == 200
    assert api.post_login(*ALICE).status_code == 200


def test_an_email_change_with_the_password_moves_the_login(make_server, make_api):
    server = make_server("session", store="memory")
    api = make_api(server)
    alice = api.login("alice")
    response = api.post("/account/email", alice, json={"current_password": ALICE[1], "new_email": "Alice@New.example"})
    assert response.json()["user"]["email"] == "alice@new.example"
    assert_error(api.post_login(*ALICE), 401, "Invalid credentials")
    assert api.post_login("alice@new.example", ALICE[1]).status_code == 200
    taken = api.post("/account/email", alice, json={"current_password": ALICE[1], "new_email": BOB[0]})
    assert_error(taken, 409, "That email is already in use")


def test_an_api_key_is_shown_once_stored_as_a_hash_and_opens_the_api_only(make_server, make_api):
    server = make_server("session", store="memory")
    api = make_api(server)
    alice = api.login("alice")
    response = api.post("/account/api-keys", alice, json={"current_password": ALICE[1], "name": "ci"})
    assert response.status_code == 201, response.text
    key = response.json()["api_key"]
    dump = dump_of(server)
    assert dump and not any(key[3:19] in piece for piece in dump)
    assert api.get("/api/profile", headers={"X-API-Key": key}).json()["user"]["email"] == ALICE[0]
    assert_error(api.post("/logout", headers={"X-API-Key": key}), 401, "Not authenticated")
    assert_error(api.get("/sessions", headers={"X-API-Key": key}), 401, "Not authenticated")
    other = key[:-1] + ("B" if key.endswith("A") else "A")
    assert_error(api.get("/api/profile", headers={"X-API-Key": other}), 401, "Invalid API key")


# Active sessions (ASVS V7.5.2) ---------------------------------------------------------------------


def login_from(api: Any, device: str, who: tuple[str, str] = ALICE) -> Credential:
    response = api.post("/login", json={"email": who[0], "password": who[1]}, headers={"User-Agent": device})
    return api.credential_from(response)


def test_the_sessions_list_shows_device_and_times_and_never_an_id(make_server, make_api):
    server = make_server("session", store="memory")
    api = make_api(server)
    laptop = login_from(api, "Laptop Firefox")
    phone = login_from(api, "Phone Safari")
    response = api.get("/sessions", laptop)
    rows = response.json()["sessions"]
    assert [(row["device"], row["current"]) for row in rows] == [("Laptop Firefox", True), ("Phone Safari", False)]
    assert all(row["created_at"] <= row["last_seen"] <= time.time() for row in rows)
    for credential in (laptop, phone):
        session_id = credential.value.rpartition(".")[0]
        for secret in (session_id, stored_id(session_id), credential.value):
            assert secret not in response.text
            assert secret[:16] not in response.text


def test_a_user_ends_another_of_their_sessions_by_its_handle_with_the_password(make_server, make_api):
    server = make_server("session", store="memory")
    api = make_api(server)
    laptop, phone = login_from(api, "laptop"), login_from(api, "phone")
    handle = next(row["handle"] for row in api.get("/sessions", laptop).json()["sessions"] if not row["current"])
    assert_error(api.request("DELETE", f"/sessions/{handle}", laptop), 403, REAUTH_MISSING)
    assert api.profile(phone).status_code == 200
    ended = api.request("DELETE", f"/sessions/{handle}", laptop, json={"current_password": ALICE[1]})
    assert ended.json() == {"message": "Session ended"}
    assert_error(api.profile(phone), 401, "Not authenticated")
    assert api.profile(laptop).status_code == 200
    assert [row["device"] for row in api.get("/sessions", laptop).json()["sessions"]] == ["laptop"]


def test_another_user_s_session_cannot_be_ended_its_handle_is_404(make_server, make_api):
    server = make_server("session", store="memory")
    api = make_api(server)
    alice, bob = login_from(api, "alice's laptop"), login_from(api, "bob's laptop", BOB)
    bob_handle = api.get("/sessions", bob).json()["sessions"][0]["handle"]
    response = api.request("DELETE", f"/sessions/{bob_handle}", alice, json={"current_password": ALICE[1]})
    assert_error(response, 404, "No such session")
    assert api.profile(bob).status_code == 200


@pytest.mark.parametrize("mode", ["token", "cookie-token"])
def test_the_token_modes_say_they_keep_no_sessions_to_list(make_server, make_api, mode):
    server = make_server(mode, store="memory")
    api = make_api(server)
    alice = api.login("alice")
    assert_error(api.get("/sessions", alice), 409)


# A copy of the store lets nobody in ------------------------------------------------------------------


def strings_in(value: Any) -> set[str]:
    """Every string in a stored value and in its JSON, and every piece of it between separators."""
    found: set[str] = set()
    if isinstance(value, str):
        found.add(value)
        found.update(piece for piece in re.split(r"[:\"{},\s]+", value) if piece)
        try:
            found |= strings_in(json.loads(value))
        except ValueError:
            pass
    elif isinstance(value, dict):
        for key, item in value.items():
            found |= strings_in(key) | strings_in(item)
    elif isinstance(value, (list, set, tuple)):
        for item in value:
            found |= strings_in(item)
    return found


def dump_of(server: Any) -> set[str]:
    found: set[str] = set()
    for key in server.store.keys():
        value = server.store.get(key) if not key.startswith(("user-", "token-version")) else None
        members = server.store.members(key) if key.startswith("user-") else set()
        found |= strings_in(key) | strings_in(value) | strings_in(members)
    return {piece for piece in found if len(piece) >= 16}


def forgeries(piece: str, secret: bytes) -> list[str]:
    """What an attacker who holds the dump AND the server's secret would try with one piece of it."""
    sessions, refresh = SessionManager(MemoryStore(), secret), RefreshTokens(MemoryStore(), secret)
    tries = [piece, sessions.sign(piece)]
    if re.fullmatch(r"[A-Za-z0-9_-]{22}", piece):
        tries += [refresh._token(piece, generation) for generation in range(3)]
    return tries


@pytest.mark.parametrize("store", STORES)
def test_a_dump_of_the_store_lets_nobody_in_even_with_the_secret(make_server, make_api, store):
    """Every key, value and member of the store, as a cookie, a signed cookie, a bearer token, a refresh
    token (signed with the server's own secret too) and an API key: every request is refused."""
    session_server = make_server("session", store=store, secret=SECRET)
    token_server = make_server("token", revocation="version", refresh=True, store=store, secret=SECRET)
    session_api, token_api = make_api(session_server), make_api(token_server)
    live = [session_api.login("alice"), session_api.login("bob")]
    token_api.post_login(*ALICE)
    session_api.post("/account/api-keys", live[0], json={"current_password": ALICE[1]})
    assert all(session_api.profile(credential).status_code == 200 for credential in live)
    dump = dump_of(session_server) | dump_of(token_server)
    assert dump, "the store holds sessions, families and keys to try"
    secret = load_secret(SECRET)
    tried = 0
    for piece in sorted(dump):
        for value in forgeries(piece, secret):
            tried += 1
            checks = [
                session_api.get("/api/profile", headers={"Cookie": f"sid={value}"}),
                session_api.get("/api/profile", headers={"X-API-Key": value}),
                token_api.get("/api/profile", headers={"Authorization": f"Bearer {value}"}),
                token_api.post("/refresh", headers={"Cookie": f"refresh={value}"}),
            ]
            for response in checks:
                assert response.status_code == 401, (piece, value, response.text)
    assert tried > 10


def test_in_the_old_design_a_dump_and_the_secret_log_the_attacker_in(make_server, make_api):
    """The contrast the hashes answer: a store keyed by the plain id, dumped, signed with the secret."""
    from authcourse.vulnerable.plainids import VulnerablePlainIdServer

    server = VulnerablePlainIdServer(secret=SECRET, bcrypt_rounds=4, store="memory").start()
    try:
        api = make_api(server)
        api.login("alice")
        stolen = [key.partition(":")[2] for key in server.store.keys("session:*")]
        forged = SessionManager(MemoryStore(), load_secret(SECRET)).sign(stolen[0])
        assert api.get("/api/profile", headers={"Cookie": f"sid={forged}"}).json()["user"]["email"] == ALICE[0]
    finally:
        server.stop()


# Bad input: a clear 4xx, never a 500 ------------------------------------------------------------------

BAD_BODIES = [
    (b"not json", 400),
    (b"[]", 422),
    (b'{"current_password": 12, "new_password": "x"}', 422),
    (b'{"current_password": "wonderland"}', 422),
    (b'{"current_password": "wonderland", "new_password": null}', 422),
    (b'{"current_password": "wonderland", "new_password": "' + b"x" * 2000 + b'"}', 422),
    (b'{"current_password": "wonderland", "new_password": "' + "é".encode() * 40 + b'"}', 400),
]


@pytest.mark.parametrize(("body", "status"), BAD_BODIES)
def test_a_malformed_password_change_gets_a_clear_4xx(make_server, make_api, body, status):
    server = make_server("session", store="memory")
    api = make_api(server)
    alice = api.login("alice")
    response = api.post("/account/password", alice, content=body, headers={"Content-Type": "application/json"})
    assert_error(response, status)
    assert api.post_login(*ALICE).status_code == 200


@pytest.mark.parametrize(
    "handle",
    ["garbage", "A" * 22, "A" * 22 + "%0A", "%00", "x" * 5000, "..%2F..%2Flogin", "é" * 22, "_KDh3Rx7RtRib-qKRHaaC!"],
)
def test_a_garbage_session_handle_is_404(make_server, make_api, handle):
    server = make_server("session", store="memory")
    api = make_api(server)
    alice = api.login("alice")
    response = api.request("DELETE", f"/sessions/{handle}", alice, json={"current_password": ALICE[1]})
    assert response.status_code in (404, 414), response.text
    assert response.json().get("error"), response.text
    assert api.profile(alice).status_code == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/account/email", {"current_password": ALICE[1], "new_email": "not an email"}),
        ("/account/email", {"current_password": ALICE[1], "new_email": "alice@new.example\n"}),
        ("/account/email", {"current_password": ALICE[1], "new_email": ["a@b.c"]}),
        ("/account/email", {"current_password": ALICE[1]}),
        ("/account/api-keys", {"current_password": ALICE[1], "name": ""}),
        ("/account/api-keys", {"current_password": ALICE[1], "name": 7}),
        ("/account/api-keys", {"current_password": ["wonderland"]}),
    ],
)
def test_bad_account_bodies_get_a_clear_4xx(make_server, make_api, path, body):
    server = make_server("session", store="memory")
    api = make_api(server)
    response = api.post(path, api.login("alice"), json=body)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"], response.text


@pytest.mark.parametrize(
    "api_key", ["", "ak_", "ak_" + "A" * 43, "ak_" + "A" * 44, "Bearer x", "ak_" + "é" * 43, "ak_" + "A" * 5000]
)
def test_a_garbage_api_key_is_a_401(make_server, make_api, api_key):
    server = make_server("session", store="memory")
    api = make_api(server)
    response = api.get("/api/profile", headers={"X-API-Key": api_key.encode()})
    assert_error(response, 401, "Invalid API key")


@pytest.mark.parametrize(("method", "path"), [("POST", "/account/password"), ("GET", "/sessions"),
                                              ("DELETE", "/sessions/" + "A" * 22), ("POST", "/account/api-keys")])
def test_the_new_routes_need_a_login(make_server, make_api, method, path):
    server = make_server("session", store="memory")
    api = make_api(server)
    response = api.request(method, path, json={"current_password": ALICE[1], "new_password": NEW})
    assert_error(response, 401, "Not authenticated")


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com"])
def test_the_plain_id_server_refuses_to_listen_outside_loopback(host):
    from authcourse.errors import ConfigurationError
    from authcourse.vulnerable.plainids import VulnerablePlainIdServer

    with pytest.raises(ConfigurationError, match="loopback"):
        VulnerablePlainIdServer(host=host)
