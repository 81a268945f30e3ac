"""What authenticating one request costs, measured through the server's own code, without HTTP.

`measure_request_cost` builds the app of a mode (the same `create_app` a `CourseServer`
runs), logs alice in through its strategy, then times `authenticate` on a request carrying
her credential, and notes what that request did to the store. `lookup_cost` and
`verify_cost` time the two primitives the lesson contrasts: a store GET and an HS256 check.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from ..app import create_app
from ..settings import Settings
from ..stores import Store, open_store
from ..tokens import TokenService
from .measure import Timing, time_per_call
from .watchedstore import WatchedStore

USER_EMAIL = "alice@example.com"


@dataclass(frozen=True)
class RequestCost:
    """One authenticated request in one configuration: what it did to the store, and its cost."""

    mode: str
    revocation: str
    store: str
    store_operations: tuple[str, ...]  # e.g. ("GET session:…",): one request's reads and writes
    timing: Timing

    @property
    def store_reads(self) -> int:
        return sum(op.startswith("GET ") for op in self.store_operations)


def _request(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": "/api/profile", "headers": headers, "query_string": b""}


def credential_headers(mode: str, response: Any) -> list[tuple[bytes, bytes]]:
    """The header a client sends back after this login response: a Cookie, or a Bearer token."""
    if mode == "token":
        token = json.loads(response.body)["token"]
        return [(b"authorization", f"Bearer {token}".encode())]
    pair = response.headers["set-cookie"].split(";", 1)[0]
    return [(b"cookie", pair.encode())]


def measure_request_cost(
    mode: str = "session",
    revocation: str = "none",
    store: str | Store = "fakeredis",
    *,
    signature_cache: bool = False,
    batches: int = 7,
) -> RequestCost:
    """Time the server's `authenticate` for one logged-in user; note the store operations of one call.

    By default every call checks the signature (an HMAC), as the first request with a credential
    does; `signature_cache=True` times the server's default, where a signature already checked is
    remembered (`verified.py`) and only expiry and revocation are checked again.
    """
    watched = WatchedStore(open_store(store))
    settings = Settings(mode=mode, revocation=revocation, store=watched, bcrypt_rounds=4,  # type: ignore[arg-type]
                        secret=secrets.token_bytes(32), signature_cache=signature_cache)
    app = create_app(settings)
    auth, user = app.state.auth, app.state.users.find(USER_EMAIL)
    scope = _request(credential_headers(mode, auth.login(user, Request(_request([])))))
    auth.authenticate(Request(scope))  # the first use checks the signature; with the cache, later ones remember it
    watched.drain()
    auth.authenticate(Request(scope))
    operations = tuple(watched.drain())
    label = mode if mode == "session" else f"{mode}, revocation {revocation}"
    label += ", signature remembered" if signature_cache else ", signature checked"
    timing = time_per_call(label, lambda: auth.authenticate(Request(scope)), batches=batches)
    watched.drain()
    return RequestCost(mode, revocation, watched.name, operations, timing)


def lookup_cost(store: str | Store = "fakeredis", *, batches: int = 7) -> Timing:
    """One GET of a session-sized entry from the store."""
    opened = open_store(store)
    key = "session:" + secrets.token_urlsafe(32)
    opened.set(key, json.dumps({"user_id": 1, "role": "user", "created_at": 0.0, "last_seen": 0.0}), ttl=60)
    try:
        name = "Redis" if "://" in opened.name else opened.name
        return time_per_call(f"{name} GET", lambda: opened.get(key), batches=batches)
    finally:
        opened.delete(key)


def verify_cost(*, remembered: bool = False, batches: int = 7) -> Timing:
    """One HS256 signature and claims check by PyJWT (signature checked); or, with `remembered`,
    `decode_token` on a token whose signature it has already checked (a dict lookup and the
    time window: what the server's signature cache costs)."""
    tokens = TokenService(secrets.token_bytes(32), cache_size=1 if remembered else 0)
    token = tokens.create_access_token(1, "user")
    label = "HS256 token, signature remembered" if remembered else "HS256 verify (PyJWT), signature checked"
    return time_per_call(label, lambda: tokens.decode_token(token), batches=batches)
