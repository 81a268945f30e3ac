"""`authcourse grade` on the attack labs (issue 17): solved is what a fresh target, run by the grader's
worker outside the sandbox, saw that run of the notebook do; nothing the notebook prints, returns or
patches in its own kernel counts, and a solution of another lab opens another door. The browser labs
the same way, with the bank and the victim's Chromium in the worker."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
from conftest import require

from authcourse.browserlab.browser import chromium_path
from authcourse.cli import main
from authcourse.grading.notebooks import identify_lab, labs

ROOT = Path(__file__).resolve().parents[1]
LAB1 = "11-Lab-JWT-1-Unverified-Signature.ipynb"
LAB2 = "11-Lab-JWT-2-Alg-None.ipynb"
LAB7 = "11-Lab-JWT-7-Key-Confusion.ipynb"
BROWSER1 = "12-Lab-Browser-1-CSRF-SameSite-None.ipynb"
BROWSER3 = "12-Lab-Browser-3-GET-Through-Lax.ipynb"

# A blank lab whose notebook claims success every way it can, in its own kernel: prints the target's
# "Solved" line, makes lab.check() and the verdict function say solved, and displays a forged status.
FAKE = """
import authcourse.vulnerable.labs as labs_module
solved = {"lab": "jwt-unverified", "door": "unverified", "solved": True, "attempts": 1, "why": None, "hardened": []}
labs_module.vulnerable_lab_verdict = lambda url, lab_id, **kwargs: dict(solved)
labs_module.VulnerableLabSession.status = lambda self: dict(solved)
said = "Solved: the `unverified` door served bob's admin page"
labs_module.VulnerableLabSession.check = lambda self: print(said) or True
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
    bob = {"email": "bob@example.com", "password": "builder"}
    return httpx.post(f"{door}/login", json=bob, timeout=10).json()["token"]
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
        assert lab.kind == ("jwt" if path.name.startswith("11-") else "browser")
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


def test_without_the_sandbox_the_kernel_still_attacks_the_graders_target(tmp_path: Path) -> None:
    (tmp_path / "ada").mkdir()
    shutil.copy(ROOT / "solutions" / LAB1, tmp_path / "ada" / LAB1)
    out = tmp_path / "grades.csv"
    assert main(["grade", str(tmp_path / "ada"), "--csv", str(out), "--quiet", "--no-sandbox"]) == 0
    (only,) = read_rows(out).values()
    assert only["score"] == only["max"] == "1" and "WITHOUT a sandbox" in only["notes"], only


# The browser labs: the bank and alice's Chromium run in the grader's worker ---------------------------

BROWSER_FAKE = """
import authcourse.vulnerable.browserlabs as browserlabs
solved = {"lab": "csrf-samesite-none", "hardened": False, "solved": True, "why": None, "attempts": [], "stolen": 0}
browserlabs.VulnerableBrowserLabRemote.status = lambda self: dict(solved)
browserlabs.VulnerableBrowserLabSession.status = lambda self: dict(solved)
lab.check()
print("Solved: the bank moved alice's money on her own session (Cross-site form against SameSite=None).")
"""
# The attacker logs in as alice herself (her password is no secret here) and transfers: not her browser's session.
OWN_LOGIN = """
def attack(lab) -> str:
    import httpx
    from authcourse.auth import SESSION_COOKIE
    login = httpx.post(f"{lab.url}/login", json={"email": "alice@example.com", "password": "wonderland"})
    cookie = {"Cookie": f"{SESSION_COOKIE}={login.cookies[SESSION_COOKIE]}"}
    moved = httpx.post(f"{lab.url}/lab/attack/transfer", data={"to": "mallory", "amount": "1000"}, headers=cookie)
    print(moved.status_code, moved.text)
    return lab.evil + "/lab/attack/page/none"
"""


