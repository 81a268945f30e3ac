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
