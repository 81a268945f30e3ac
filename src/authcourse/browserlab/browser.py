"""Drive a real Chromium (headless, through Playwright) against the lab, and report what it did.

Debian's `chromium` is used (`/usr/lib/chromium/chromium`; `$AUTHCOURSE_CHROMIUM` wins), since
`playwright install` cannot download a browser here. Test host names (bank.test, evil.test, ...)
are mapped to 127.0.0.1 inside Chromium by its host resolver rules: no traffic leaves the machine.

`Browser` is one Chromium for a notebook or a test module; `browser.tab()` is a fresh profile
(an empty cookie jar) that records what the browser stored, what it refused and why (Chromium's
own reasons, over the DevTools protocol), and what a script on the page can see. What the browser
sent is read from the server side (`LabServer.log`), as a server sees it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from .servers import LabServer

CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_ENV = "AUTHCOURSE_CHROMIUM"
HOST_RULES = "--host-resolver-rules=MAP *.test 127.0.0.1"
WAIT = 5.0  # seconds: how long a request may take to reach the lab
T = TypeVar("T")


class BrowserUnavailable(RuntimeError):
    """Raised when no Chromium can be found or launched."""


def chromium_path() -> str | None:
    """Chromium's executable: `$AUTHCOURSE_CHROMIUM` if set, else Debian's; None when absent."""
    path = os.environ.get(CHROMIUM_ENV) or CHROMIUM
    return path if Path(path).is_file() and os.access(path, os.X_OK) else None


@dataclass
class Tab:
    """One fresh browser profile and page, with what Chromium reported about cookies."""

    context: Any
    page: Any
    cdp: Any
    urls: dict[str, str] = field(default_factory=dict)  # request id -> URL
    sent_reasons: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # request id -> cookie -> reasons
    refused: dict[str, list[str]] = field(default_factory=dict)  # cookie name -> reasons it was not stored
    profile_folder: Path | None = None  # the tab's own profile on disk, when it has one

    def listen(self) -> None:
        self.cdp.send("Network.enable")
        self.cdp.on("Network.requestWillBeSent", self._on_request)
        self.cdp.on("Network.requestWillBeSentExtraInfo", self._on_request_cookies)
        self.cdp.on("Network.responseReceivedExtraInfo", self._on_response_cookies)

    def _on_request(self, event: dict[str, Any]) -> None:
        self.urls[event["requestId"]] = event["request"]["url"]

    def _on_request_cookies(self, event: dict[str, Any]) -> None:
        found = self.sent_reasons.setdefault(event["requestId"], {})
        for item in event.get("associatedCookies", []):
            if item.get("blockedReasons"):
                found[item["cookie"]["name"]] = list(item["blockedReasons"])

    def _on_response_cookies(self, event: dict[str, Any]) -> None:
        for item in event.get("blockedCookies", []):
            name = (item.get("cookie") or {}).get("name") or item.get("cookieLine", "").split("=", 1)[0].strip()
            self.refused[name] = list(item["blockedReasons"])

    def empty(self) -> Tab:
        """Empty the cookie jar and forget what was reported: a cheaper fresh start than a new profile."""
        self.context.clear_cookies()
        self.urls.clear()
        self.sent_reasons.clear()
        self.refused.clear()
        return self

    def goto(self, url: str) -> None:
        self.page.goto(url, wait_until="load")

    def stored(self) -> dict[str, dict[str, Any]]:
        """The cookie jar: name -> Playwright's description (domain, path, secure, httpOnly, sameSite...)."""
        return {cookie["name"]: cookie for cookie in self.context.cookies()}

    def script_view(self) -> dict[str, Any]:
        """What a script on the current page sees: `document.cookie` and localStorage."""
        return self.page.evaluate("() => ({cookie: document.cookie, localStorage: {...localStorage}})")

    def reported(self, fragment: str) -> bool:
        """Whether Chromium has reported the cookies of the request whose URL contains `fragment`."""
        return any(fragment in url and "/lab/other" not in url and request_id in self.sent_reasons
                   for request_id, url in self.urls.items())

    def wait_for_reports(self, fragments: list[str], timeout: float = 2.0) -> None:  # seconds
        """Let DevTools events arrive (they trail the requests) until each request has its report."""
        deadline = time.monotonic() + timeout
        while not all(self.reported(fragment) for fragment in fragments) and time.monotonic() < deadline:
            self.page.wait_for_timeout(20)

    def reasons_for(self, fragment: str) -> dict[str, list[str]]:
        """Chromium's reasons for leaving cookies off the request whose URL contains `fragment`."""
        merged: dict[str, list[str]] = {}
        for request_id, url in self.urls.items():
            if fragment in url and "/lab/other" not in url:
                merged.update(self.sent_reasons.get(request_id, {}))
        return merged

    def close(self) -> None:
        """Close the profile, and with it every connection it holds open to the lab."""
        self.context.close()
        if self.profile_folder is not None:
            shutil.rmtree(self.profile_folder, ignore_errors=True)


