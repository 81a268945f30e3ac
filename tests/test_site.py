"""The course's website (`python3 dev.py site`): built from the notebooks, then checked in Chromium.

The site is built once, into a temporary folder, the way dev.py builds it, and every page is
opened from disk (file://), as by a reader who downloaded it, with no network (and a few pages
served over HTTP on loopback, as a web host would serve them): each page loads
with no console error, no failed request and no request leaving the site; every internal link,
anchor and image resolves; each chapter shows its headings and the outputs its notebook stores;
the widgets are drawn from their saved state; the search finds chapter 11; previous/next walk
the course map. What is expected is read from the notebooks themselves.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from playwright.sync_api import Browser, sync_playwright

from authcourse.browserlab.browser import chromium_path  # the one import of the browser lab in this file
from conftest import require

ROOT = Path(__file__).resolve().parents[1]
INDEX = ROOT / "notebooks" / "00-Index.ipynb"
CHAPTERS = sorted(path for path in (ROOT / "notebooks").glob("[0-9][0-9]*-*.ipynb") if path != INDEX)
NOTEBOOKS = CHAPTERS + sorted((ROOT / "exercises").glob("[0-9][0-9]*-*.ipynb"))  # every page but the home page
SITE_BUILD = ["-m", "sphinx", "-b", "html", "-W", "--keep-going", "-c", "site"]  # as dev.py (there with -q)
SEARCH_TERM = "jwks"  # a word of chapter 11 (RFC 8725's key sets) that no other chapter uses
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
ANSI = re.compile(r"\x1b\[[0-9;]*m")

# What each page shows, read in the page once it has loaded and its widgets are drawn.
READ_PAGE = """() => {
  const text = (element) => {
    const copy = element.cloneNode(true);
    copy.querySelectorAll('.headerlink').forEach((link) => link.remove());
    return copy.textContent.replace(/\\s+/g, ' ').trim();
  };
  const article = document.querySelector('article') || document.body;
  const note = document.querySelector('.run-it-yourself');
  return {
    headings: [...article.querySelectorAll('h1, h2, h3')].map(text),
    text: article.innerText,
    links: [...document.querySelectorAll('a[href], link[href]')].map((a) => [a.href, a.hasAttribute('download')]),
    images: [...document.images].map((img) => [img.src, img.complete && img.naturalWidth > 0]),
    outputImages: article.querySelectorAll('.cell_output img').length,
    ids: [...document.querySelectorAll('[id]')].map((element) => element.id),
    widgets: [...document.querySelectorAll('.widget-subarea')].map((area) => ({
      text: area.innerText,
      fields: [...area.querySelectorAll('input, textarea')].map((field) => field.value),
      choices: [...area.querySelectorAll('select')].map((select) => select.selectedOptions[0]?.textContent ?? ''),
      noted: area.closest('.cell')?.previousElementSibling?.matches('.saved-widget') ?? false,
    })),
    runNote: note ? {text: note.innerText, download: note.querySelector('a.download')?.href ?? null} : null,
    previous: document.querySelector('a.left-prev')?.href ?? null,
    next: document.querySelector('a.right-next')?.href ?? null,
  };
}"""

# Widgets are drawn after the page has loaded: wait until every saved view has its element.
WIDGETS_DRAWN = """() => {
  const views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length;
  const drawn = [...document.querySelectorAll('.widget-subarea')].filter((area) => area.children.length > 0);
  return drawn.length >= views;
}"""


@dataclass
class Page:
    """One page of the site as Chromium showed it."""

    path: Path
    problems: list[str]  # console errors, script errors, failed requests, requests leaving the site
    seen: dict[str, Any]  # what READ_PAGE read


def build(out: Path, doctrees: Path, *options: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, *SITE_BUILD, *options, "-d", str(doctrees), ".", str(out)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once for the session (a failed build, or any Sphinx warning, fails here)."""
    base = tmp_path_factory.mktemp("site")
    built = build(base / "html", base / "doctrees", "-q")
    assert built.returncode == 0, built.stdout + built.stderr
    return base / "html"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    require(chromium_path(), "chromium not installed (apt-get install chromium, or set AUTHCOURSE_CHROMIUM)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path())
        yield browser
        browser.close()


def open_page(chromium: Browser, path: Path, *, query: str = "", color_scheme: str = "light",
              site: Path | None = None, served: str | None = None) -> tuple[Any, list[str]]:
    """Open a page of the site, from disk or as `served` (the site's base URL) serves it.

    Return the Playwright page and the list its problems go to.
    """
    context = chromium.new_context(color_scheme=color_scheme)
    problems: list[str] = []

    def outside(route: Any) -> None:
        problems.append(f"request leaving the site: {route.request.url}")
        route.abort()

    inside = "file:" if served is None else re.escape(served)
    context.route(re.compile(rf"^(?!{inside}|data:|blob:|about:)"), outside)
    page = context.new_page()
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
            if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url} {request.failure}"))
    page.on("response", lambda response: problems.append(f"{response.status}: {response.url}")
            if response.status >= 400 else None)
    url = path.as_uri() if served is None else served + path.relative_to(site).as_posix()
    page.goto(url + (f"?{query}" if query else ""), wait_until="load")
    return page, problems


