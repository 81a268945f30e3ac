"""What the checks share: HTTP to a live server of the learner's kernel (`RemoteServer`), one-line diagnoses."""

from __future__ import annotations

import ssl
from functools import cache
from typing import Any

import httpx

from ..remote import RemoteServer
from ..runtime import Fail, Stuck, expect

HTTP_TIMEOUT = 5.0  # seconds; a learner's endless loop inside the server costs this much per request
ALICE = ("alice@example.com", "wonderland")
BOB = ("bob@example.com", "builder")


@cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every client of the checks: httpx otherwise builds one per client (tens of ms)."""
    return ssl.create_default_context()


def client(server: RemoteServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=HTTP_TIMEOUT, verify=tls_context())


def request(server: RemoteServer, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request on a fresh client (no cookie jar: credentials are always explicit)."""
    try:
        with client(server) as http:
            response = http.request(method, path, **kwargs)
    except httpx.TimeoutException:
        raise Stuck(f"the server did not answer within {HTTP_TIMEOUT:g} s: does your code loop forever?") from None
    except httpx.HTTPError as error:
        raise Fail(f"{method} {path}: the server dropped the connection ({type(error).__name__})") from None
    response.extensions["learner_error"] = server.new_learner_error()
    return response


def shown(response: httpx.Response) -> str:
    """A response in a few words: `401 {"error": "Not authenticated"}`, plus the learner's exception if any."""
    body = response.text if len(response.text) <= 80 else response.text[:77] + "..."
    text = f"{response.status_code} {body}"
    error = response.extensions.get("learner_error")
    return text + (f" ({error})" if error else "")


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


def login(server: RemoteServer, who: tuple[str, str] = ALICE, **kwargs: Any) -> httpx.Response:
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
