"""The lab's pages for requests across origins (chapter 15): CORS policies, Fetch Metadata, a form login, a BFF.

- `/lab/meta/...` records the `Sec-Fetch-*` and `Origin` headers the browser sent.
- `/lab/cors/{policy}/data` (the victim's data) and `/lab/cors/{policy}/transfer` (a change of state),
  answered with one of three CORS policies: `star` (`Access-Control-Allow-Origin: *` with credentials),
  `reflect` (any Origin echoed back with `Allow-Credentials: true`, a common mistake) and `allowlist`
  (only the origins in `CrossOriginLog.allowed`, compared exactly).
- `/lab/form-login`: an HTML form login (urlencoded), as most sites have: the target of login CSRF.
- `/lab/bff/...`: a backend-for-frontend. The page's script never holds a token: the BFF keeps the
  API's token server-side and gives the page an HttpOnly session cookie (`__Host-bff`).
"""

from __future__ import annotations

import html
import secrets
import threading
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..cookies import Cookie
from ..errors import BadRequest, InvalidCredentials, NotAuthenticated, RequestError
from .pages import page

router = APIRouter(prefix="/lab", include_in_schema=False)
POLICIES = ("star", "reflect", "allowlist")
META_HEADERS = ("sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest", "sec-fetch-user", "origin")
MAX_FORM_BYTES = 4096
BFF_COOKIE = "__Host-bff"
ATTACKER = ("mallory@evil.test", "mallory-password", "Mallory")  # the attacker's own, real account


WATCHED = ("/lab/meta/", "/lab/cors/", "/lab/form-login")


@dataclass
class Seen:
    """One request that reached the lab app (before any middleware of the app's own), and what it answered."""

    method: str
    path: str
    tag: str
    headers: dict[str, str]  # the Sec-Fetch-* and Origin headers, when sent
    cookies: tuple[str, ...]  # names of the cookies it carried
    status: int  # what the app answered (403 when the cross-site guard refused it)


@dataclass
class CrossOriginLog:
    seen: list[Seen] = field(default_factory=list)
    transfers: list[dict[str, str]] = field(default_factory=list)
    allowed: set[str] = field(default_factory=set)  # the allow-list policy's origins, e.g. https://front.test:PORT
    bff_tokens: dict[str, str] = field(default_factory=dict)  # BFF session id -> the API token it holds
    changed: threading.Condition = field(default_factory=threading.Condition)

    def record(self, items: list[Any], item: Any) -> None:
        with self.changed:
            items.append(item)
            self.changed.notify_all()

    def wait_for(self, predicate: Any, timeout: float) -> bool:  # timeout in seconds
        with self.changed:
            return self.changed.wait_for(predicate, timeout)

    def tagged(self, tag: str) -> list[Seen]:
        return [item for item in self.seen if item.tag == tag]


class Witness:
    """ASGI middleware outside the app's own (the cross-site guard included): records every request to a
    watched path with the status it got, before the browser receives the answer."""

    def __init__(self, app: ASGIApp, log: CrossOriginLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(WATCHED):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)

        async def answered(message: Message) -> None:
            if message["type"] == "http.response.start":
                pairs = (part.strip().partition("=") for part in headers.get("cookie", "").split(";"))
                seen = Seen(scope["method"], scope["path"], QueryParams(scope["query_string"]).get("tag", ""),
                            {name: headers[name] for name in META_HEADERS if name in headers},
                            tuple(sorted(name for name, sep, _ in pairs if sep and name)), message["status"])
                self.log.record(self.log.seen, seen)
            await send(message)

        await self.app(scope, receive, answered)


def install(app: Any) -> None:
    """Add the routes, the witness and their log to a lab app, and the attacker's own account to its users."""
    app.include_router(router)
    app.state.crossorigin = CrossOriginLog()
    app.add_middleware(Witness, log=app.state.crossorigin)
    if app.state.users.find(ATTACKER[0]) is None:
        app.state.users.add_user(ATTACKER[0], ATTACKER[1], name=ATTACKER[2])


def log_of(request: Request) -> CrossOriginLog:
    return request.app.state.crossorigin


def who(request: Request) -> str:
    try:
        return request.app.state.auth.authenticate(request).user.email
    except RequestError:
        return ""


@router.api_route("/meta/{rest:path}", methods=["GET", "POST"])
async def meta(rest: str, request: Request) -> Response:
    """A page that answers anything: the witness records the Fetch Metadata the browser sent with it."""
    return page("meta", "<p>recorded</p>")


def cors_headers(policy: str, request: Request) -> dict[str, str]:
    if policy not in POLICIES:
        raise BadRequest(f"policy must be one of {', '.join(POLICIES)}")
    origin = request.headers.get("origin", "")
    if policy == "star":
        allow = "*"
    elif policy == "reflect" or origin in log_of(request).allowed:
        allow = origin
    else:
        return {"vary": "Origin"}
    return {"access-control-allow-origin": allow, "access-control-allow-credentials": "true", "vary": "Origin"}


@router.options("/cors/{policy}/{rest}")
async def preflight(policy: str, rest: str, request: Request) -> Response:
    """The preflight: the browser asks before a request a plain form could not make (JSON, a custom header)."""
    headers = cors_headers(policy, request)
    if "access-control-allow-origin" in headers:
        headers.update({"access-control-allow-methods": "GET, POST",
                        "access-control-allow-headers": "content-type, x-requested-with"})
    return Response(status_code=204, headers=headers)


