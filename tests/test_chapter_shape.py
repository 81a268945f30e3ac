"""Chapters a learner finishes: short prose, small cells, a bounded length, a check of understanding.

Chapter 1 is the model: no markdown cell over 200 words, code cells of a few lines (the median at
most 5), and a "Check your understanding" at the end. A chapter that grows past the cell budget is
split into a second notebook (`02b-...`), which the course map lists as "continued".
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CHAPTERS = sorted(path for path in NOTEBOOKS.glob("[0-9][0-9]*-*.ipynb") if not path.name.startswith("00-"))
MAX_WORDS = 200  # per markdown cell
MAX_MEDIAN_CODE_LINES = 5
MAX_CELLS = 46  # "about 40" cells of content, the two navigation cells not counted
GENERATED = ("<!--NAVIGATION-->", "<!--CONTENTS-->")


def words(markdown: str) -> int:
    """Words a reader reads: link targets and HTML tags are not words."""
    text = re.sub(r"\]\([^)]*\)", "]", markdown)
    text = re.sub(r"<[^>]+>", " ", text)
    return len(re.findall(r"[A-Za-z0-9][\w'’.-]*", text))


def content_cells(path: Path) -> list[nbformat.NotebookNode]:
    cells = nbformat.read(path, as_version=4).cells
    return [cell for cell in cells if not cell.source.startswith(GENERATED)]


def test_the_word_count_skips_link_targets_and_tags() -> None:
    assert words("See [chapter 4](04-The-Comparison-Measured.ipynb#Two-servers) <b>now</b>.") == 4


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_no_markdown_cell_is_a_wall_of_text(path: Path) -> None:
    long = [(index, words(cell.source)) for index, cell in enumerate(content_cells(path))
            if cell.cell_type == "markdown" and words(cell.source) > MAX_WORDS]
    assert long == [], f"markdown cells over {MAX_WORDS} words (index, words): split them"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_code_cells_are_small(path: Path) -> None:
    lines = [len([line for line in cell.source.splitlines() if line.strip()])
             for cell in content_cells(path) if cell.cell_type == "code"]
    assert statistics.median(lines) <= MAX_MEDIAN_CODE_LINES, sorted(lines)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_a_chapter_is_finishable_and_ends_with_a_check_of_understanding(path: Path) -> None:
    cells = content_cells(path)
    assert len(cells) <= MAX_CELLS, f"{len(cells)} cells: split the chapter into a continued notebook"
    assert any(cell.source.startswith("## Check your understanding") for cell in cells[-4:])


# Case(client=...), CookieExplorer(children=...), <x object at 0x...>
REPR = re.compile(r"\b[A-Z][A-Za-z]+\((?:children=|[a-z_]+=)|<[\w.]+ object at 0x")
RICH = ("text/html", "text/markdown", "image/png", "image/svg+xml")  # what JupyterLab shows before text/plain
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def shown_texts(output: nbformat.NotebookNode) -> list[str]:
    """The plain text a reader of the saved notebook sees: streams, and text/plain with nothing richer beside it.

    A widget's output is a view of a model that is gone once the kernel stops, so JupyterLab falls
    back to its other forms: its text/plain must be the widget's note, not its repr.
    """
    if output.output_type == "stream":
        return [output.text]
    if output.output_type not in ("display_data", "execute_result"):
        return []
    data = output.data
    if WIDGET_VIEW in data or not any(kind in data for kind in RICH):
        return [data.get("text/plain", "")]
    return []


def test_the_dump_pattern_sees_a_widget_repr_and_a_dataclass() -> None:
    assert REPR.search("CookieExplorer(children=(HBox(children=(VBox(")
    assert REPR.search("Case(client='spa-cross-site', servers=3)")
    assert not REPR.search("token, revocation blacklist (one device) or version (everywhere)")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_no_stored_output_is_a_python_object_dump(path: Path) -> None:
    dumps = [(index, match.group(0)) for index, cell in enumerate(content_cells(path)) if cell.cell_type == "code"
             for output in cell.outputs for text in shown_texts(output) for match in [REPR.search(text)] if match]
    assert dumps == [], "outputs a reader sees as a Python repr: give them a table, a sentence or a widget note"
