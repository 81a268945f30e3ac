"""`authcourse grade` on the attack labs (issue 17): solved is what a fresh target, run by the grader's
worker outside the sandbox, saw that run of the notebook do; nothing the notebook prints, returns or
patches in its own kernel counts, and a solution of another lab opens another door."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
from conftest import require

from authcourse.cli import main
from authcourse.grading.notebooks import identify_lab, labs

ROOT = Path(__file__).resolve().parents[1]
LAB1 = "11-Lab-JWT-1-Unverified-Signature.ipynb"
LAB2 = "11-Lab-JWT-2-Alg-None.ipynb"
LAB7 = "11-Lab-JWT-7-Key-Confusion.ipynb"
BROWSER1 = "12-Lab-Browser-1-CSRF-SameSite-None.ipynb"

# A blank lab whose notebook claims success every way it can, in its own kernel: prints the target's
# "Solved" line, makes lab.check() and the verdict function say solved, and displays a forged status.
FAKE = """
import authcourse.vulnerable.labs as labs_module
solved = {"lab": "jwt-unverified", "door": "unverified", "solved": True, "attempts": 1, "why": None, "hardened": []}
labs_module.vulnerable_lab_verdict = lambda url, lab_id, **kwargs: dict(solved)
labs_module.VulnerableLabSession.status = lambda self: dict(solved)
labs_module.VulnerableLabSession.check = lambda self: print("Solved: the `unverified` door served bob's admin page") or True
lab.check()
print("Solved: the `unverified` door served bob's admin page to your token (Forge a token).")
"""
# The real attack, but against a target the kernel starts for itself: the notebook's own check says solved.
OWN_TARGET = """
import os
os.environ.pop("AUTHCOURSE_LAB_URL", None)
"""
# Logging in as bob with his password is not the attack: the target issued that token itself.
AS_BOB = """
def attack(door: str) -> str:
    return httpx.post(f"{door}/login", json={"email": "bob@example.com", "password": "builder"}, timeout=10).json()["token"]