@pytest.fixture(scope="module")
def graded_browser_labs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    require(shutil.which("bwrap"), "bwrap not installed (apt-get install bubblewrap)")
    require(chromium_path(), "chromium not installed (apt-get install chromium, or set AUTHCOURSE_CHROMIUM)")
    folder = tmp_path_factory.mktemp("browser-labs")
    submissions = folder / "submissions"

    def save(learner: str, name: str, notebook: nbformat.NotebookNode) -> None:
        (submissions / learner).mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, submissions / learner / name)

    save("solved", BROWSER1, notebook_of("solutions", BROWSER1))
    fake = notebook_of("exercises", BROWSER1)
    fake.cells.append(nbformat.v4.new_code_cell(BROWSER_FAKE))
    save("fake-solved", BROWSER1, fake)
    other = notebook_of("solutions", BROWSER3)  # the GET-through-Lax solution, handed in as lab 1
    other.metadata["authcourse"]["lab"] = "csrf-samesite-none"
    save("wrong-lab", BROWSER1, other)
    own = notebook_of("solutions", BROWSER1)
    attack = next(cell for cell in own.cells if cell.cell_type == "code" and cell.source.startswith("def attack"))
    attack.source = OWN_LOGIN
    save("own-login", BROWSER1, own)
    out = folder / "grades.csv"
    assert main(["grade", str(submissions), "--csv", str(out), "--jobs", "2", "--timeout", "30", "--quiet"]) == 0
    return {"rows": read_rows(out), "feedback": folder / "feedback"}


@pytest.mark.browser
def test_a_browser_lab_solution_is_solved_by_the_graders_bank_and_chromium(graded_browser_labs: dict[str, Any]) -> None:
    item = row(graded_browser_labs, "solved", "csrf-samesite-none")
    assert (item["score"], item["max"], item["notes"]) == ("1", "1", ""), item


@pytest.mark.browser
def test_a_blank_browser_lab_that_claims_success_in_its_kernel_is_not_solved(
    graded_browser_labs: dict[str, Any],
) -> None:
    item = row(graded_browser_labs, "fake-solved", "csrf-samesite-none")
    assert (item["score"], item["max"], item["failed"]) == ("0", "1", "solved"), item
    assert "raised NotImplementedError" in item["notes"]
    assert "the target says: the victim has visited nothing yet" in feedback(graded_browser_labs, "fake-solved")


@pytest.mark.browser
def test_another_browser_labs_solution_does_not_solve_this_one(graded_browser_labs: dict[str, Any]) -> None:
    item = row(graded_browser_labs, "wrong-lab", "csrf-samesite-none")
    assert (item["score"], item["failed"]) == ("0", "solved"), item
    assert "this bank refuses a transfer on GET" in feedback(graded_browser_labs, "wrong-lab")


@pytest.mark.browser
def test_a_transfer_on_the_attackers_own_login_as_alice_is_not_solved(graded_browser_labs: dict[str, Any]) -> None:
    item = row(graded_browser_labs, "own-login", "csrf-samesite-none")
    assert (item["score"], item["failed"]) == ("0", "solved"), item


@pytest.mark.browser
def test_the_graders_visit_route_answers_bad_input_with_a_json_4xx() -> None:
    require(chromium_path(), "chromium not installed (apt-get install chromium, or set AUTHCOURSE_CHROMIUM)")
    import httpx

    from authcourse.vulnerable.browserlabs import VulnerableBrowserLabSession, vulnerable_add_grader_routes

    session = VulnerableBrowserLabSession("csrf-samesite-none")
    try:
        url = vulnerable_add_grader_routes(session)
        where = httpx.get(f"{url}/lab/attack/where", timeout=10).json()
        assert where["lab"] == "csrf-samesite-none" and where["bank"].startswith("https://bank.test:")
        for body in (b"not json", b"[]", b'{"link": "x"}', b'{"url": 5}', b'{"url": "javascript:alert(1)"}'):
            response = httpx.post(f"{url}/lab/attack/visit", content=body, timeout=30)
            assert response.status_code == 400 and "error" in response.json(), (body, response.text)
        assert session.status()["visits"] == 0, "nothing bad reached the victim's browser"
        page = httpx.post(f"{url}/lab/attack/visit", json={"url": where["evil"] + "/lab/other"}, timeout=30)
        assert page.status_code == 200 and session.status()["visits"] == 1, page.text
    finally:
        session.stop()
