"""Tests for authcourse.instruments.guide and its form, authcourse.widgets.decision_guide."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from authcourse.instruments.guide import CLIENTS, EVIDENCE, Case, recommend
from authcourse.widgets.decision_guide import DecisionGuide

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def texts(reasons) -> str:
    return " ".join(reason.text for reason in reasons)


def test_a_server_rendered_site_gets_a_session_and_no_caveat() -> None:
    advice = recommend(Case("server-rendered"))
    assert advice.use == "session"
    assert "Logout deletes the session" in texts(advice.reasons)
    assert advice.debatable == ()


def test_an_spa_on_the_same_site_gets_a_session_cookie_and_says_the_lesson_is_debatable() -> None:
    advice = recommend(Case("spa-same-site"))
    assert advice.use == "session"
    assert "SPA served from the same site" in texts(advice.debatable)


def test_a_cross_site_spa_gets_a_header_token_kept_out_of_local_storage() -> None:
    advice = recommend(Case("spa-cross-site"))
    assert advice.use == "token"
    assert "third-party cookies" in texts(advice.reasons) and "localStorage" in texts(advice.reasons)
    assert "CORS" in texts(advice.debatable)


def test_instant_logout_with_tokens_brings_revocation_and_its_store_read() -> None:
    advice = recommend(Case("mobile", instant_logout=True))
    assert advice.use.startswith("token, revocation blacklist")
    assert "one store read per request" in texts(advice.reasons)
    assert recommend(Case("mobile")).use == "token"


def test_instant_logout_without_a_shared_store_is_declared_out_of_reach() -> None:
    assert recommend(Case("mobile", instant_logout=True, shared_store=False)).use == "token"
    advice = recommend(Case("server-rendered", servers=10, instant_logout=True, shared_store=False))
    assert advice.use == "cookie-token"
    assert "out of reach without a shared store" in texts(advice.reasons)


def test_many_servers_with_a_shared_store_keep_sessions() -> None:
    advice = recommend(Case("server-rendered", servers=10, shared_store=True))
    assert advice.use == "session" and "10 servers share one store" in texts(advice.reasons)
    assert "Stateless scaling" in texts(advice.debatable)
    assert recommend(Case("server-rendered", servers=10, shared_store=False)).use == "cookie-token"


def test_services_and_other_verifiers_get_tokens() -> None:
    assert recommend(Case("service")).use == "token"
    assert recommend(Case("server-rendered", other_verifiers=True)).use == "token"


def test_a_case_refuses_unknown_clients_and_zero_servers() -> None:
    with pytest.raises(ValueError, match="client must be one of"):
        Case("desktop")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least 1"):
        Case(servers=0)


def test_every_answer_renders_with_its_links() -> None:
    advice = recommend(Case("mobile", instant_logout=True))
    markdown, html = advice.to_markdown(), advice.to_html()
    assert markdown.startswith("**Use: token") and "](06-Hybrid-Approaches.ipynb#" in markdown
    assert '<a href="06-Hybrid-Approaches.ipynb#' in html and "&#x27;" in html, "text is escaped"


def heading_anchors(path: Path) -> set[str]:
    anchors = set()
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if re.match(r"#{1,6} ", line):
                    anchors.add(line.lstrip("#").strip().replace(" ", "-"))
    return anchors


def test_every_link_into_an_existing_chapter_lands_on_one_of_its_headings() -> None:
    checked = 0
    for evidence in EVIDENCE.values():
        name, _, anchor = evidence.link.partition("#")
        path = NOTEBOOKS / name
        if path.exists() and anchor:
            assert anchor in heading_anchors(path), f"{evidence.link}: no such heading"
            checked += 1
    assert checked >= 4, "chapter 6's links at least are checked"


def test_the_form_follows_its_answers_and_shows_the_advice() -> None:
    guide = DecisionGuide()
    assert guide.advice.use == "session" and "Use: session" in guide.answer.value
    guide.client.value = "spa-cross-site"
    assert guide.case.client == "spa-cross-site"
    assert "Use: token" in guide.answer.value
    guide.instant_logout.value = True
    assert guide.answer.value == recommend(guide.case).to_html()
    assert "revocation blacklist" in guide.answer.value
    assert set(value for _, value in guide.client.options) == set(CLIENTS)
    assert repr(guide).endswith("use: token, revocation blacklist (one device) or version (everywhere)")


def test_a_saved_guide_shows_a_note_and_its_answer_not_its_widget_tree() -> None:
    guide = DecisionGuide(Case("spa-cross-site"))
    bundle = guide._repr_mimebundle_()
    assert bundle["text/plain"].startswith("Decision guide (a form") and "\n" not in bundle["text/plain"]
    assert "children=" not in bundle["text/plain"] and "Case(" not in bundle["text/plain"]
    assert guide.answer.value in bundle["text/html"]
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_the_form_starts_from_a_given_case() -> None:
    guide = DecisionGuide(Case("server-rendered", servers=4, shared_store=False))
    assert (guide.servers.value, guide.shared_store.value) == (4, False)
    assert guide.advice.use == "cookie-token"
