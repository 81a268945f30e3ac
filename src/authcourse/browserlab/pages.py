"""The lab's pages: plain HTML and a little JavaScript, served under /lab next to the mini-server's API.

One app answers every host name (bank.test, app.bank.test, evil.test): which site a page plays is
decided by the URL the browser loads, as on the real web. Everything the browser sends to
`/lab/x/...` is recorded in `app.state.lab` (a `LabLog`) so the lab reports what the server saw.
The search page is deliberately injectable: it exists to show what an injected script can do.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ..errors import BadRequest, Forbidden

router = APIRouter(prefix="/lab", include_in_schema=False)
KINDS = ("navigate", "form-get", "form-post", "fetch", "fetch-post", "img", "iframe")
PIXEL = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")


@dataclass
class Hit:
    """One request that reached /lab/x/..., as the server saw it."""

    method: str
    host: str
    path: str
    query: dict[str, str]
    cookies: dict[str, str]
    credential: bool = False  # it carried the mode's credential (recorded by the transfer routes)


@dataclass
class LabLog:
    hits: list[Hit] = field(default_factory=list)
    stolen: list[dict[str, str]] = field(default_factory=list)
    transfers: list[dict[str, Any]] = field(default_factory=list)
    csrf_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    changed: threading.Condition = field(default_factory=threading.Condition)

    def record(self, items: list[Any], item: Any) -> None:
        with self.changed:
            items.append(item)
            self.changed.notify_all()

    def wait_for(self, predicate: Any, timeout: float) -> bool:  # timeout in seconds
        with self.changed:
            return self.changed.wait_for(predicate, timeout)

    def csrf_token(self, credential: str) -> str:
        """A token bound to the caller's credential: a page on another site can neither read nor compute it."""
        return hmac.new(self.csrf_key, credential.encode(), hashlib.sha256).hexdigest()


def page(title: str, body: str, script: str = "") -> HTMLResponse:
    tail = f"<script>{script}</script>" if script else ""
    return HTMLResponse(f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title>"
                        f"<link rel=icon href=data:,></head><body>{body}{tail}</body></html>")


def lab_log(request: Request) -> LabLog:
    return request.app.state.lab


def read_cookies(request: Request) -> dict[str, str]:
    """Every name=value pair of the Cookie header, as sent (http.cookies would drop a cookie named `secure`)."""
    pairs = (part.strip().partition("=") for part in request.headers.get("cookie", "").split(";"))
    return {name: value for name, sep, value in pairs if sep and name}


@router.api_route("/x/{rest:path}", methods=["GET", "POST"])
async def echo(rest: str, request: Request) -> Response:
    """Record what arrived; `?set=<Set-Cookie value>` (repeatable) makes the response set raw cookies."""
    query = dict(request.query_params)
    lab_log(request).record(lab_log(request).hits, Hit(request.method, request.url.hostname or "", request.url.path,
                                                       query, read_cookies(request)))
    if rest.endswith(".gif"):
        response: Response = Response(PIXEL, media_type="image/gif")
    else:
        response = page("lab", f"<p id=seen>{html.escape(json.dumps(read_cookies(request)))}</p>")
    for header in request.query_params.getlist("set"):
        if "\n" in header or "\r" in header:
            raise BadRequest("a cookie header cannot span lines")
        response.headers.append("set-cookie", header)
    origin = request.headers.get("origin")
    if origin:
        response.headers["access-control-allow-origin"] = origin
        response.headers["access-control-allow-credentials"] = "true"
    return response


SUBRESOURCE_KINDS = ("fetch", "fetch-post", "img", "iframe")


def fragment(kind: str, target: str) -> tuple[str, str]:
    """The HTML and the script that make one request of `kind` to `target`."""
    if kind not in KINDS:
        raise BadRequest(f"kind must be one of {', '.join(KINDS)}")
    if urlsplit(target).scheme not in ("http", "https"):
        raise BadRequest("target must be an http or https URL")
    url = html.escape(target)
    if kind == "navigate":
        return f"<a id=go href=\"{url}\">a link</a>", ""
    if kind in ("form-get", "form-post"):
        parts = urlsplit(target)
        fields = parse_qsl(parts.query) if kind == "form-get" else [("to", "mallory"), ("amount", "1000")]
        action = urlunsplit(parts._replace(query="")) if kind == "form-get" else target
        inputs = "".join(f"<input type=hidden name=\"{html.escape(k)}\" value=\"{html.escape(v)}\">" for k, v in fields)
        method = "get" if kind == "form-get" else "post"
        return (f"<form id=f method={method} action=\"{html.escape(action)}\">{inputs}</form>",
                "document.getElementById('f').submit();")
    if kind == "img":
        return f"<img src=\"{url}\">", ""
    if kind == "iframe":
        return f"<iframe src=\"{url}\"></iframe>", ""
    body = ", body: 'to=mallory&amount=1000', headers: {'content-type': 'application/x-www-form-urlencoded'}" \
        if kind == "fetch-post" else ""
    method = "POST" if kind == "fetch-post" else "GET"
    return "", f"fetch({json.dumps(target)}, {{method: '{method}', credentials: 'include', mode: 'no-cors'{body}}});"