"""


def notebook_of(folder: str, name: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / folder / name, as_version=4)


def insert(notebook: nbformat.NotebookNode, source: str, *, after_first_code: bool) -> nbformat.NotebookNode:
    codes = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    notebook.cells.insert(codes[0] + 1 if after_first_code else codes[0], nbformat.v4.new_code_cell(source))
    return notebook


def build_class(folder: Path) -> None:
    def save(learner: str, name: str, notebook: nbformat.NotebookNode) -> None:
        (folder / learner).mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, folder / learner / name)

    save("solved", LAB1, notebook_of("solutions", LAB1))
    save("solved", LAB7, notebook_of("solutions", LAB7))
    save("blank", LAB1, notebook_of("exercises", LAB1))
    fake = notebook_of("exercises", LAB1)
    fake.cells.append(nbformat.v4.new_code_cell(FAKE))
    save("fake-solved", LAB1, fake)
    save("own-target", LAB1, insert(notebook_of("solutions", LAB1), OWN_TARGET, after_first_code=False))
    bob = notebook_of("solutions", LAB1)
    attack = next(cell for cell in bob.cells if cell.cell_type == "code" and cell.source.startswith("def attack"))
    attack.source = AS_BOB
    save("logged-in-as-bob", LAB1, bob)
    # Lab 2's solved notebook handed in as lab 1: marked as lab 1, and under lab 1's name.
    other = notebook_of("solutions", LAB2)
    other.metadata["authcourse"]["lab"] = "jwt-unverified"
    save("wrong-lab", LAB1, other)
    save("renamed-lab", LAB1, notebook_of("solutions", LAB2))  # only renamed: it says it is lab 2
    save("browser", BROWSER1, notebook_of("solutions", BROWSER1))


def read_rows(path: Path) -> dict[tuple[str, str], dict[str, str]]:
    with path.open(newline="") as file:
        return {(row["learner"], row["exercise"]): row for row in csv.DictReader(file)}


@pytest.fixture(scope="module")
def graded_labs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    require(shutil.which("bwrap"), "bwrap not installed (apt-get install bubblewrap)")
    folder = tmp_path_factory.mktemp("labs")
    build_class(folder / "submissions")
    out = folder / "grades.csv"
    assert main(["grade", str(folder / "submissions"), "--csv", str(out), "--jobs", "2", "--timeout", "30",
                 "--quiet"]) == 0
    return {"rows": read_rows(out), "feedback": folder / "feedback"}


def row(graded: dict[str, Any], learner: str, lab: str) -> dict[str, str]:
    return graded["rows"][(learner, lab)]


def feedback(graded: dict[str, Any], learner: str) -> str:
    return (graded["feedback"] / f"{learner}.md").read_text()


def test_every_lab_notebook_is_known_to_the_grader_and_the_jwt_ones_are_graded() -> None:
    for path in sorted((ROOT / "solutions").glob("1?-Lab-*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        lab = identify_lab(notebook, path.name)
        assert lab is not None and lab.id == notebook.metadata["authcourse"]["lab"] and lab.notebook == path.name
        assert identify_lab(None, f"ada-{path.name}") == lab, "known by its file name alone"
        assert lab.graded == path.name.startswith("11-"), "the JWT labs are graded, the browser labs are not (yet)"
    assert len(labs()) == 12


def test_a_solved_lab_is_graded_solved_by_its_fresh_target(graded_labs: dict[str, Any]) -> None:
    for lab in ("jwt-unverified", "jwt-key-confusion"):
        item = row(graded_labs, "solved", lab)
        assert (item["score"], item["max"], item["notes"]) == ("1", "1", ""), item
    assert "solved: the lab's own target saw your attack work" in feedback(graded_labs, "solved")


def test_a_blank_lab_is_not_solved_and_the_feedback_gives_the_targets_reason(graded_labs: dict[str, Any]) -> None:
    item = row(graded_labs, "blank", "jwt-unverified")
    assert (item["score"], item["max"], item["failed"]) == ("0", "1", "solved"), item
    assert "raised NotImplementedError" in item["notes"]
    assert "the target says: no request reached the goal yet" in feedback(graded_labs, "blank")


def test_a_notebook_that_prints_or_patches_solved_in_its_kernel_is_not_solved(graded_labs: dict[str, Any]) -> None:
    item = row(graded_labs, "fake-solved", "jwt-unverified")
    assert (item["score"], item["failed"]) == ("0", "solved"), item


def test_the_attack_on_a_target_of_the_kernels_own_is_not_solved(graded_labs: dict[str, Any]) -> None:
    item = row(graded_labs, "own-target", "jwt-unverified")
    assert (item["score"], item["notes"]) == ("0", ""), "the notebook ran without an error, solving its own target"
    assert "no request reached the goal yet" in feedback(graded_labs, "own-target")


def test_bobs_own_token_is_not_the_attack(graded_labs: dict[str, Any]) -> None:
    assert row(graded_labs, "logged-in-as-bob", "jwt-unverified")["score"] == "0"
    assert "logging in as bob is not the attack" in feedback(graded_labs, "logged-in-as-bob")


def test_a_solution_of_lab_2_handed_in_as_lab_1_does_not_solve_lab_1(graded_labs: dict[str, Any]) -> None:
    item = row(graded_labs, "wrong-lab", "jwt-unverified")
    assert (item["score"], item["failed"]) == ("0", "solved"), item
    renamed = row(graded_labs, "renamed-lab", "jwt-alg-none")
    assert ("renamed-lab", "jwt-unverified") not in graded_labs["rows"], "never counted as lab 1"
    assert "the file is named for lab jwt-unverified, but the notebook is lab jwt-alg-none" in renamed["notes"]


def test_a_browser_lab_is_reported_as_checked_in_its_notebook_only(graded_labs: dict[str, Any]) -> None:
    item = row(graded_labs, "browser", "csrf-samesite-none")
    assert (item["score"], item["max"]) == ("0", "0") and "browser labs are not graded" in item["notes"], item


def test_without_the_sandbox_the_kernel_still_attacks_the_graders_target(tmp_path: Path) -> None:
    (tmp_path / "ada").mkdir()
    shutil.copy(ROOT / "solutions" / LAB1, tmp_path / "ada" / LAB1)
    out = tmp_path / "grades.csv"
    assert main(["grade", str(tmp_path / "ada"), "--csv", str(out), "--quiet", "--no-sandbox"]) == 0
    (only,) = read_rows(out).values()
    assert only["score"] == only["max"] == "1" and "WITHOUT a sandbox" in only["notes"], only