@pytest.fixture(scope="module")
def pages(chromium: Browser, site: Path) -> dict[Path, Page]:
    """Every page of the site, by its path relative to the site, as Chromium showed it."""
    found = {}
    for path in sorted(site.rglob("*.html")):
        if path.relative_to(site).parts[0] == "_static" or path == site / "index.html":
            continue  # the theme's own templates, not pages; the redirect to the home page has its own test
        page, problems = open_page(chromium, path)
        try:
            page.wait_for_function(WIDGETS_DRAWN, timeout=15_000)
        except Exception:
            problems.append("its widgets were not drawn within 15 s")
        seen = page.evaluate(READ_PAGE)
        page.context.close()
        found[path.relative_to(site)] = Page(path, problems, seen)
    return found


def page_of(notebook: Path) -> Path:
    return notebook.relative_to(ROOT).with_suffix(".html")


def site_path(site: Path, url: str | None) -> Path | None:
    """The path, relative to the site, of a file:// URL into it; None for any other URL."""
    parts = urlsplit(url or "")
    path = Path(unquote(parts.path))
    return path.relative_to(site) if parts.scheme == "file" and path.is_relative_to(site) else None


def cells(notebook: Path) -> list[dict[str, Any]]:
    return json.loads(notebook.read_text(encoding="utf-8"))["cells"]


def headings_of(notebook: Path) -> list[str]:
    """The notebook's headings down to ###, as rendered text (no backticks, stars or link targets)."""
    found = []
    for cell in cells(notebook):
        if cell["cell_type"] != "markdown":
            continue
        fenced = preformatted = False
        for line in "".join(cell["source"]).splitlines():
            if line.lstrip().startswith(("```", "~~~")):
                fenced = not fenced
            opened, closed = line.rfind("<pre"), line.rfind("</pre>")  # code inside HTML is no heading
            preformatted = opened > closed or (preformatted and closed < 0)
            match = None if fenced or preformatted else re.match(r"^#{1,3} +(.+?) *#*$", line)
            if match:
                text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", match.group(1))
                found.append(" ".join(re.sub(r"[`*]", "", text).split()))
    return found


def stored_outputs(notebook: Path) -> tuple[list[str], int]:
    """The first line of each stored text output (stream, plain result, error), and the number of images."""
    lines, images = [], 0
    for cell in cells(notebook):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if output["output_type"] == "stream":
                text = "".join(output["text"])
            elif output["output_type"] == "error":
                text = f"{output['ename']}: {output['evalue']}"
            elif "image/png" in data:
                images += 1
                continue
            elif set(data) == {"text/plain"}:
                text = "".join(data["text/plain"])
            else:
                continue  # widgets are checked on their own; HTML and markdown are rendered, not printed
            first = next((line for line in ANSI.sub("", text).splitlines() if line.strip()), None)
            if first is not None:
                lines.append(" ".join(first.split()))
    return lines, images


def course_map_order() -> list[Path]:
    """The pages in the order of the index's course map: the home page, then each chapter and its exercises."""
    sources = ["".join(cell["source"]) for cell in cells(INDEX)]
    contents = next(source for source in sources if source.startswith("<!--CONTENTS-->"))
    targets = re.findall(r"\]\(([^)#\s]+\.ipynb)\)", contents)
    return [page_of(INDEX)] + [page_of((INDEX.parent / target).resolve()) for target in targets]


# The checks --------------------------------------------------------------------------------------


@pytest.mark.browser
def test_every_page_loads_with_no_console_error_and_no_failed_or_outside_request(pages):
    assert len(pages) >= len(NOTEBOOKS) + 1
    troubled = {str(path): page.problems for path, page in pages.items() if page.problems}
    assert not troubled, troubled


