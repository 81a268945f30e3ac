"""Tests for tools/add_navigation.py: generated navigation and course map, idempotent."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("add_navigation", ROOT / "tools" / "add_navigation.py")
assert _spec is not None and _spec.loader is not None
navigation = importlib.util.module_from_spec(_spec)
sys.modules["add_navigation"] = navigation  # dataclasses look their module up there
_spec.loader.exec_module(navigation)


def write_notebook(path: Path, title: str, *extra: str) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\nSome prose."), nbformat.v4.new_code_cell("1 + 1")]
    notebook.cells += [nbformat.v4.new_markdown_cell(text) for text in extra]
    for number, cell in enumerate(notebook.cells):
        cell.id = f"cell-{number}"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)


@pytest.fixture
def course(tmp_path: Path) -> Path:
    write_notebook(tmp_path / "notebooks" / "00-Index.ipynb", "The course")
    write_notebook(tmp_path / "notebooks" / "01-Two-Approaches.ipynb", "Two approaches")
    write_notebook(tmp_path / "notebooks" / "02-Sessions.ipynb", "Sessions, taken apart")
    write_notebook(tmp_path / "notebooks" / "21-Extra.ipynb", "An extra chapter")
    write_notebook(tmp_path / "exercises" / "01-Sessions-Exercises.ipynb", "Exercises on sessions")
    (tmp_path / "notebooks" / "notes.ipynb").write_text("not a chapter: no number, never read")
    return tmp_path


def cells(path: Path) -> list[nbformat.NotebookNode]:
    return nbformat.read(path, as_version=4).cells


def snapshot(root: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in sorted(root.rglob("*.ipynb"))}


def test_running_twice_changes_nothing(course: Path) -> None:
    first = navigation.update(course)
    assert len(first) == 5, "every numbered notebook got its navigation"
    before = snapshot(course)
    assert navigation.update(course) == []
    assert snapshot(course) == before, "the second run rewrote a file"


def test_navigation_links_previous_contents_and_next_at_top_and_bottom(course: Path) -> None:
    navigation.update(course)
    chapter = cells(course / "notebooks" / "01-Two-Approaches.ipynb")
    expected = (
        "<!--NAVIGATION-->\n< [The course](00-Index.ipynb) | [Contents](00-Index.ipynb) | "
        "[Sessions, taken apart](02-Sessions.ipynb) >"
    )
    assert chapter[0].source == expected and chapter[-1].source == expected
    assert [cell.source.split("\n")[0] for cell in chapter[1:-1]] == ["# Two approaches", "1 + 1"], "content kept"
    last = cells(course / "notebooks" / "21-Extra.ipynb")[0].source
    assert last.endswith("[Contents](00-Index.ipynb) >"), "the last chapter has no next"
    first = cells(course / "notebooks" / "00-Index.ipynb")[0].source
    assert first.startswith("<!--NAVIGATION-->\n< [Contents](00-Index.ipynb) | [Two approaches]"), "no previous"


def test_exercises_link_to_the_course_index(course: Path) -> None:
    navigation.update(course)
    top = cells(course / "exercises" / "01-Sessions-Exercises.ipynb")[0].source
    assert top == "<!--NAVIGATION-->\n< [Contents](../notebooks/00-Index.ipynb) >"


def test_course_map_links_what_exists_and_marks_the_rest_coming(course: Path) -> None:
    navigation.update(course)
    index = cells(course / "notebooks" / "00-Index.ipynb")
    assert index[1].source.startswith("# The course"), "the introduction stays first"
    course_map = index[2].source
    assert course_map.startswith("<!--CONTENTS-->\n## Course map")
    lines = course_map.splitlines()
    assert any(line.startswith("1. [Two approaches](01-Two-Approaches.ipynb): ") for line in lines)
    assert any(line.startswith("2. [Sessions, taken apart](02-Sessions.ipynb): ") for line in lines)
    assert any(line.startswith("3. Token-based authentication *(coming)*: ") for line in lines)
    assert any(line.startswith("8. Key takeaways") for line in lines)
    assert "21. [An extra chapter](21-Extra.ipynb)" in lines, "a notebook outside the plan is listed too"
    assert "    - [Exercises on sessions](../exercises/01-Sessions-Exercises.ipynb)" in lines, "beside chapter 1"
    assert lines[lines.index("    - [Exercises on sessions](../exercises/01-Sessions-Exercises.ipynb)") - 1].startswith("1. ")
    assert "](0" not in course_map.split("3. Token-based")[1].split("21.")[0], "only existing notebooks are linked"


def test_hand_edited_generated_cells_are_replaced_not_duplicated(course: Path) -> None:
    navigation.update(course)
    path = course / "notebooks" / "02-Sessions.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[0].source = "<!--NAVIGATION-->\n< edited by hand >"
    notebook.cells.insert(2, nbformat.v4.new_markdown_cell("<!--NAVIGATION-->\nstray copy"))
    nbformat.write(notebook, path)
    assert navigation.update(course) == [path]
    sources = [cell.source for cell in cells(path)]
    assert sum(source.startswith("<!--NAVIGATION-->") for source in sources) == 2
    assert "edited by hand" not in "".join(sources)


def test_a_new_chapter_updates_its_neighbours(course: Path) -> None:
    navigation.update(course)
    write_notebook(course / "notebooks" / "03-Tokens.ipynb", "Tokens, taken apart")
    changed = {path.name for path in navigation.update(course)}
    assert changed == {"00-Index.ipynb", "02-Sessions.ipynb", "03-Tokens.ipynb", "21-Extra.ipynb"}


def test_check_mode_reports_and_changes_nothing(course: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(course)
    assert navigation.main(["--check", "--root", str(course)]) == 1
    assert snapshot(course) == before
    assert "out of date: notebooks/01-Two-Approaches.ipynb" in capsys.readouterr().out
    assert navigation.main(["--root", str(course)]) == 0
    assert navigation.main(["--check", "--root", str(course)]) == 0


def test_the_course_notebooks_are_up_to_date() -> None:
    stale = navigation.update(ROOT, check=True)
    assert stale == [], f"run: python tools/add_navigation.py (out of date: {[str(p) for p in stale]})"


def tag(path: Path, heading: str, *tags: str) -> None:
    """Give the cell whose source starts with `heading` these cell tags."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.source.startswith(heading):
            cell.metadata["tags"] = list(tags)
    nbformat.write(notebook, path)


