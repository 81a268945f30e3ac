"""The cookie explorer: its plain function, and the widget driven by setting its traits from Python."""

from __future__ import annotations

import pytest
from conftest import require

from authcourse.browserlab.browser import Browser, chromium_path
from authcourse.browserlab.servers import LabServer
from authcourse.widgets.cookie_explorer import CookieExplorer, cookie_header, explore_cookie


def test_the_header_lists_only_the_attributes_chosen():
    assert cookie_header("sid", "(absent)", False, False, "", "", None) == "sid=1"
    assert cookie_header("__Host-sid", "Strict", True, True, "/", "", 60) == \
        "__Host-sid=1; Max-Age=60; Path=/; Secure; HttpOnly; SameSite=Strict"


def test_explore_cookie_predicts_a_lax_cookie_on_a_cross_site_post_and_link():
    assert not explore_cookie(same_site="Lax", kind="form-post").verdict.sent
    assert explore_cookie(same_site="Lax", kind="navigate").verdict.sent
    assert explore_cookie(same_site="(absent)", kind="form-post", cookie_age=60).verdict.sent
    assert not explore_cookie(same_site="(absent)", kind="form-post", cookie_age=180).verdict.sent


def test_a_typed_address_is_always_a_navigation():
    assert explore_cookie(page="typed in the address bar", kind="img").request.kind == "navigate"


def test_the_widget_follows_its_controls():
    explorer = CookieExplorer()
    explorer.page.value = "cross-site"
    explorer.kind.value = "form-post"
    explorer.same_site.value = "Strict"
    assert "sent: False" in explorer.result.value and "SchemefulSameSiteStrict" in explorer.result.value
    explorer.same_site.value = "None"
    assert "sent: True" in explorer.result.value
    explorer.secure.value = False
    assert "stored: False" in explorer.result.value and "SameSiteNoneInsecure" in explorer.result.value
    assert explorer.run.disabled  # no browser given


def test_the_widget_shows_a_clear_message_for_input_it_cannot_judge():
    explorer = CookieExplorer()
    explorer.path.value = "/a\nb"
    assert "cannot judge that" in explorer.result.value and "control characters" in explorer.result.value


@pytest.mark.browser
def test_the_widget_runs_the_case_in_chromium():
    require(chromium_path(), "chromium not installed (apt-get install chromium, or set AUTHCOURSE_CHROMIUM)")
    with Browser() as browser, LabServer() as lab:
        explorer = CookieExplorer(browser, lab)
        explorer.same_site.value = "Lax"
        explorer.kind.value = "form-post"
        explorer.run.click()
        assert "sent: False" in explorer.live.value and "model agrees" in explorer.live.value
        assert "SchemefulSameSiteLax" in explorer.live.value


def test_a_saved_explorer_shows_a_note_and_its_case_not_its_widget_tree():
    explorer = CookieExplorer()
    bundle = explorer._repr_mimebundle_()
    assert bundle["text/plain"].startswith("Cookie explorer") and "\n" not in bundle["text/plain"]
    assert "children=" not in bundle["text/plain"]
    assert explorer.result.value in bundle["text/html"]


def test_a_lab_that_is_not_running_is_said_so_in_red_with_what_to_do():
    explorer = CookieExplorer(browser=object(), lab=LabServer())  # the lab never started (or was stopped)
    explorer.run.click()
    assert 'color:#c62828' in explorer.live.value and "Chromium run failed" in explorer.live.value
    assert "re-run the cell that starts them" in explorer.live.value