@router.get("/other")
async def other_site(request: Request) -> HTMLResponse:
    """A page that makes requests (`kind` and `target`, repeated) to another site, as a page there would.

    One top-level request (navigate, form-get, form-post) per page; any number of the others.
    """
    kinds, targets = request.query_params.getlist("kind"), request.query_params.getlist("target")
    if not kinds or len(kinds) != len(targets):
        raise BadRequest("give kind and target, as many of one as of the other")
    if len(kinds) > 1 and not set(kinds) <= set(SUBRESOURCE_KINDS):
        raise BadRequest("a page makes one top-level request, or any number of fetch, img and iframe requests")
    parts = [fragment(kind, target) for kind, target in zip(kinds, targets)]
    return page("other", "".join(body for body, _ in parts), "".join(script for _, script in parts))


@router.get("/login")
async def login_page(request: Request) -> HTMLResponse:
    """Log in with the mode's credential: a cookie the browser keeps, or a token the page keeps in localStorage."""
    mode = request.app.state.settings.mode
    script = """
async function login(email, password) {
  const r = await fetch('/login', {method: 'POST', credentials: 'same-origin',
    headers: {'content-type': 'application/json'}, body: JSON.stringify({email, password})});
  const body = await r.json();
  if (body.token) localStorage.setItem('token', body.token);
  return r.status;
}
async function profile() {
  const token = localStorage.getItem('token');
  const headers = token ? {authorization: 'Bearer ' + token} : {};
  const r = await fetch('/api/profile', {credentials: 'same-origin', headers});
  return r.status;
}
"""
    return page(f"login ({mode})", f"<h1>Bank ({mode})</h1><p>Log in with login(email, password).</p>", script)


@router.get("/search")
async def search(q: str = "") -> HTMLResponse:
    """The XSS sink: `q` goes into the page unescaped, on purpose (never do this)."""
    return page("search", f"<h1>Search</h1><p>Results for {q}</p>")


@router.get("/collect")
async def collect(request: Request) -> Response:
    """The attacker's collector, on the other site: it keeps whatever arrives."""
    lab_log(request).record(lab_log(request).stolen, dict(request.query_params))
    return Response(PIXEL, media_type="image/gif", headers={"access-control-allow-origin": "*"})


def credential_of(request: Request) -> str:
    auth = request.app.state.auth
    cookie = getattr(auth, "cookie", None)
    if cookie is not None:
        return request.cookies.get(cookie.name, "")
    return request.headers.get("authorization", "")


@router.get("/bank")
async def bank(request: Request) -> HTMLResponse:
    """The bank's own transfer form, with the CSRF token only a page of this site can see."""
    principal = request.app.state.auth.authenticate(request)
    token = lab_log(request).csrf_token(credential_of(request))
    return page("bank", f"<p>Hello {html.escape(principal.user.name)}</p>"
                f"<form id=f method=post action=/lab/transfer-guarded><input name=to><input name=amount>"
                f"<input type=hidden name=csrf value={token}></form>")


async def transfer_form(request: Request) -> dict[str, str]:
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        raise BadRequest("a transfer is a form: application/x-www-form-urlencoded")
    body = (await request.body())[:4096].decode("utf-8", "replace")
    return dict(parse_qsl(body))


def record_attempt(request: Request) -> None:
    hit = Hit(request.method, request.url.hostname or "", request.url.path, dict(request.query_params),
              read_cookies(request), credential=bool(credential_of(request)))
    lab_log(request).record(lab_log(request).hits, hit)


@router.post("/transfer")
async def transfer(request: Request) -> JSONResponse:
    """Move money on the caller's say-so: authenticated by the mode's credential alone (CSRF-prone)."""
    record_attempt(request)
    principal = request.app.state.auth.authenticate(request)
    form = await transfer_form(request)
    done = {"from": principal.user.name, "to": form.get("to", ""), "amount": form.get("amount", ""), "guarded": False}
    lab_log(request).record(lab_log(request).transfers, done)
    return JSONResponse({"message": "Transferred", **done})


@router.post("/transfer-guarded")
async def transfer_guarded(request: Request) -> JSONResponse:
    """The same transfer, refused unless the form carries the CSRF token bound to the caller's credential."""
    record_attempt(request)
    principal = request.app.state.auth.authenticate(request)
    form = await transfer_form(request)
    expected = lab_log(request).csrf_token(credential_of(request))
    if not hmac.compare_digest(form.get("csrf", "").encode(), expected.encode()):
        raise Forbidden("Missing or invalid CSRF token")
    done = {"from": principal.user.name, "to": form.get("to", ""), "amount": form.get("amount", ""), "guarded": True}
    lab_log(request).record(lab_log(request).transfers, done)
    return JSONResponse({"message": "Transferred", **done})
