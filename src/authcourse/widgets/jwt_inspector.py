"""A JWT inspector: a token's three parts, its claims in human time, and whether it holds.

`inspect_token` is the plain function: it splits and decodes the token by hand, checks the
signature with a secret if one is given, reads the claims as dates and time left, and asks a
live server whether it accepts the token (and, if not, why). `show_token` prints that report;
`JWTInspector` is the same report as a widget: paste or pick a token, edit its payload, and see
the signature fail. The widget's state is plain traits, so tests drive it from Python.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import httpx
import ipywidgets as widgets

from ..clock import now

COLOURS = ("#d63aff", "#fb015b", "#00b9f1")  # header, payload, signature (the jwt.io palette)
TIME_CLAIMS = {"iat": "issued at", "nbf": "not before", "exp": "expires"}
CLAIM_MEANING = {"sub": "subject: who the token is about", "role": "role, for authorization",
                 "jti": "token id (what a denylist stores)", "ver": "token version (logout everywhere)",
                 "iss": "issuer", "aud": "audience"}


def b64url_decode(part: str) -> bytes:
    """base64url without padding, as JWTs use it; ValueError if it is not that."""
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as error:
        raise ValueError(f"not base64url: {error}") from None


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def describe_span(seconds: float) -> str:
    """A span of time for people: `under a minute`, `25 min`, `about 24 h`, `3 days`."""
    seconds = abs(seconds)
    if seconds < 60:
        return "under a minute"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 3 * 86400:
        return f"about {seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


@dataclass
class TokenReport:
    token: str
    parts: list[str] = field(default_factory=list)
    header: dict[str, Any] | None = None
    payload: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)  # what is wrong with the token's form
    claims: list[tuple[str, str, str]] = field(default_factory=list)  # (claim, value, meaning)
    signature_valid: bool | None = None  # None: no secret given, or no signature to check
    server_status: int | None = None  # None: no server asked
    server_says: str = ""

    @property
    def accepted(self) -> bool | None:
        return None if self.server_status is None else self.server_status == 200

    def lines(self) -> list[tuple[str, str]]:
        """The report as (section, text) lines: what both the printout and the widget show."""
        out: list[tuple[str, str]] = []
        for name, part in zip(("header", "payload", "signature"), self.parts):
            out.append(("parts", f"{name:9} {part}"))
        out += [("form", problem) for problem in self.problems]
        if self.header is not None:
            out.append(("header", json.dumps(self.header)))
        out += [("claims", f"{json.dumps(claim)}: {value}" + (f"  ({meaning})" if meaning else ""))
                for claim, value, meaning in self.claims]
        if self.signature_valid is not None:
            verdict = "matches the secret" if self.signature_valid else "does NOT match: payload or header changed"
            out.append(("signature", f"HMAC-SHA256 of header.payload {verdict}"))
        if self.server_status == 0:
            out.append(("server", f"could not ask: {self.server_says}"))
        elif self.server_status is not None:
            verdict = "accepted" if self.accepted else "refused"
            out.append(("server", f"{verdict}: {self.server_status} {self.server_says}".rstrip()))
        return out


def _claims(payload: dict[str, Any], at: float) -> list[tuple[str, str, str]]:
    rows = []
    for claim, value in payload.items():
        if claim in TIME_CLAIMS and isinstance(value, (int, float)) and not isinstance(value, bool):
            when = datetime.fromtimestamp(value, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
            delta = value - at
            if claim == "exp":
                left = f"{describe_span(delta)} left" if delta > 0 else f"expired {describe_span(delta)} ago"
            else:
                left = f"in {describe_span(delta)}" if delta > 60 else f"{describe_span(delta)} ago"
            rows.append((claim, f"{value} = {when}", f"{TIME_CLAIMS[claim]}; {left}"))
        else:
            rows.append((claim, json.dumps(value), CLAIM_MEANING.get(claim, "")))
    return rows


def ask_server(token: str, server_url: str) -> tuple[int, str]:
    """What a live server answers to the token on GET /api/profile: status and its error, if any."""
    try:
        response = httpx.get(f"{server_url}/api/profile", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    except httpx.HTTPError as error:
        return 0, (f"nothing answers at {server_url} ({type(error).__name__}): the server was stopped, or its "
                   "kernel restarted. Re-run the cell that starts the server, then this one.")
    try:
        body = response.json()
    except ValueError:
        return response.status_code, ""
    return response.status_code, "" if response.status_code == 200 else str(body.get("error", ""))


def inspect_token(token: str, *, secret: bytes | None = None, server_url: str | None = None,
                  at: float | None = None) -> TokenReport:
    """Everything there is to see in a token: by hand, with a secret if given, and by a live server."""
    token = token.strip()
    report = TokenReport(token)
    at = now() if at is None else at
    report.parts = token.split(".")
    if len(report.parts) != 3:
        report.problems.append(f"a JWT has 3 parts separated by dots; this has {len(report.parts)}")
    else:
        for name in ("header", "payload"):
            part = report.parts[0 if name == "header" else 1]
            try:
                decoded = json.loads(b64url_decode(part))
                if not isinstance(decoded, dict):
                    raise ValueError("not a JSON object")
                setattr(report, name, decoded)
            except ValueError as error:
                report.problems.append(f"the {name} is not base64url-encoded JSON ({error})")
        if report.payload is not None:
            report.claims = _claims(report.payload, at)
        if secret is not None and report.header is not None:
            signing_input = f"{report.parts[0]}.{report.parts[1]}".encode("ascii", "replace")
            expected = b64url_encode(hmac.digest(secret, signing_input, hashlib.sha256))
            report.signature_valid = hmac.compare_digest(expected, report.parts[2])
    if server_url is not None and token:
        report.server_status, report.server_says = ask_server(token, server_url)
    return report


def render_text(report: TokenReport) -> str:
    return "\n".join(f"{section:9} {text}" for section, text in report.lines())


def show_token(token: str, *, secret: bytes | None = None, server_url: str | None = None) -> TokenReport:
    """The inspector without widgets: print the report, and return it."""
    report = inspect_token(token, secret=secret, server_url=server_url)
    print(render_text(report))
    return report


def render_html(report: TokenReport) -> str:
    """The same lines as `render_text`, with the token's three parts in colour."""
    coloured = '<span style="color:#888">.</span>'.join(
        f'<span style="color:{COLOURS[i % 3]}">{html.escape(part)}</span>' for i, part in enumerate(report.parts))
    rows = []
    for section, text in report.lines():
        if section == "parts":
            continue
        colour = {"signature": COLOURS[2], "header": COLOURS[0], "claims": COLOURS[1]}.get(section, "inherit")
        if section == "server":  # green only for a 200: refused and unreachable are both red
            colour = "#2e7d32" if report.server_status == 200 else "#c62828"
        if section == "signature":
            colour = "#2e7d32" if report.signature_valid else "#c62828"
        if section == "form":
            colour = "#c62828"
        rows.append(f'<tr><td style="text-align:left;color:#666">{section}</td>'
                    f'<td style="text-align:left;color:{colour};font-family:monospace">{html.escape(text)}</td></tr>')
    return (f'<div style="font-family:monospace;word-break:break-all;margin:4px 0">{coloured}</div>'
            f'<table>{"".join(rows)}</table>')


