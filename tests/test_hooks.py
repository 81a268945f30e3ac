"""Tests for authcourse.hooks: learner functions in front of the built-in strategy, errors kept."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from authcourse import CourseServer, Hooks
from authcourse.auth import SessionAuth
from authcourse.errors import NotAuthenticated
from authcourse.hooks import HookedAuth

from conftest import ALICE, ROUNDS


@pytest.fixture
def hooked() -> Iterator[tuple[CourseServer, list[str]]]:
    calls: list[str] = []

    def authenticate(request, auth):  # type: ignore[no-untyped-def]
        calls.append("authenticate")
        if request.headers.get("x-explode"):
            raise ValueError("boom")
        if request.headers.get("x-wrong-type"):
            return auth.users.get(1)
        if request.headers.get("x-refuse"):
            raise NotAuthenticated("Refused by the hook")
        return auth.authenticate(request)

    server = CourseServer(
        "session", hooks=Hooks(authenticate=authenticate), bcrypt_rounds=ROUNDS, store="memory"
    ).start()
    yield server, calls
    server.stop()


def sid_of(server: CourseServer) -> str:
    response = httpx.post(f"{server.url}/login", json={"email": ALICE[0], "password": ALICE[1]})
    return response.cookies["sid"]


def test_a_hook_replaces_one_method_and_gets_the_built_in_strategy(hooked: tuple[CourseServer, list[str]]) -> None:
    server, calls = hooked
    assert isinstance(server.app.state.auth, HookedAuth) and isinstance(server.app.state.auth.inner, SessionAuth)
    sid = sid_of(server)
    assert calls == [], "login stayed built-in"
    response = httpx.get(f"{server.url}/api/profile", cookies={"sid": sid})
    assert response.status_code == 200 and calls == ["authenticate"]


def test_a_request_error_from_a_hook_is_the_clients_answer(hooked: tuple[CourseServer, list[str]]) -> None:
    server, _ = hooked
    response = httpx.get(f"{server.url}/api/profile", headers={"x-refuse": "1"})
    assert response.status_code == 401 and response.json() == {"error": "Refused by the hook"}
    assert server.app.state.auth.errors == []


def test_any_other_exception_is_a_500_and_is_kept_for_the_checks(hooked: tuple[CourseServer, list[str]]) -> None:
    server, _ = hooked
    assert httpx.get(f"{server.url}/api/profile", headers={"x-explode": "1"}).status_code == 500
    assert [repr(error) for error in server.app.state.auth.errors] == ["ValueError('boom')"]


def test_a_hook_returning_the_wrong_type_is_named(hooked: tuple[CourseServer, list[str]]) -> None:
    server, _ = hooked
    assert httpx.get(f"{server.url}/api/profile", headers={"x-wrong-type": "1"}).status_code == 500
    assert str(server.app.state.auth.errors[-1]) == "authenticate must return a Principal, not User"


def test_without_hooks_the_server_uses_its_strategy_unwrapped() -> None:
    with CourseServer("token", bcrypt_rounds=ROUNDS, store="memory") as server:
        assert not isinstance(server.app.state.auth, HookedAuth)
