"""The lab's pages over plain HTTP (no browser): what they set, reflect, record and refuse."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from authcourse.browserlab.experiments import (
    csrf_table,
    hybrid_csrf_experiment,
    recorded_csrf_results,
    recorded_xss_result,
    xss_experiment,
)
from authcourse.browserlab.servers import BANK, OTHER_SITE, LabServer


@pytest.fixture(scope="module")
def lab() -> Iterator[LabServer]:
    with LabServer("session", cookie_same_site="None") as server:
        yield server


def local(lab: LabServer, path: str) -> str:
    return lab.url("127.0.0.1", path, "http")


def test_the_echo_page_sets_raw_cookies_and_records_what_arrives(lab):
    response = httpx.get(local(lab, "/lab/x/set"), params={"set": "n=1; SameSite=None", "tag": "t1"})
    assert response.headers.get_list("set-cookie") == ["n=1; SameSite=None"]
    httpx.get(local(lab, "/lab/x/again"), params={"tag": "t2"}, headers={"cookie": "a=1; b=2"})
    assert [hit.cookies for hit in lab.log.hits if hit.query.get("tag") == "t2"] == [{"a": "1", "b": "2"}]


def test_a_cookie_header_split_over_lines_is_refused(lab):
    response = httpx.get(local(lab, "/lab/x/set"), params={"set": "a=1\r\nX-Evil: 1"})
    assert response.status_code == 400, response.text


def test_the_other_site_builds_each_kind_of_request_and_refuses_the_rest(lab):
    target = "https://bank.test/lab/x/a?tag=1"
    form = httpx.get(local(lab, "/lab/other"), params={"kind": "form-post", "target": target}).text
    assert 'method=post action="https://bank.test/lab/x/a?tag=1"' in form and ".submit()" in form
    img = httpx.get(local(lab, "/lab/other"), params={"kind": "img", "target": target + '"><script>'}).text
    assert "<script>" not in img.split("<body>")[1].split("</body>")[0]
    assert httpx.get(local(lab, "/lab/other"), params={"kind": "ws", "target": target}).status_code == 400
    script_url = {"kind": "img", "target": "javascript:alert(1)"}
    assert httpx.get(local(lab, "/lab/other"), params=script_url).status_code == 400
    several = httpx.get(local(lab, "/lab/other"), params=[("kind", "img"), ("target", target), ("kind", "fetch"),
                                                          ("target", target)])
    assert several.status_code == 200 and "<img" in several.text and "fetch(" in several.text
    two_forms = [("kind", "form-post"), ("target", target), ("kind", "navigate"), ("target", target)]
    assert httpx.get(local(lab, "/lab/other"), params=two_forms).status_code == 400
    assert httpx.get(local(lab, "/lab/other"), params={"kind": "img"}).status_code == 400


def test_the_search_page_reflects_its_query_unescaped_on_purpose(lab):
    page = httpx.get(local(lab, "/lab/search"), params={"q": "<b>hi</b>"}).text
    assert "Results for <b>hi</b>" in page


def test_a_transfer_needs_the_credential_and_the_guarded_one_the_csrf_token_too(lab):
    with httpx.Client(base_url=local(lab, "")) as client:
        form = {"to": "bob", "amount": "5"}
        assert client.post("/lab/transfer", data=form).status_code == 401
        client.post("/login", json={"email": "alice@example.com", "password": "wonderland"})
        sid = client.post("/login", json={"email": "alice@example.com", "password": "wonderland"}).headers["set-cookie"]
        cookie = {"cookie": sid.split(";")[0]}
        assert client.post("/lab/transfer", data=form, headers=cookie).status_code == 200
        assert client.post("/lab/transfer-guarded", data=form, headers=cookie).status_code == 403
        wrong = client.post("/lab/transfer-guarded", data={**form, "csrf": "0" * 64}, headers=cookie)
        assert wrong.status_code == 403 and wrong.json() == {"error": "Missing or invalid CSRF token"}
        page = client.get("/lab/bank", headers=cookie).text
        token = page.split("name=csrf value=")[1].split(">")[0]
        assert client.post("/lab/transfer-guarded", data={**form, "csrf": token}, headers=cookie).status_code == 200
        as_json = {**cookie, "content-type": "application/json"}
        assert client.post("/lab/transfer", content="{}", headers=as_json).status_code == 400


def test_the_lab_cookie_follows_the_requested_samesite(lab):
    response = httpx.post(local(lab, "/login"), json={"email": "alice@example.com", "password": "wonderland"})
    assert "SameSite=None" in response.headers["set-cookie"] and "Secure" in response.headers["set-cookie"]


def test_the_collector_keeps_what_arrives_on_the_other_site(lab):
    httpx.get(lab.url(OTHER_SITE.replace("evil.test", "127.0.0.1"), "/lab/collect?token=abc", "http"))
    assert {"token": "abc"} in lab.log.stolen


def test_lab_urls_put_the_port_of_the_scheme(lab):
    assert lab.localize("https://bank.test/lab/x") == f"https://{BANK}:{lab.ports['https']}/lab/x"
    assert lab.localize("http://evil.test/") == f"http://evil.test:{lab.ports['http']}/"
    assert lab.localize("http://bank.test:8080/x") == f"http://bank.test:{lab.ports['http-alt']}/x"
    assert len({lab.ports["http"], lab.ports["http-alt"], lab.ports["https"]}) == 3


def test_without_chromium_the_experiments_give_the_recorded_result(monkeypatch):
    monkeypatch.setenv("AUTHCOURSE_CHROMIUM", "/nonexistent/chromium")
    result = xss_experiment()
    assert result.recorded and result == recorded_xss_result()
    assert result.token_stolen and not result.httponly_cookie_read and result.request_carried_cookie
    assert result.acted_as_user  # the recording holds the script's transfer, made with the unread cookie
    hybrid = hybrid_csrf_experiment()
    assert hybrid == recorded_csrf_results("csrf_cookie_token") and all(row.recorded for row in hybrid)


def test_the_csrf_table_shows_what_the_forged_post_carried_and_what_the_bank_did():
    shown = csrf_table(recorded_csrf_results("csrf_cookie_token"))
    rows = {row[0]: row[1:] for row in shown.rows}
    assert rows["JWT cookie, SameSite=None"] == ("Cookie: token", "200", "TRANSFERRED")
    assert rows["JWT cookie, SameSite=Lax"] == ("(no Cookie header)", "401", "refused")
    assert "CsrfResult(" not in str(shown) and "<table>" in shown._repr_html_()


def test_the_live_and_the_recorded_labels_read_the_same_once_sanitized():
    import re
    from pathlib import Path

    from nbval.plugin import get_sanitize_patterns

    from authcourse.browserlab.proof import Observation

    rules = get_sanitize_patterns((Path(__file__).resolve().parents[1] / "notebooks" / "sanitize.cfg").read_text())

    def sanitize(text: str) -> str:
        for regex, replacement in rules:
            text = re.sub(regex, replacement, text)
        return text

    live, recorded = Observation([], True, "156.0.1").source, Observation([], False, "150.0.2").source
    assert "live" in live and "RECORDED" in recorded
    assert sanitize(live + "\nmodel agrees") == sanitize(recorded + "\nmodel agrees") == \
        "Chromium results: <LIVE-OR-RECORDED>\nmodel agrees"


def test_without_chromium_no_browser_starts_and_the_chapters_fall_back(monkeypatch):
    from authcourse.browserlab.browser import start_browser

    monkeypatch.setenv("AUTHCOURSE_CHROMIUM", "/nonexistent/chromium")
    assert start_browser() is None
    monkeypatch.setenv("AUTHCOURSE_CHROMIUM", "/bin/false")  # exists, executable, is no browser
    assert start_browser() is None
