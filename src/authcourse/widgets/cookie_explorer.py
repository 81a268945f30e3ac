"""The cookie explorer: set a cookie's attributes and a request, see what Chromium would do (and does).

`explore_cookie(...)` is the plain function: it builds the `Set-Cookie` value and the request and
asks `authcourse.browserlab.cookiemodel`. `CookieExplorer` is the same with controls; given a `Browser` and a
running `LabServer`, its button runs the case in Chromium and shows the real result beside the model's.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets

from ..browserlab.cookiemodel import REQUEST_KINDS, Request, Verdict, predict
from .saved import SavedForm

PAGES = ("typed in the address bar", "same-origin", "same-site", "cross-site")
HOSTS = {"same-origin": "bank.test", "same-site": "app.bank.test", "cross-site": "evil.test"}


@dataclass(frozen=True)
class Exploration:
    header: str  # the Set-Cookie value
    set_from: str
    request: Request
    verdict: Verdict

    def __str__(self) -> str:
        v = self.verdict
        page = self.request.from_url or "(typed)"
        return "\n".join([
            f"Set-Cookie: {self.header}   (from {self.set_from})",
            f"request:    {self.request.kind} {self.request.url} from {page} ({v.context})",
            f"stored: {v.stored}   sent: {v.sent}   visible to document.cookie: {v.visible_to_script}",
            f"why:        {', '.join(v.reasons) or 'every rule allows it'}",
        ])


def cookie_header(name: str = "sid", same_site: str = "Lax", secure: bool = True, http_only: bool = True,
                  path: str = "/", domain: str = "", max_age: int | None = None) -> str:
    """A raw Set-Cookie value (raw, so that even combinations a browser refuses can be tried)."""
    parts = [f"{name}=1"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if domain:
        parts.append(f"Domain={domain}")
    if path:
        parts.append(f"Path={path}")
    if secure:
        parts.append("Secure")
    if http_only:
        parts.append("HttpOnly")
    if same_site != "(absent)":
        parts.append(f"SameSite={same_site}")
    return "; ".join(parts)


def explore_cookie(*, prefix: str = "", same_site: str = "Lax", secure: bool = True, http_only: bool = True,
                   path: str = "/", domain: str = "", max_age: int | None = None, scheme: str = "https",
                   kind: str = "navigate", page: str = "cross-site", third_party_cookies: bool = False,
                   cookie_age: float = 0, target_path: str = "/lab/x/account") -> Exploration:
    """The cookie `{prefix}sid` set by {scheme}://bank.test, then one request to bank.test, predicted by the model.

    `same_site` is Strict, Lax, None or "(absent)"; `page` is one of PAGES; `cookie_age` in seconds.
    """
    header = cookie_header(f"{prefix}sid", same_site, secure, http_only, path, domain, max_age)
    set_from = f"{scheme}://bank.test/lab/x/set"
    from_url = None if page == PAGES[0] else f"{scheme}://{HOSTS[page]}/lab/other"
    if from_url is None:
        kind = "navigate"
    request = Request(kind, f"{scheme}://bank.test{target_path}", from_url=from_url,  # type: ignore[arg-type]
                      third_party_cookies=third_party_cookies, cookie_age=cookie_age)
    return Exploration(header, set_from, request, predict(header, set_from, request))


def verdict_html(exploration: Exploration) -> str:
    return "<pre>" + html.escape(str(exploration)) + "</pre>"


class CookieExplorer(SavedForm, widgets.VBox):
    """Controls for a cookie and a request; `result` shows the model's prediction, `live` Chromium's result."""

    def __init__(self, browser: Any = None, lab: Any = None) -> None:
        self.browser, self.lab = browser, lab
        style = {"description_width": "110px"}
        self.prefix = widgets.Dropdown(options=["", "__Host-", "__Secure-"], description="name prefix", style=style)
        self.same_site = widgets.Dropdown(options=["Strict", "Lax", "None", "(absent)"], value="Lax",
                                          description="SameSite", style=style)
        self.secure = widgets.Checkbox(value=True, description="Secure")
        self.http_only = widgets.Checkbox(value=True, description="HttpOnly")
        self.path = widgets.Text(value="/", description="Path", style=style)
        self.domain = widgets.Text(value="", description="Domain", style=style)
        self.scheme = widgets.ToggleButtons(options=["https", "http"], description="scheme", style=style)
        self.kind = widgets.Dropdown(options=list(REQUEST_KINDS), description="request", style=style)
        self.page = widgets.Dropdown(options=list(PAGES), value="cross-site", description="from a page", style=style)
        self.third_party = widgets.Checkbox(value=False, description="third-party cookies allowed")
        self.age = widgets.IntSlider(value=0, min=0, max=300, step=10, description="cookie age (s)", style=style)
        self.result = widgets.HTML()
        self.live = widgets.HTML(value="" if browser else "<i>No browser here: the model's prediction only.</i>")
        self.run = widgets.Button(description="Try in Chromium", disabled=browser is None or lab is None)
        self.run.on_click(lambda _: self.try_live())
        self.controls = [self.prefix, self.same_site, self.secure, self.http_only, self.path, self.domain,
                         self.scheme, self.kind, self.page, self.third_party, self.age]
        for control in self.controls:
            control.observe(lambda _: self.update(), names="value")
        super().__init__([widgets.HBox([widgets.VBox(self.controls[:6]), widgets.VBox(self.controls[6:])]),
                          self.result, self.run, self.live])
        self.update()

    def saved_note(self) -> str:
        return "Cookie explorer (controls: run the notebook to use them). The case it showed:"

    def saved_picture(self) -> str:
        return self.result.value

    def exploration(self) -> Exploration:
        return explore_cookie(prefix=self.prefix.value, same_site=self.same_site.value, secure=self.secure.value,
                              http_only=self.http_only.value, path=self.path.value, domain=self.domain.value.strip(),
                              scheme=self.scheme.value, kind=self.kind.value, page=self.page.value,
                              third_party_cookies=self.third_party.value, cookie_age=self.age.value)

    def update(self) -> None:
        try:
            self.result.value = verdict_html(self.exploration())
        except ValueError as error:
            self.result.value = f"<pre>cannot judge that: {html.escape(str(error))}</pre>"

    def try_live(self) -> None:
        """Run the current case in Chromium (ages are always zero there: the cookie was just set)."""
        from ..browserlab.matrix import Group
        from ..browserlab.proof import run_group

        case = self.exploration()
        group = Group("explorer", case.set_from, (case.header,), (case.request,), case.request.third_party_cookies)
        try:
            [outcome] = run_group(self.browser, self.lab, group)
        except Exception as error:  # a live run can fail for reasons of its own; say so in the widget, in red
            self.live.value = (f'<pre style="color:#c62828">Chromium run failed: {html.escape(str(error))}\n'
                               f"If the browser or the lab was stopped (or the kernel restarted), re-run the cell "
                               f"that starts them, then the explorer's cell.</pre>")
            return
        seen = outcome.chromium
        self.live.value = "<pre>" + html.escape(
            f"Chromium: stored: {seen.stored}   sent: {seen.sent}   visible: {seen.visible_to_script}   "
            f"reasons: {', '.join(seen.reasons) or '-'}\n"
            f"model {'agrees' if outcome.agrees else 'DISAGREES'}") + "</pre>"