@pytest.mark.browser
def test_every_notebook_of_the_course_has_a_page_and_no_solution_has_one(site, pages):
    assert {page_of(notebook) for notebook in [INDEX, *NOTEBOOKS]} <= set(pages)
    assert not any(path.parts[0] == "solutions" for path in pages)
    leaked = [str(path) for path in site.rglob("*") if path.is_file() and b"BEGIN SOLUTION" in path.read_bytes()]
    assert not leaked, f"solution code on the site: {leaked}"


@pytest.mark.browser
def test_every_internal_link_and_anchor_resolves_and_every_image_loads(site, pages):
    broken = []
    for path, page in pages.items():
        for url, is_download in page.seen["links"]:
            where = f"{path}: {url}"
            target = site_path(site, url)
            if target is None:
                if url.startswith("file:"):
                    broken.append(f"{where}: a file outside the site")
                continue  # http(s) and mailto links leave the site on purpose; nothing fetches them
            if not (site / target).is_file():
                broken.append(f"{where}: no such file")
            elif target.suffix == ".ipynb" and not is_download:
                broken.append(f"{where}: a link to a notebook file, not to its page")
            fragment = unquote(urlsplit(url).fragment)
            if fragment and target.suffix == ".html" and target in pages and fragment not in pages[target].seen["ids"]:
                broken.append(f"{where}: no element with id {fragment!r} there")
        broken += [f"{path}: image {src} did not load" for src, loaded in page.seen["images"] if not loaded]
    assert not broken, "\n".join(broken)


@pytest.mark.browser
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_each_chapter_shows_its_headings_and_its_stored_outputs(notebook, pages):
    seen = pages[page_of(notebook)].seen
    missing = [heading for heading in headings_of(notebook) if heading not in seen["headings"]]
    assert not missing, f"headings not on the page: {missing}; the page has {seen['headings']}"
    lines, images = stored_outputs(notebook)
    text = " ".join(seen["text"].split())
    absent = [line for line in lines if line not in text]
    assert not absent, f"stored outputs not on the page: {absent}"
    assert seen["outputImages"] == images, "every stored image (the charts) is on the page, once"
    if notebook.parent.name == "notebooks":
        assert lines or images, "a chapter with no stored output to look for"


@pytest.mark.browser
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_each_chapter_says_how_to_run_it_and_links_to_its_notebook(notebook, site, pages):
    note = pages[page_of(notebook)].seen["runNote"]
    assert note is not None, "no run-it-yourself note"
    assert "python3 dev.py lab" in note["text"] and notebook.relative_to(ROOT).as_posix() in note["text"]
    download = site / site_path(site, note["download"])
    assert download.read_bytes() == notebook.read_bytes(), "the download is the notebook itself"


def saved_views(notebook: Path) -> list[tuple[str, dict[str, Any]]]:
    """(model id, the saved state of every model) for each widget the notebook shows, in order."""
    saved = json.loads(notebook.read_text(encoding="utf-8"))["metadata"].get("widgets", {})
    state = saved.get(WIDGET_STATE, {}).get("state", {})
    return [(output["data"][WIDGET_VIEW]["model_id"], state) for cell in cells(notebook)
            for output in cell.get("outputs", []) if WIDGET_VIEW in output.get("data", {})]