class JWTInspector:
    """Paste or pick a token; edit its payload; see the report update.

    `token`, `payload` and `pick` are ipywidgets whose `.value` can be set from Python;
    `report` is the latest `TokenReport` and `view` the HTML widget that shows it.
    """

    def __init__(self, tokens: dict[str, str] | None = None, *, secret: bytes | None = None,
                 server_url: str | None = None) -> None:
        self.secret = secret
        self.server_url = server_url
        samples = dict(tokens or {})
        self.pick = widgets.Dropdown(options=[("(paste a token below)", "")] + list(samples.items()),
                                     description="pick", layout=widgets.Layout(width="60%"))
        self.token = widgets.Textarea(description="token", placeholder="eyJ...",
                                      layout=widgets.Layout(width="98%", height="70px"))
        self.payload = widgets.Textarea(description="payload", layout=widgets.Layout(width="98%", height="90px"))
        self.view = widgets.HTML()
        self.report = inspect_token("", secret=secret)
        self._editing = False
        self.pick.observe(self._on_pick, names="value")
        self.token.observe(self._on_token, names="value")
        self.payload.observe(self._on_payload, names="value")
        self.box = widgets.VBox([self.pick, self.token, self.payload, self.view])
        if samples:
            self.pick.value = next(iter(samples.values()))

    def _on_pick(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.token.value = change["new"]

    def _on_token(self, change: dict[str, Any]) -> None:
        self.report = inspect_token(change["new"], secret=self.secret, server_url=self.server_url)
        if not self._editing:  # show the payload to edit, unless the edit itself made this token
            self._editing = True
            try:
                self.payload.value = json.dumps(self.report.payload, indent=1) if self.report.payload else ""
            finally:
                self._editing = False
        self.view.value = render_html(self.report)

    def _on_payload(self, change: dict[str, Any]) -> None:
        """A payload edit makes a new token with the old header and the OLD signature."""
        if self._editing or len(self.report.parts) != 3:
            return
        try:
            claims = json.loads(change["new"])
        except ValueError as error:
            self.view.value = render_html(self.report) + f'<p style="color:#c62828">payload is not JSON: ' \
                                                          f'{html.escape(str(error))}</p>'
            return
        header, _, signature = self.report.parts
        edited = b64url_encode(json.dumps(claims, separators=(",", ":")).encode())
        self._editing = True
        try:
            self.token.value = f"{header}.{edited}.{signature}"
        finally:
            self._editing = False

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = self.box._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        # The widget's own text repr lists every child with its value and layout: keep it short.
        data["text/plain"] = "JWT inspector (an ipywidget: run the notebook to use it)"
        return bundle