@router.get("/cors/{policy}/data")
async def cors_data(policy: str, request: Request) -> JSONResponse:
    """The victim's private data, for whoever the cookie says is calling."""
    user = who(request)
    headers = cors_headers(policy, request)
    if not user:
        return JSONResponse({"error": NotAuthenticated.message}, status_code=401, headers=headers)
    return JSONResponse({"email": user, "balance": 1000}, headers=headers)


@router.post("/cors/{policy}/transfer")
async def cors_transfer(policy: str, request: Request) -> JSONResponse:
    """A change of state on the cookie's say-so (simple or JSON body): recorded before the browser sees the answer."""
    user = who(request)
    headers = cors_headers(policy, request)
    if not user:
        return JSONResponse({"error": NotAuthenticated.message}, status_code=401, headers=headers)
    done = {"from": user, "policy": policy, "tag": request.query_params.get("tag", ""),
            "content_type": request.headers.get("content-type", "")}
    log_of(request).record(log_of(request).transfers, done)
    return JSONResponse({"message": "Transferred", "from": user, "to": "mallory"}, headers=headers)


async def read_form(request: Request) -> dict[str, str]:
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        raise BadRequest("a form login is application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise RequestError(f"Request body must be at most {MAX_FORM_BYTES} bytes", status=413)
    return dict(parse_qsl(body.decode("utf-8", "replace")))


@router.post("/form-login")
async def form_login(request: Request) -> Response:
    """An HTML form login (no CSRF defence of its own): whoever posts a right password gets a session."""
    form = await read_form(request)
    user = request.app.state.users.authenticate(form.get("email", ""), form.get("password", ""))
    if user is None:
        raise InvalidCredentials()
    return request.app.state.auth.login(user, request)


# The backend-for-frontend -----------------------------------------------------------------------


async def call_api(request: Request, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """The BFF calls the API server-side (here the lab's own app, in process): the browser never sees this."""
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.internal") as client:
        return await client.request(method, path, **kwargs)


@router.get("/bff/spa")
async def spa() -> Response:
    """The SPA: its script logs in and reads the profile through the BFF, and keeps nothing itself."""
    script = """
async function login(email, password) {
  const r = await fetch('/lab/bff/login', {method: 'POST', headers: {'content-type': 'application/json'},
    body: JSON.stringify({email, password})});
  return r.status;
}
async function profile() {
  const r = await fetch('/lab/bff/profile');
  return [r.status, await r.json()];
}
"""
    return page("SPA (with a BFF)", "<h1>SPA</h1><p>Log in with login(email, password).</p>", script)


@router.post("/bff/login")
async def bff_login(request: Request) -> Response:
    """Log in at the API for the page; keep the token here; give the page an HttpOnly cookie."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise RequestError(f"Request body must be at most {MAX_FORM_BYTES} bytes", status=413)
    answer = await call_api(request, "POST", "/login", content=body, headers={"content-type": "application/json"})
    token = answer.json().get("token") if answer.status_code == 200 else None
    if not token:
        return Response(answer.content, status_code=answer.status_code, media_type="application/json")
    session_id = secrets.token_urlsafe(32)
    log_of(request).bff_tokens[session_id] = token
    cookie = replace(Cookie(BFF_COOKIE, session_id, secure=True, same_site="Strict"), max_age=3600)
    response = JSONResponse({"message": "Logged in"})
    response.headers.append("set-cookie", cookie.render())
    return response


@router.get("/bff/profile")
async def bff_profile(request: Request) -> Response:
    """The page's call, forwarded to the API with the token the BFF holds for this cookie."""
    token = log_of(request).bff_tokens.get(request.cookies.get(BFF_COOKIE, ""))
    if token is None:
        raise NotAuthenticated()
    answer = await call_api(request, "GET", "/api/profile", headers={"authorization": f"Bearer {token}"})
    return Response(answer.content, status_code=answer.status_code, media_type="application/json")



@router.get("/attacker-login")
async def attacker_login(target: str) -> Response:
    """The attacker's page: it posts the attacker's own email and password to the bank's form login."""
    if not target.startswith(("http://", "https://")):
        raise BadRequest("target must be an http or https URL")
    email, password, _ = ATTACKER
    form = (f"<form id=f method=post action=\"{html.escape(target)}\">"
            f"<input type=hidden name=email value=\"{email}\"><input type=hidden name=password value=\"{password}\">"
            "</form>")
    return page("a cat picture", "<p>Look, a cat!</p>" + form, "document.getElementById('f').submit();")


def cors_prediction(policy: str, origin: str, allowed: set[str], preflighted: bool) -> tuple[bool, bool]:
    """(request sent, response readable by the page) for a credentialed cross-origin `fetch` from `origin`.

    With credentials, a browser lets the page read the answer only when it names the page's origin
    exactly and allows credentials; `*` never does. A request a form could also make is sent
    whatever the policy (CORS guards reading, not sending); any other waits for a preflight that
    grants it.
    """
    if policy not in POLICIES:
        raise BadRequest(f"policy must be one of {', '.join(POLICIES)}")
    grants = policy == "reflect" or (policy == "allowlist" and origin in allowed)
    return grants or not preflighted, grants
