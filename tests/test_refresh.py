"""Refresh tokens: families, rotation, reuse detection and races (refresh.py), and POST /refresh over HTTP."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest

from authcourse import ConfigurationError, CourseServer, Settings, later
from authcourse.tokens import AUDIENCE
from authcourse.refresh import (
    RACE_WINDOW,
    SHORT_ACCESS_LIFETIME,
    InvalidRefreshToken,
    MissingRefreshToken,
    RefreshTokenEnded,
    RefreshTokenReused,
    RefreshTokens,
    RefreshTokenSpent,
    family_key,
    family_of,
)
from conftest import ALICE, SECRET, STORES, Api, Credential, assert_error, set_cookies

KEY = SECRET.encode()
SIMULATED = ["memory", "fakeredis"]


@pytest.fixture(params=STORES)
def refresh_tokens(request, make_store) -> RefreshTokens:
    return RefreshTokens(make_store(request.param), KEY, lifetime=3600)


@pytest.fixture(params=SIMULATED)
def local_refresh_tokens(request, make_store) -> RefreshTokens:
    return RefreshTokens(make_store(request.param), KEY, lifetime=3600)


# The service ---------------------------------------------------------------------------------


def test_a_family_starts_at_generation_zero_for_its_user(refresh_tokens):
    family_id, token = refresh_tokens.start_family(7)
    assert family_of(token) == family_id
    family = refresh_tokens.family(family_id)
    assert (family.user_id, family.generation) == (7, 0)


def test_rotation_gives_the_next_token_and_spends_the_old_one(refresh_tokens):
    family_id, first = refresh_tokens.start_family(7)
    rotation = refresh_tokens.rotate(first)
    assert (rotation.user_id, rotation.family_id) == (7, family_id)
    assert rotation.token != first
    assert refresh_tokens.family(family_id).generation == 1
    assert refresh_tokens.rotate(rotation.token).user_id == 7


def test_reusing_a_spent_token_ends_the_whole_family(local_refresh_tokens):
    tokens = local_refresh_tokens
    family_id, first = tokens.start_family(7)
    second = tokens.rotate(first).token
    with later(seconds=RACE_WINDOW + 1):
        with pytest.raises(RefreshTokenReused):
            tokens.rotate(first)
        assert tokens.family(family_id) is None
        with pytest.raises(RefreshTokenEnded):
            tokens.rotate(second)  # the newest token dies with its family


def test_a_token_spent_a_moment_ago_is_already_used_and_the_family_lives_on(refresh_tokens):
    family_id, first = refresh_tokens.start_family(7)
    second = refresh_tokens.rotate(first).token
    with pytest.raises(RefreshTokenSpent):
        refresh_tokens.rotate(first)
    assert refresh_tokens.family(family_id).generation == 1
    refresh_tokens.rotate(second)


def test_an_older_generation_is_reuse_even_within_the_race_window(refresh_tokens):
    family_id, first = refresh_tokens.start_family(7)
    second = refresh_tokens.rotate(first).token
    refresh_tokens.rotate(second)
    with pytest.raises(RefreshTokenReused):
        refresh_tokens.rotate(first)
    assert refresh_tokens.family(family_id) is None


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "rt_" + "A" * 22 + ".0." + "B" * 43,  # well formed, not signed by us
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",  # a JWT
        "rt_" + "A" * 5000,
        "rt_\u00e9" * 30,
    ],
    ids=["garbage", "forged", "jwt", "huge", "non-ascii"],
)
def test_tokens_not_made_here_are_invalid(refresh_tokens, token):
    with pytest.raises(InvalidRefreshToken):
        refresh_tokens.rotate(token)


def test_a_token_with_a_changed_generation_is_invalid(refresh_tokens):
    family_id, first = refresh_tokens.start_family(7)
    forged = first.replace(".0.", ".5.")
    with pytest.raises(InvalidRefreshToken):
        refresh_tokens.rotate(forged)
    assert refresh_tokens.family(family_id).generation == 0


def test_no_token_is_missing(refresh_tokens):
    for nothing in (None, ""):
        with pytest.raises(MissingRefreshToken):
            refresh_tokens.rotate(nothing)


def test_a_family_expires_after_its_lifetime_however_often_it_is_used(local_refresh_tokens):
    tokens = local_refresh_tokens
    _, token = tokens.start_family(7)
    for minutes in (20, 40):
        with later(minutes=minutes):
            token = tokens.rotate(token).token
    with later(minutes=61):
        with pytest.raises(RefreshTokenEnded):
            tokens.rotate(token)


def test_an_expired_family_is_refused_even_if_the_store_kept_it(make_store):
    tokens = RefreshTokens(make_store("memory"), KEY, lifetime=3600)
    family_id, token = tokens.start_family(7)
    tokens.store.set(family_key(family_id), tokens.store.get(family_key(family_id)))  # no TTL, as if a clock lagged
    with later(hours=2):
        with pytest.raises(RefreshTokenEnded):
            tokens.rotate(token)


def test_ending_a_family_refuses_its_token(refresh_tokens):
    family_id, token = refresh_tokens.start_family(7)
    assert refresh_tokens.end_family(family_id, 7) is True
    with pytest.raises(RefreshTokenEnded):
        refresh_tokens.rotate(token)


def test_ending_all_families_of_a_user_spares_other_users(refresh_tokens):
    tokens = [refresh_tokens.start_family(7)[1] for _ in range(3)]
    other = refresh_tokens.start_family(8)[1]
    assert refresh_tokens.end_all_families(7) == 3
    for token in tokens:
        with pytest.raises(RefreshTokenEnded):
            refresh_tokens.rotate(token)
    refresh_tokens.rotate(other)


def test_a_token_from_another_secret_is_invalid(make_store):
    store = make_store("memory")
    _, token = RefreshTokens(store, KEY).start_family(7)
    with pytest.raises(InvalidRefreshToken):
        RefreshTokens(store, b"another-secret-of-at-least-32-bytes!!").rotate(token)


class PausingStore:
    """A store whose reads of family records wait until every racer has read: a forced race."""

    def __init__(self, inner, racers: int) -> None:
        self.inner = inner
        self.barrier = threading.Barrier(racers)

    def get(self, key: str):
        value = self.inner.get(key)
        if key.startswith("refresh-family:"):
            self.barrier.wait(timeout=5)
        return value

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


@pytest.mark.parametrize("racers", [2, 8])
def test_racing_rotations_of_one_token_have_exactly_one_winner(make_store, racers):
    store = make_store("fakeredis")
    family_id, token = RefreshTokens(store, KEY).start_family(7)
    tokens = RefreshTokens(PausingStore(store, racers), KEY)  # type: ignore[arg-type]

    def rotate(_: int):
        try:
            return tokens.rotate(token)
        except RefreshTokenSpent as error:
            return error

    with ThreadPoolExecutor(racers) as pool:
        outcomes = list(pool.map(rotate, range(racers)))
    winners = [outcome for outcome in outcomes if not isinstance(outcome, Exception)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(outcome, RefreshTokenSpent) for outcome in outcomes if outcome is not winners[0])
    assert RefreshTokens(store, KEY).family(family_id).generation == 1
    assert RefreshTokens(store, KEY).rotate(winners[0].token).user_id == 7


@pytest.mark.parametrize("name", STORES)
def test_racing_rotations_have_one_winner_on_every_store(make_store, name):
    store = make_store(name)
    family_id, token = RefreshTokens(store, KEY).start_family(7)
    tokens = RefreshTokens(PausingStore(store, 4), KEY)  # type: ignore[arg-type]

    def rotate(_: int) -> bool:
        try:
            tokens.rotate(token)
            return True
        except RefreshTokenSpent:
            return False

    with ThreadPoolExecutor(4) as pool:
        assert sorted(pool.map(rotate, range(4))) == [False, False, False, True]
    assert RefreshTokens(store, KEY).family(family_id).generation == 1


# Settings -------------------------------------------------------------------------------------


def test_refresh_shortens_access_tokens_to_fifteen_minutes_unless_told():
    assert Settings(mode="token", refresh=True).token_lifetime == SHORT_ACCESS_LIFETIME == 900
    assert Settings(mode="token", refresh=True, token_lifetime=60).token_lifetime == 60
    assert Settings(mode="token", refresh=True, token_lifetime=24 * 3600).token_lifetime == 24 * 3600  # asked for
    assert Settings(mode="token").token_lifetime == 24 * 3600


def test_refresh_is_refused_in_session_mode():
    with pytest.raises(ConfigurationError, match="token modes"):
        Settings(mode="session", refresh=True)


# Over HTTP -------------------------------------------------------------------------------------

MODES = ["token", "cookie-token"]


@pytest.fixture(params=MODES)
def server(request, shared_server) -> CourseServer:
    return shared_server(request.param, refresh=True, secret=SECRET)


@pytest.fixture
def api(server, make_api) -> Api:
    return make_api(server)


def refresh(api: Api, token: str | None):
    headers = {"Cookie": f"refresh={token}"} if token is not None else {}
    return api.post("/refresh", headers=headers)


def login(api: Api) -> tuple[Credential, str]:
    response = api.post_login(*ALICE)
    assert response.status_code == 200, response.text
    return api.credential_from(response), set_cookies(response)["refresh"].value


def test_login_sets_the_refresh_cookie_on_the_refresh_path_only(api):
    response = api.post_login(*ALICE)
    cookie = set_cookies(response)["refresh"]
    assert cookie.path == "/refresh"
    assert cookie.http_only and cookie.same_site == "Strict"
    assert cookie.max_age == 14 * 24 * 3600
    assert cookie.value.startswith("rt_")


def test_login_keeps_the_contract_of_its_mode(api):
    response = api.post_login(*ALICE)
    if api.mode == "token":
        assert set(response.json()) == {"token"}
    else:
        assert response.json()["message"] == "Logged in"
        assert "token" in set_cookies(response)


def test_access_tokens_last_fifteen_minutes_and_name_their_family(api):
    credential, refresh_token = login(api)
    claims = jwt.decode(credential.value, SECRET, algorithms=["HS256"], audience=AUDIENCE)
    assert claims["exp"] - claims["iat"] == 900
    assert claims["fam"] == family_of(refresh_token)


def test_refresh_gives_a_working_access_token_and_rotates_the_refresh_token(api):
    credential, first = login(api)
    response = refresh(api, first)
    assert response.status_code == 200, response.text
    fresh = api.credential_from(response)
    second = set_cookies(response)["refresh"]
    assert second.value != first and second.path == "/refresh"
    assert api.profile(fresh).json()["user"]["email"] == ALICE[0]


def test_a_refreshed_access_token_outlives_the_first_one(api):
    _, token = login(api)
    with later(minutes=14):
        response = refresh(api, token)
        fresh = api.credential_from(response)
    with later(minutes=20):
        assert api.profile(fresh).status_code == 200


def test_an_access_token_expires_after_fifteen_minutes(api):
    credential, _ = login(api)
    with later(minutes=16):
        assert_error(api.profile(credential), 401, "Invalid or expired token")


def test_a_replayed_refresh_token_ends_the_family(api):
    _, first = login(api)
    second = set_cookies(refresh(api, first))["refresh"].value
    with later(seconds=RACE_WINDOW + 1):
        response = refresh(api, first)
        assert_error(response, 401, "Refresh token reused: this login has been ended everywhere, log in again")
        assert set_cookies(response)["refresh"].max_age == 0
        assert_error(refresh(api, second), 401, "Refresh token expired or revoked")


@pytest.mark.parametrize(
    "value, message",
    [
        (None, "No refresh token provided"),
        ("", "No refresh token provided"),
        ("garbage", "Invalid refresh token"),
        ("rt_" + "x" * 4000, "Invalid refresh token"),
        ("rt_" + "A" * 22 + ".0." + "B" * 43, "Invalid refresh token"),
        ('"rt_%00;"', "Invalid refresh token"),
    ],
    ids=["none", "empty", "garbage", "huge", "forged", "quoted"],
)
def test_bad_refresh_tokens_get_a_clear_401(api, value, message):
    assert_error(refresh(api, value), 401, message)


def test_an_access_token_at_refresh_gets_a_401(api):
    credential, _ = login(api)
    assert_error(refresh(api, credential.value), 401, "Invalid refresh token")
    assert_error(api.post("/refresh", credential), 401)  # sent the way the mode sends it


def test_an_expired_refresh_token_gets_a_401(api):
    _, token = login(api)
    with later(days=15):
        assert_error(refresh(api, token), 401, "Refresh token expired or revoked")


def test_logout_ends_the_family(api):
    credential, token = login(api)
    response = api.post("/logout", credential)
    assert response.status_code == 200, response.text
    assert set_cookies(response)["refresh"].max_age == 0
    assert_error(refresh(api, token), 401, "Refresh token expired or revoked")


def test_logout_everywhere_ends_every_family_with_versions(shared_server, make_api):
    api = make_api(shared_server("token", "version", refresh=True, secret=SECRET))
    sessions = [login(api) for _ in range(3)]
    assert api.post("/logout-all", sessions[0][0]).status_code == 200
    for credential, token in sessions:
        assert_error(refresh(api, token), 401, "Refresh token expired or revoked")
        assert_error(api.profile(credential), 401, "Token revoked")


def test_logout_everywhere_keeps_its_409_without_versions(api):
    credential, token = login(api)
    assert_error(api.post("/logout-all", credential), 409)
    assert refresh(api, token).status_code == 200


def test_a_refresh_token_from_another_server_is_invalid(api, make_server, make_api):
    _, token = login(api)
    other = make_api(make_server(api.mode, refresh=True))  # its own random secret
    assert_error(refresh(other, token), 401, "Invalid refresh token")


def test_refresh_is_not_a_route_without_the_switch(shared_server, make_api):
    api = make_api(shared_server("token"))
    assert_error(api.post("/refresh"), 404)
    assert "refresh" not in set_cookies(api.post_login(*ALICE))


def test_two_refreshes_racing_over_http_have_one_winner(make_server, make_api):
    # Two servers sharing one store: two event loops, a real race on the store.
    first = make_server("token", refresh=True, secret=SECRET, store="fakeredis")
    second = make_server("token", refresh=True, secret=SECRET, store=first.store)
    apis = [make_api(first), make_api(second)]
    for _ in range(5):
        _, token = login(apis[0])
        barrier = threading.Barrier(4)

        def race(n: int):
            barrier.wait()
            return refresh(apis[n % 2], token)

        with ThreadPoolExecutor(4) as pool:
            responses = list(pool.map(race, range(4)))
        winners = [response for response in responses if response.status_code == 200]
        assert len(winners) == 1, [response.text for response in responses]
        for response in responses:
            if response is not winners[0]:
                assert_error(response, 401, "Refresh token already used")
        following = set_cookies(winners[0])["refresh"].value
        assert refresh(apis[1], following).status_code == 200


def test_the_refresh_route_never_answers_500(api):
    credential, token = login(api)
    for headers in (
        {"Cookie": b"refresh=" + b"\xff" * 10},
        {"Cookie": "refresh"},
        {"Cookie": "refresh=a; refresh=b"},
        {"Content-Type": "application/json"},
    ):
        response = api.post("/refresh", headers=headers, content=b"{not json")
        assert response.status_code == 401, (headers, response.text)


def test_a_refresh_token_is_not_an_access_token(api):
    _, token = login(api)
    credential = Credential(api.mode, token)
    assert_error(api.profile(credential), 401, "Invalid or expired token")


@pytest.mark.redis
def test_on_a_real_redis_racing_refreshes_have_one_winner_without_holding_the_loop(make_server, make_api):
    # Inside requests a real Redis is reached through the loop's pipelined connection, which
    # every request shares: the compare-and-set must be one command (a script), not WATCH/MULTI.
    server = make_server("token", refresh=True, store="redis")
    api = make_api(server)
    _, token = login(api)
    sent: list[str] = []
    blocking: list[str] = []
    pipelined, client = server.store.pipelined, server.store.client
    original = pipelined.execute_many
    pipelined.execute_many = lambda *commands: (sent.extend(c[0] for c in commands), original(*commands))[1]
    client.pipeline = lambda *a, **k: blocking.append("pipeline")  # type: ignore[method-assign]
    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(lambda _: refresh(api, token).status_code, range(8)))
    assert statuses == [200] + [401] * 7, statuses
    assert "EVAL" in sent and blocking == []