def lesson_map(root: Path) -> list[str]:
    index = cells(root / "notebooks" / "00-Index.ipynb")
    found = [cell.source for cell in index if cell.source.startswith("<!--LESSON-MAP-->")]
    assert len(found) == 1, "one lesson map in the index"
    return found[0].splitlines()


def row(lines: list[str], title_start: str) -> str:
    matches = [line for line in lines if line.startswith(f"| {title_start}")]
    assert len(matches) == 1, (title_start, lines)
    return matches[0]


def test_the_lesson_map_follows_the_markers_and_degrades_to_whole_or_coming_chapters(course: Path) -> None:
    sessions = course / "notebooks" / "02-Sessions.ipynb"
    write_notebook(sessions, "Sessions, taken apart", "## The `Set-Cookie` header\n\nIts attributes.",
                   "Not a heading, tagged: linked through the heading above.")
    tag(sessions, "## The `Set-Cookie`", "lesson-2")
    tag(sessions, "Not a heading", "lesson-2", "lesson-explain-1")
    navigation.update(course)
    lines = lesson_map(course)
    assert lines[0] == "<!--LESSON-MAP-->" and "| the lesson | shown in |" in lines
    assert row(lines, "1. Two") == "| 1. Two fundamentally different approaches | chapter 1, " \
        "[the whole chapter](01-Two-Approaches.ipynb) |", "no markers: the whole chapter"
    assert row(lines, "2. Session").endswith(
        "| chapter 2, [The `Set-Cookie` header](02-Sessions.ipynb#The-Set-Cookie-header) |"), "one link, no repeat"
    assert row(lines, "3. Token").endswith("| chapter 3 *(coming)* |")
    assert row(lines, "Explain it: ten servers").endswith(
        "| chapter 8 *(coming)*<br>chapter 2, [The `Set-Cookie` header](02-Sessions.ipynb#The-Set-Cookie-header) |")
    assert len([line for line in lines if line.startswith("| ") and "---" not in line]) == 12, "11 sections + header"


def test_the_lesson_map_is_rewritten_not_duplicated(course: Path) -> None:
    navigation.update(course)
    before = snapshot(course)
    assert navigation.update(course) == [] and snapshot(course) == before
    index = cells(course / "notebooks" / "00-Index.ipynb")
    assert [cell.source.split("\n")[0] for cell in index[:4]] == [
        "<!--NAVIGATION-->", "# The course", "<!--CONTENTS-->", "<!--LESSON-MAP-->"]


def test_anchors_are_jupyterlab_heading_ids() -> None:
    assert navigation.anchor("Pattern 1: a JWT in an HttpOnly cookie") == "Pattern-1:-a-JWT-in-an-HttpOnly-cookie"
    assert navigation.anchor("Key the entry on the `jti`, not **the** token") == "Key-the-entry-on-the-jti,-not-the-token"


def test_a_chapter_in_two_parts_is_listed_under_its_number_and_navigated_in_order(course: Path) -> None:
    stores = course / "notebooks" / "02b-Stores.ipynb"
    write_notebook(stores, "Session stores, measured", "## Four stores\n\nMeasured.")
    tag(stores, "## Four stores", "lesson-2")
    navigation.update(course)
    lines = cells(course / "notebooks" / "00-Index.ipynb")[2].source.splitlines()
    chapter_2 = lines.index(next(line for line in lines if line.startswith("2. [Sessions, taken apart](02-Sessions")))
    assert lines[chapter_2 + 1] == "    - continued: [Session stores, measured](02b-Stores.ipynb)"
    assert not any(line.startswith("2. [Session stores") for line in lines), "one chapter 2, not two"
    assert cells(stores)[0].source == ("<!--NAVIGATION-->\n< [Sessions, taken apart](02-Sessions.ipynb) | "
                                       "[Contents](00-Index.ipynb) | [An extra chapter](21-Extra.ipynb) >")
    assert row(lesson_map(course), "2. Session").endswith(
        "| chapter 2, [Four stores](02b-Stores.ipynb#Four-stores) |"), "the part's marked heading, not 'whole chapter'"