class Browser:
    """One headless Chromium; `with Browser() as browser:` closes it (and Playwright) at the end.

    Playwright's synchronous API refuses to run where an asyncio loop runs (a Jupyter kernel), so
    the browser lives in a thread of its own: `browser.run(fn, ...)` calls `fn` there. Everything
    that touches a `Tab` runs through it (the lab's matrix and the experiments do).
    """

    def __init__(self, executable: str | None = None) -> None:
        self.executable = executable or chromium_path()
        self.playwright: Any = None
        self.chromium: Any = None
        self.worker: ThreadPoolExecutor | None = None
        self.worker_thread: threading.Thread | None = None

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call `fn(*args, **kwargs)` in the browser's thread and return its result (or raise its error)."""
        if self.worker is None:
            self.start()
        assert self.worker is not None
        if threading.current_thread() is self.worker_thread:
            return fn(*args, **kwargs)
        return self.worker.submit(fn, *args, **kwargs).result()

    @property
    def version(self) -> str:
        return self.chromium.version if self.chromium else ""

    def start(self) -> Browser:
        if self.worker is not None:
            return self
        if self.executable is None:
            raise BrowserUnavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium) and ${CHROMIUM_ENV} unset")
        self.worker = ThreadPoolExecutor(1, thread_name_prefix="authcourse-browser")
        self.worker_thread = self.worker.submit(threading.current_thread).result()
        try:
            self.run(self.launch)
        except Exception:
            self.worker.shutdown()
            self.worker = self.worker_thread = None
            raise
        return self

    def launch(self) -> None:
        from playwright.sync_api import sync_playwright

        self.playwright = sync_playwright().start()
        try:
            self.chromium = self.playwright.chromium.launch(executable_path=self.executable, args=[HOST_RULES])
        except Exception as error:
            self.playwright.stop()
            self.playwright = None
            raise BrowserUnavailable(f"Chromium at {self.executable} did not start: {error}") from error

    def tab(self, *, third_party_cookies: bool = False) -> Tab:
        """A fresh profile (empty cookie jar and storage) with one page; third-party cookies blocked by default.

        Call it, and use the tab, in the browser's thread: inside a function given to `run`.
        """
        if threading.current_thread() is not self.worker_thread:
            raise RuntimeError("use tabs inside browser.run(...): Playwright objects belong to the browser's thread")
        folder = None
        if third_party_cookies:
            # A fresh context is an off-the-record profile, which blocks third-party cookies whatever one asks;
            # a profile on disk whose user allowed them is a second Chromium process (about half a second).
            folder = Path(tempfile.mkdtemp(prefix="authcourse-chromium-"))
            (folder / "Default").mkdir()
            preferences = {"profile": {"cookie_controls_mode": 0}}  # 0: allow third-party cookies
            (folder / "Default" / "Preferences").write_text(json.dumps(preferences))
            context = self.playwright.chromium.launch_persistent_context(
                str(folder), executable_path=self.executable, args=[HOST_RULES], ignore_https_errors=True)
        else:
            context = self.chromium.new_context(ignore_https_errors=True)
        page = context.pages[0] if context.pages else context.new_page()
        tab = Tab(context, page, context.new_cdp_session(page), profile_folder=folder)
        tab.listen()
        return tab

    def close(self) -> None:
        if self.worker is not None:
            self.run(self.shut_down)
            self.worker.shutdown()
            self.worker = self.worker_thread = None

    def shut_down(self) -> None:
        if self.chromium is not None:
            self.chromium.close()
            self.chromium = None
        if self.playwright is not None:
            self.playwright.stop()
            self.playwright = None

    def __enter__(self) -> Browser:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_browser() -> Browser | None:
    """A started Browser, or None where no Chromium is installed or it fails to start (then chapters
    show recorded results; the browser tests, not the notebooks, insist on a live browser in CI)."""
    if chromium_path() is None:
        return None
    try:
        return Browser().start()
    except BrowserUnavailable:
        return None


def with_query(url: str, **params: str) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


def make_requests(
    tab: Tab, lab: LabServer, requests: list[tuple[str, str]], from_url: str | None
) -> list[tuple[dict[str, str], str]]:
    """Several (kind, url) requests from one page at once: one top-level request, or any number of
    fetch, img and iframe requests (one page load for all of them)."""
    tags = [uuid.uuid4().hex for _ in requests]
    targets = [with_query(url, tag=tag) for (_, url), tag in zip(requests, tags)]
    kinds = [kind for kind, _ in requests]
    if from_url is None:
        if kinds != ["navigate"]:
            raise ValueError("only one navigate request can be typed in the address bar: give from_url")
        tab.goto(targets[0])
    else:
        origin = "/".join(from_url.split("/")[:3])
        tab.goto(f"{origin}/lab/other?" + urlencode([pair for kind, target in zip(kinds, targets)
                                                      for pair in (("kind", kind), ("target", target))]))
        if kinds == ["navigate"]:
            with tab.page.expect_navigation(wait_until="load"):
                tab.page.click("#go")

    def arrived() -> bool:
        seen = {hit.query.get("tag") for hit in lab.log.hits}
        return all(tag in seen for tag in tags)

    if not lab.log.wait_for(arrived, WAIT):
        raise TimeoutError(f"requests {kinds} from {from_url} never all reached the lab")
    if set(kinds) & {"form-get", "form-post"}:
        tab.page.wait_for_load_state("load")
    hits = {hit.query.get("tag"): hit for hit in lab.log.hits if hit.query.get("tag") in tags}
    return [(dict(hits[tag].cookies), tag) for tag in tags]
