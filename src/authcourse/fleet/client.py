"""A visitor of a fleet: logs in through the balancer and keeps its credential explicitly.

It holds the credential as a header of its own (no cookie jar), so what it sends is exactly
what it was given, and a balancer or store that stops answering becomes one clear `FleetError`.
"""

from __future__ import annotations

import httpx

from .fleet import FleetError

DEMO_LOGIN = {"email": "alice@example.com", "password": "wonderland"}


def check_gateway(response: httpx.Response, url: str) -> httpx.Response:
    """The response, unless the balancer (502/504) or the store behind the servers (503) failed."""
    if response.status_code in (502, 504):
        raise FleetError(f"the balancer at {url} could not reach a server: {response.status_code} "
                         f"{response.text[:200]}")
    if response.status_code == 503:
        raise FleetError(f"the store behind the servers at {url} stopped answering: {response.text[:200]}")
    return response


class Visitor:
    """`Visitor(url, mode).login()` then `.profile()`: one browser or app, with its credential."""

    def __init__(self, url: str, mode: str = "session", *, client: httpx.Client | None = None) -> None:
        self.url = url
        self.mode = mode
        self.http = client or httpx.Client(timeout=10)
        self.header: dict[str, str] = {}

    def request(self, method: str, path: str, url: str | None = None, **kwargs) -> httpx.Response:
        base = url or self.url
        try:
            response = self.http.request(method, base + path, headers=self.header, **kwargs)
        except httpx.TransportError as error:
            raise FleetError(f"nothing answers at {base}: {error.__class__.__name__}: {error}") from None
        finally:
            self.http.cookies.clear()
        return check_gateway(response, base)

    def login(self, email: str = DEMO_LOGIN["email"], password: str = DEMO_LOGIN["password"]) -> httpx.Response:
        self.header = {}
        response = self.request("POST", "/login", json={"email": email, "password": password})
        if response.status_code == 200:
            self.header = credential_header(self.mode, response)
        return response

    def profile(self, url: str | None = None) -> httpx.Response:
        return self.request("GET", "/api/profile", url)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Visitor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def credential_header(mode: str, response: httpx.Response) -> dict[str, str]:
    """What a client sends after this login: the session cookie, the JWT cookie, or a Bearer header."""
    if mode == "token":
        return {"Authorization": f"Bearer {response.json()['token']}"}
    name = "sid" if mode == "session" else "token"
    value = response.cookies.get(name)
    if value is None:
        raise FleetError(f"the login answer set no {name} cookie")
    return {"Cookie": f"{name}={value}"}