def expected_in_view(model_id: str, state: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """What a widget drawn from saved state must show: texts of its HTML and labels, field values, chosen options."""
    texts, fields, choices = [], [], []
    pending = [model_id]
    while pending:
        model = state[pending.pop()]
        name, values = model["model_name"], model["state"]
        if name in ("HTMLModel", "LabelModel") and values.get("value"):
            plain = " ".join(re.sub(r"<[^>]+>", " ", values["value"]).split())
            texts.append(plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")[:60])
        elif name in ("TextModel", "TextareaModel") and values.get("value"):
            fields.append(values["value"])
        elif name == "DropdownModel" and values.get("index") is not None:
            choices.append(values["_options_labels"][values["index"]])
        pending += [child.removeprefix("IPY_MODEL_") for child in values.get("children", [])]
    return texts, fields, choices


WIDGET_NOTEBOOKS = [notebook for notebook in NOTEBOOKS if saved_views(notebook)]


def test_the_chapters_with_widgets_save_their_state():
    names = {notebook.stem[:2] for notebook in WIDGET_NOTEBOOKS}
    assert {"03", "05", "07"} <= names, "the JWT inspector, the decision guide and the cookie explorer"


@pytest.mark.browser
@pytest.mark.parametrize("notebook", WIDGET_NOTEBOOKS, ids=lambda path: path.stem)
def test_widgets_are_drawn_from_their_saved_state_with_a_note(notebook, pages):
    drawn = pages[page_of(notebook)].seen["widgets"]
    views = saved_views(notebook)
    assert len(drawn) == len(views), f"{len(views)} widgets saved, {len(drawn)} drawn"
    for (model_id, state), widget in zip(views, drawn):
        texts, fields, choices = expected_in_view(model_id, state)
        assert texts or fields or choices
        shown = "".join(widget["text"].split())  # HTML's spacing is the browser's: compare without it
        assert [text for text in texts if "".join(text.split()) not in shown] == [], widget["text"]
        assert [field for field in fields if field not in widget["fields"]] == [], widget["fields"]
        chosen = [choice.replace("\xa0", " ") for choice in widget["choices"]]  # ipywidgets spaces them so
        assert [choice for choice in choices if choice not in chosen] == [], chosen
        assert widget["noted"], "the note before it, that the widget has no Python behind it"


@pytest.mark.browser
def test_search_works_offline_and_finds_chapter_11(site, chromium):
    page, problems = open_page(chromium, site / "search.html", query=f"q={SEARCH_TERM}")
    try:
        page.wait_for_selector("#search-results li a", timeout=15_000)
        hrefs = page.eval_on_selector_all("#search-results li a", "links => links.map((link) => link.href)")
        found = [site_path(site, href) for href in hrefs]
    finally:
        page.context.close()
    assert Path("notebooks/11-Attacks-on-JWTs.html") in found, found
    assert not problems, problems


@pytest.mark.browser
def test_the_home_page_and_previous_next_walk_the_course_map(site, pages, chromium):
    page, problems = open_page(chromium, site / "index.html")  # what a reader opens first
    try:
        page.wait_for_url(re.compile(r"/notebooks/00-Index\.html$"))
    finally:
        page.context.close()
    assert not problems, problems
    order = course_map_order()
    assert set(order) == {page_of(notebook) for notebook in [INDEX, *NOTEBOOKS]}, "the map lists every notebook"
    walked, path = [], order[0]
    while path is not None and path not in walked:
        walked.append(path)
        following = pages[path].seen["next"]
        path = site_path(site, following)
    assert walked == order
    for before, after in zip(order, order[1:]):
        assert site_path(site, pages[after].seen["previous"]) == before, after


@pytest.mark.browser
def test_a_light_and_a_dark_theme(site, chromium):
    shades = {}
    for scheme in ("light", "dark"):
        chapter = site / "notebooks" / "04-The-Comparison-Measured.html"
        page, problems = open_page(chromium, chapter, color_scheme=scheme)
        try:
            shades[scheme] = page.evaluate("""() => [document.documentElement.dataset.theme,
                getComputedStyle(document.body).backgroundColor.match(/\\d+/g).slice(0, 3).map(Number)]""")
            if scheme == "light":  # the theme menu switches a light page to dark
                page.click(".theme-switch-button")
                page.click('.theme-change-button[data-mode="dark"]')
                shades["switched"] = page.evaluate("document.documentElement.dataset.theme")
        finally:
            page.context.close()
        assert not problems, problems
    assert shades["light"][0] == "light" and shades["dark"][0] == "dark" and shades["switched"] == "dark"
    assert sum(shades["light"][1]) > 600 and sum(shades["dark"][1]) < 150, shades


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    """The site served over HTTP on a free loopback port, as a web host would serve it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.mark.browser
def test_served_over_http_pages_load_cleanly_and_the_search_shows_excerpts(site, served, chromium):
    for path in ["index.html", "notebooks/03-Token-Based-Authentication.html"]:  # the home page; a widget
        page, problems = open_page(chromium, site / path, site=site, served=served)
        try:
            page.wait_for_url(re.compile(r"/notebooks/[^/]+\.html$"))  # index.html leads to the home page
        finally:
            page.context.close()
        assert not problems, (path, problems)
    page, problems = open_page(chromium, site / "search.html", query=f"q={SEARCH_TERM}", site=site, served=served)
    try:
        page.wait_for_selector("#search-results li p.context", timeout=15_000)  # fetched from the page found
        excerpt = page.inner_text("#search-results li p.context")
    finally:
        page.context.close()
    assert SEARCH_TERM in excerpt.lower() and not problems, (excerpt, problems)


def test_an_unchanged_rebuild_reads_no_notebook_again(site):
    built = build(site, site.parent / "doctrees")
    assert built.returncode == 0, built.stdout + built.stderr
    assert "0 added, 0 changed, 0 removed" in built.stdout, built.stdout
