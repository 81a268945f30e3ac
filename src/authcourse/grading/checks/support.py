"""What the checks share: a live server with the learner's hooks, an HTTP client, one-line diagnoses."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import httpx

from ...hooks import Hooks
from ...server import CourseServer
from ..runtime import Stuck, describe, expect

ROUNDS = 4  # bcrypt work factor of the checks' servers: about a millisecond per login
HTTP_TIMEOUT = 5.0  # seconds; a learner's endless loop inside the server costs this much per request
ALICE = ("alice@example.com", "wonderland")
BOB = ("bob@example.com", "builder")


@contextmanager
def live_server(mode: str = "session", hooks: Hooks | None = None, **settings: Any) -> Iterator[CourseServer]:
    settings.setdefault("store", "memory")
    server = CourseServer(mode, hooks=hooks, bcrypt_rounds=ROUNDS, **settings).start()
    try:
        yield server
    finally:
        server.stop()


@cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every client of the checks: httpx otherwise builds one per client (tens of ms)."""
    return ssl.create_default_context()


def client(server: CourseServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=HTTP_TIMEOUT, verify=tls_context())


def learner_errors(server: CourseServer) -> list[BaseException]:
    return list(getattr(server.app.state.auth, "errors", []))  # type: ignore[union-attr]


def request(server: CourseServer, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request on a fresh client (no cookie jar: credentials are always explicit)."""
    before = len(learner_errors(server))
    try:
        with client(server) as http:
            response = http.request(method, path, **kwargs)
    except httpx.TimeoutException:
        raise Stuck(f"the server did not answer within {HTTP_TIMEOUT:g} s: does your code loop forever?") from None
    errors = learner_errors(server)
    response.extensions["learner_error"] = errors[-1] if len(errors) > before else None
    return response


def shown(response: httpx.Response) -> str:
    """A response in a few words: `401 {"error": "Not authenticated"}`, plus the learner's exception if any."""
    body = response.text if len(response.text) <= 80 else response.text[:77] + "..."
    text = f"{response.status_code} {body}"
    error = response.extensions.get("learner_error")
    if isinstance(error, NotImplementedError):
        return text + " (not implemented yet: your function still raises NotImplementedError)"
    return text + (f" (your code raised {describe(error)})" if error is not None else "")


def expect_status(response: httpx.Response, status: int, error: str | None = None, *, why: str = "") -> None:
    wanted = f"{status}" + (f' {{"error": "{error}"}}' if error else "")
    ok = response.status_code == status and (error is None or _error_of(response) == error)
    expect(ok, f"expected {wanted}, got {shown(response)}" + (f": {why}" if why else ""))


def _error_of(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("error") if isinstance(body, dict) else None


def login(server: CourseServer, who: tuple[str, str] = ALICE, **kwargs: Any) -> httpx.Response:
    return request(server, "POST", "/login", json={"email": who[0], "password": who[1]}, **kwargs)


def set_cookies(response: httpx.Response) -> list[str]:
    return response.headers.get_list("set-cookie")


def cookie_value(response: httpx.Response, name: str = "sid") -> str | None:
    for header in set_cookies(response):
        pair = header.split(";", 1)[0]
        key, _, value = pair.partition("=")
        if key.strip() == name:
            return value.strip()
    return None
