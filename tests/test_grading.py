"""Tests for authcourse.grading: the check runtime, check cells and their checksums, exercises/ in
sync with solutions/, and `authcourse grade` over a class holding every kind of broken submission."""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import shutil
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import nbformat
import pytest
from conftest import require

from authcourse.cli import main
from authcourse.grading.grader import find_submissions, prepared
from authcourse.grading.notebooks import BEGIN, END, check_id, checksum, reference, stub_solutions
from authcourse.grading.runtime import Exercise, Fail, evaluate, expect

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("make_exercises", ROOT / "tools" / "make_exercises.py")
assert _spec is not None and _spec.loader is not None
make_exercises = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_exercises)


# The runtime -------------------------------------------------------------------------------------


class Local:
    """The names of a notebook, as a judge's target: what the runtime's own tests need of a harness."""

    def __init__(self, names: dict[str, Any]) -> None:
        self.names = names

    def missing(self, names: tuple[str, ...]) -> list[str]:
        return [name for name in names if name not in self.names]

    def stop_all(self) -> None:
        pass


def toy_exercise(**kwargs: Any) -> Exercise:
    kwargs.setdefault("context", lambda target: nullcontext(target.names))
    exercise = Exercise("toy", ("answer",), **kwargs)

    @exercise.case("answer(2) is 4")
    def doubles(ns: Any) -> None:
        expect(ns["answer"](2) == 4, "answer(2) must be 4")

    @exercise.case("answer(3) is 6", hidden=True)
    def hidden(ns: Any) -> None:
        expect(ns["answer"](3) == 6, "answer(3) must be 6")

    return exercise


def test_hidden_cases_run_only_when_grading() -> None:
    exercise = toy_exercise()
    assert evaluate(exercise, Local({"answer": lambda x: 2 * x}), hidden=False).maximum == 1
    report = evaluate(exercise, Local({"answer": lambda x: 4 if x == 2 else 0}), hidden=True)
    assert (report.score, report.maximum, report.failed) == (1, 2, ["answer(3) is 6"])


def test_an_endless_loop_costs_one_case_and_the_rest_are_not_run() -> None:
    def forever(x: int) -> int:
        while True:
            time.sleep(0.01)

    started = time.monotonic()
    report = evaluate(toy_exercise(), Local({"answer": forever}), hidden=True, timeout=0.3)
    assert time.monotonic() - started < 2
    assert [o.reason for o in report.outcomes] == [
        "did not finish within 0.3 s (an endless loop?)",
        "not run: your code is still stuck in an earlier case",
    ]


def test_a_learner_exception_is_one_line_and_its_traceback_is_kept_for_traceback_true() -> None:
    report = evaluate(toy_exercise(), Local({"answer": lambda x: {}["sid"]}), hidden=False)
    outcome = report.outcomes[0]
    assert outcome.reason == "your code raised KeyError: 'sid'"
    assert "Traceback" in outcome.trace
    assert "Traceback" not in "\n".join(report.lines()) and "Traceback" in "\n".join(report.lines(show_traces=True))


def test_a_missing_name_or_a_failing_setup_fails_every_case_with_the_reason() -> None:
    missing = evaluate(toy_exercise(), Local({}), hidden=True)
    assert missing.score == 0 and all("answer is not defined" in o.reason for o in missing.outcomes)

    @contextmanager
    def broken(target: Any) -> Any:
        raise NotImplementedError()
        yield

    report = evaluate(toy_exercise(context=broken), Local({"answer": abs}), hidden=True)
    assert report.score == 0 and all("not implemented yet" in o.reason for o in report.outcomes)


def test_fail_is_what_expect_raises() -> None:
    with pytest.raises(Fail, match="nope"):
        expect(False, "nope")


# Check cells, stubs, and the one source -----------------------------------------------------------


def test_stubs_replace_each_answer_at_its_indentation_and_unbalanced_markers_are_refused() -> None:
    source = f"def f():\n    {BEGIN}\n    return 1\n    {END}\n\nx = 1"
    assert stub_solutions(source) == "def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\nx = 1"
    with pytest.raises(ValueError):
        stub_solutions(f"{BEGIN}\nx = 1")
    with pytest.raises(ValueError):
        stub_solutions(f"x = 1\n{END}")


def test_every_check_cell_carries_its_id_and_checksum_in_solutions_and_exercises() -> None:
    for exercise in reference().values():
        for folder in ("solutions", "exercises"):
            cells = [c for c in nbformat.read(ROOT / folder / exercise.notebook, as_version=4).cells if check_id(c)]
            assert [check_id(c) for c in cells] == [check.id for check in exercise.checks]
            for cell in cells:
                assert cell.metadata["authcourse"]["sha256"] == checksum(cell.source)
                assert cell.source.startswith(f"# CHECK {check_id(cell)}: do not edit")


def test_exercises_hold_no_answer_and_no_output() -> None:
    for exercise in reference().values():
        notebook = nbformat.read(ROOT / "exercises" / exercise.notebook, as_version=4)
        text = json.dumps(notebook)
        assert "BEGIN SOLUTION" not in text and "raise NotImplementedError()" in text
        assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


def test_exercises_and_the_reference_are_in_sync_with_solutions() -> None:
    assert make_exercises.main(["--check"]) == 0, "run: python tools/make_exercises.py"


def test_the_sync_check_fails_when_an_exercise_differs_from_its_solution(tmp_path: Path) -> None:
    for folder in ("solutions", "exercises"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    (tmp_path / make_exercises.REFERENCE).parent.mkdir(parents=True)
    shutil.copy(ROOT / make_exercises.REFERENCE, tmp_path / make_exercises.REFERENCE)
    shutil.copy(ROOT / make_exercises.LABS, tmp_path / make_exercises.LABS)
    assert make_exercises.main(["--check", "--root", str(tmp_path)]) == 0
    path = tmp_path / "exercises" / "02-Exercise-Require-Session.ipynb"
    path.write_text(path.read_text().replace("raise NotImplementedError()", "return None"))
    assert make_exercises.main(["--check", "--root", str(tmp_path)]) == 1
    assert make_exercises.main(["--root", str(tmp_path)]) == 0
    assert make_exercises.main(["--check", "--root", str(tmp_path)]) == 0, "regenerating repairs it"


def test_prepared_notebooks_hold_only_the_learners_cells_numbered_as_the_learner_sees_them() -> None:
    exercise = reference()["session-fixation"]
    notebook = nbformat.read(ROOT / "exercises" / exercise.notebook, as_version=4)
    checks = [cell for cell in notebook.cells if check_id(cell)]
    checks[0].source = 'print("Score: 6/6")'  # edited, metadata kept
    notebook.cells.remove(checks[1])  # deleted
    notebook.cells.append(checks[0].copy())  # duplicated
    graded, notes = prepared(notebook, exercise, 1024)
    assert notes == [
        "check cell fixation-login was edited: the grader runs its own cases, not the cell",
        "check cell fixation-login appeared 2 times: graded once",
        "check cell fixation-regenerate was missing: the grader runs its own cases anyway",
    ]
    assert 'print("Score: 6/6")' not in json.dumps(graded) and "check(" not in json.dumps(graded)
    numbers = [c.metadata.get("authcourse-learner-cell") for c in graded.cells[1:]]
    code = [i for i, c in enumerate(notebook.cells, start=1) if c.cell_type == "code" and not check_id(c)]
    assert numbers == code


def test_no_hidden_case_ships_in_the_package_and_the_learners_check_runs_only_visible_ones() -> None:
    package = ROOT / "src" / "authcourse" / "grading"
    assert not [p for p in package.rglob("*.py") if re.search(r"\.case\(.*hidden=True", p.read_text())]
    assert (ROOT / "grading-hidden").is_dir() and "grading-hidden" not in (ROOT / "pyproject.toml").read_text()


def test_learners_are_named_by_their_folder_or_their_file(tmp_path: Path) -> None:
    (tmp_path / "ada").mkdir()
    (tmp_path / "ada" / "02-Exercise-Require-Session.ipynb").write_text("{}")
    (tmp_path / "grace.ipynb").write_text("{}")
    assert [(s.learner, s.path.name) for s in find_submissions([tmp_path])] == [
        ("ada", "02-Exercise-Require-Session.ipynb"),
        ("grace", "grace.ipynb"),
    ]


# authcourse grade, end to end ----------------------------------------------------------------------


def notebook_of(folder: str, name: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / folder / name, as_version=4)


def with_cell(notebook: nbformat.NotebookNode, source: str, before_check: bool = True) -> nbformat.NotebookNode:
    position = (
        next(i for i, cell in enumerate(notebook.cells) if check_id(cell)) if before_check else len(notebook.cells)
    )
    notebook.cells.insert(position, nbformat.v4.new_code_cell(source))
    return notebook


REQUIRE = "02-Exercise-Require-Session.ipynb"
REFRESH = "10-Exercise-Refresh-Tokens.ipynb"
FIXATION = "09-Exercise-Session-Fixation.ipynb"
DENYLIST = "06-Exercise-Denylist-Logout.ipynb"


# Tampering, each kind the issue lists, on a blank answer (worth 0): what the old grader let through.
RUNTIME_PATCH = """
import authcourse.grading.runtime as runtime
real_evaluate = runtime.evaluate
def evaluate(exercise, namespace, **kwargs):
    report = real_evaluate(exercise, namespace, **kwargs)
    return runtime.Report(report.check, [runtime.Outcome(o.case, True, "", o.hidden) for o in report.outcomes])
runtime.evaluate = evaluate
import authcourse.grading.harness as harness
harness.Harness.op_errors = lambda self, server: {"last": None}
"""
IPYTHON_HOOK = """
from IPython import get_ipython
from IPython.display import display
def forge(result):
    print("Check require-session:\\nScore: 10/10")
    display({"application/vnd.authcourse.check+json": {"check": "require-session", "score": 8, "max": 8,
             "failed": [], "reasons": []}}, raw=True)
get_ipython().events.register("post_run_cell", forge)
"""
DAEMON = """
import os, sys
DAEMON = r'''
import csv, glob, os, sys, time
deadline = time.time() + 240
while time.time() < deadline:
    for path in glob.glob("/tmp/**/grades.csv", recursive=True):
        rows = list(csv.reader(open(path)))
        if any(row and row[0] == "tamper-daemon" and row[2] != row[3] for row in rows):
            time.sleep(0.5)
            rows = [row[:2] + [row[3], row[3], "", ""] + row[6:] if row and row[0] == "tamper-daemon" else row
                    for row in csv.reader(open(path))]
            csv.writer(open(path, "w", newline="")).writerows(rows)
            os.makedirs(os.path.join(os.path.dirname(path), "feedback"), exist_ok=True)
            open(os.path.join(os.path.dirname(path), "feedback", "forged.md"), "w").write("# forged")
    time.sleep(0.2)
'''
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", DAEMON, "authcourse-tamper-daemon"])
    os._exit(0)
"""
READ_HIDDEN = f"""
import pathlib, re, authcourse
package = pathlib.Path(authcourse.__file__).parent
found = [p for p in package.rglob("*.py") if re.search(r".case\\(.*hidden=True", p.read_text())]
assert not found, "hidden cases in the package: " + ", ".join(map(str, found))
print(open({str(ROOT / "grading-hidden" / "require_session.py")!r}).read()[:40])
"""
STDOUT_ROW = """
import json, os
forged = {"learner": "tamper-stdout", "exercise": "require-session", "score": 10, "maximum": 10}
for fd in (1, 2):
    os.write(fd, ("\\n" + json.dumps(forged) + "\\n").encode())
"""
# What the sandbox refuses, one cell each (every one must raise), in a solved notebook that still gets full marks.
PROBES = {
    # No traffic leaves this machine in a test: the probe asks which interfaces the kernel has (only a loopback).
    "network": "import socket\nassert [name for _, name in socket.if_nameindex()] != ['lo'], 'a loopback only'",
    "read-only system": "open('/usr/lib/authcourse-probe', 'w')",
    "read-only package": "import authcourse, pathlib\n(pathlib.Path(authcourse.__file__).parent / 'x.py').write_text('')",
    "other files": f"open({str(ROOT / 'README.md')!r}).read()",
    "own processes only": "import os\nassert len([p for p in os.listdir('/proc') if p.isdigit()]) > 50, 'few processes'",
    "no capabilities": "import os\nos.chroot('/tmp')",
}
TAMPERING = {
    "tamper-runtime": RUNTIME_PATCH,
    "tamper-ipython-hook": IPYTHON_HOOK,
    "tamper-daemon": DAEMON,
    "tamper-read-hidden": READ_HIDDEN,
    "tamper-stdout": STDOUT_ROW,
}


def build_class(folder: Path) -> None:
    def save(learner: str, name: str, notebook: nbformat.NotebookNode | str) -> None:
        (folder / learner).mkdir(parents=True, exist_ok=True)
        path = folder / learner / name
        if isinstance(notebook, str):
            path.write_text(notebook)
        else:
            nbformat.write(notebook, path)

    for name in (REQUIRE, REFRESH, FIXATION):
        save("solved", name, notebook_of("solutions", name))
    save("blank", REQUIRE, notebook_of("exercises", REQUIRE))
    save("blank", FIXATION, notebook_of("exercises", FIXATION))

    partial = notebook_of("solutions", DENYLIST)
    for cell in partial.cells:
        cell.source = cell.source.replace(', "revoked", ttl=remaining)', ', "revoked")')  # a denylist without TTL
    save("partial", DENYLIST, partial)

    broken = notebook_of("solutions", REQUIRE)
    for cell in broken.cells:
        cell.source = cell.source.replace("def require_session(request, auth):", "def require_session(request, auth)")
    save("syntax-error", REQUIRE, broken)

    save("endless-loop", REFRESH, with_cell(notebook_of("solutions", REFRESH), "while True:\n    pass"))

    deleted = notebook_of("solutions", REQUIRE)
    deleted.cells = [cell for cell in deleted.cells if not check_id(cell)]
    save("deleted-check", REQUIRE, deleted)

    duplicated = notebook_of("solutions", REQUIRE)
    duplicated.cells += [cell.copy() for cell in duplicated.cells if cell.cell_type == "code"]
    save("duplicated-cells", REQUIRE, json.dumps(duplicated))  # the copies keep their ids, as in a hand-edited file

    edited = notebook_of("exercises", REQUIRE)
    for cell in edited.cells:
        if check_id(cell):
            cell.source = 'print("Check require-session:\\nScore: 8/8")'
    save("edited-check", REQUIRE, edited)

    save("kernel-crash", REFRESH, with_cell(notebook_of("solutions", REFRESH), "import os\nos._exit(1)"))
    save("memory-hog", REQUIRE, with_cell(notebook_of("solutions", REQUIRE), "hog = bytearray(8 * 2**30)"))
    save("not-a-notebook", REQUIRE, "this is my homework, sorry\n")
    probe = notebook_of("solutions", REQUIRE)
    for source in reversed(PROBES.values()):
        with_cell(probe, source)
    save("sandbox-probe", REQUIRE, probe)
    for learner, source in TAMPERING.items():
        save(learner, REQUIRE, with_cell(notebook_of("exercises", REQUIRE), source))
    save("json-not-notebook", REFRESH, '{"cells": 5}')


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    require(shutil.which("bwrap"), "bwrap not installed (apt-get install bubblewrap)")
    folder = tmp_path_factory.mktemp("class")
    build_class(folder / "submissions")
    out = folder / "grades.csv"
    assert (
        main(["grade", str(folder / "submissions"), "--csv", str(out), "--jobs", "2", "--timeout", "8", "--quiet"]) == 0
    )
    with out.open(newline="") as file:
        rows = {(row["learner"], row["exercise"]): row for row in csv.DictReader(file)}
    return {"rows": rows, "feedback": folder / "feedback", "csv": out, "folder": folder}


def row(graded_class: dict[str, Any], learner: str, exercise: str) -> dict[str, str]:
    return graded_class["rows"][(learner, exercise)]


def full(item: dict[str, str]) -> bool:
    return item["score"] == item["max"] and int(item["max"]) > 0


def test_solutions_get_full_marks_hidden_cases_included(graded_class: dict[str, Any]) -> None:
    for exercise in ("require-session", "refresh-tokens", "session-fixation"):
        item = row(graded_class, "solved", exercise)
        assert full(item) and item["notes"] == "", item
    assert row(graded_class, "solved", "require-session")["max"] == "10", "5 visible + 5 hidden cases"


def test_blank_exercises_get_zero_without_stopping_the_run(graded_class: dict[str, Any]) -> None:
    for exercise in ("require-session", "session-fixation"):
        item = row(graded_class, "blank", exercise)
        assert item["score"] == "0" and int(item["max"]) > 0, item


def test_a_partly_wrong_answer_gets_partial_marks_and_the_failed_cases(graded_class: dict[str, Any]) -> None:
    item = row(graded_class, "partial", "denylist-logout")
    assert 0 < int(item["score"]) < int(item["max"])
    assert "the denylist entry expires (it has a TTL)" in item["failed"]


def test_a_syntax_error_scores_zero_with_the_reason(graded_class: dict[str, Any]) -> None:
    item = row(graded_class, "syntax-error", "require-session")
    assert item["score"] == "0" and "raised SyntaxError" in item["notes"]
    cells = notebook_of("solutions", REQUIRE).cells
    answer = next(i for i, c in enumerate(cells, 1) if "def require_session" in c.source)
    assert f"cell {answer} raised SyntaxError" in item["notes"], "the cell's number in the learner's notebook"


def test_an_endless_loop_is_interrupted_and_the_rest_is_graded(graded_class: dict[str, Any]) -> None:
    item = row(graded_class, "endless-loop", "refresh-tokens")
    assert "timed out after 8 s" in item["notes"]
    assert full(item), "the loop broke nothing else"


def test_a_deleted_check_cell_is_restored_and_noted(graded_class: dict[str, Any]) -> None:
    item = row(graded_class, "deleted-check", "require-session")
    assert full(item) and "check cell require-session was missing" in item["notes"]


def test_duplicated_cells_are_graded_once(graded_class: dict[str, Any]) -> None:
    item = row(graded_class, "duplicated-cells", "require-session")
    assert full(item) and "appeared 2 times: graded once" in item["notes"]


def test_an_edited_check_cell_is_restored_and_cannot_fake_a_score(graded_class: dict[str, Any]) -> None:
    item = row(graded_class, "edited-check", "require-session")
    assert item["score"] == "0" and "was edited: the grader runs its own cases" in item["notes"]


def test_a_kernel_crash_scores_zero_for_what_it_did_not_reach(graded_class: dict[str, Any]) -> None:
    item = row(graded_class, "kernel-crash", "refresh-tokens")
    assert item["score"] == "0" and "the kernel died" in item["notes"]


def test_the_memory_limit_stops_a_hog_and_the_checks_still_run(graded_class: dict[str, Any]) -> None:
    item = row(graded_class, "memory-hog", "require-session")
    assert "raised MemoryError" in item["notes"] and full(item)


def test_files_that_are_not_notebooks_score_zero_with_the_reason(graded_class: dict[str, Any]) -> None:
    text = row(graded_class, "not-a-notebook", "require-session")
    assert text["score"] == "0" and text["max"] == "10" and text["notes"].startswith("not a notebook")
    json_file = row(graded_class, "json-not-notebook", "refresh-tokens")
    assert json_file["score"] == "0" and json_file["notes"].startswith("not a notebook")


def test_each_learner_gets_a_feedback_file_naming_what_failed(graded_class: dict[str, Any]) -> None:
    learners = {learner for learner, _ in graded_class["rows"]}
    assert {path.stem for path in graded_class["feedback"].glob("*.md")} == learners
    partial = (graded_class["feedback"] / "partial.md").read_text()
    assert "## denylist-logout: " in partial and "grows forever" in partial
    failed = [line for line in partial.splitlines() if line.startswith("- FAIL ")]
    item = row(graded_class, "partial", "denylist-logout")
    assert len(failed) == int(item["max"]) - int(item["score"]), "one line per failed case"
    assert all(": " in line and "(denylist-logout)" in line for line in failed), failed
    assert "every case passed" in (graded_class["feedback"] / "solved.md").read_text()


def test_learner_code_that_hangs_the_live_server_fails_one_case_and_skips_the_rest() -> None:
    from authcourse.grading.checks import EXERCISES

    def require_session(request: Any, auth: Any) -> Any:
        time.sleep(6)  # longer than the checks' HTTP timeout (5 s); ends, so the server thread can stop
        raise NotImplementedError()

    report = evaluate(EXERCISES["require-session"], {"require_session": require_session}, hidden=False)
    reasons = [outcome.reason for outcome in report.outcomes]
    assert reasons[0] == "the server did not answer within 5 s: does your code loop forever?"
    assert set(reasons[1:]) == {"not run: your code is still stuck in an earlier case"}


# Tampering: each kind the issue lists gets the score its real (blank) answer deserves ---------------


def test_replacing_the_check_runtime_in_the_kernel_changes_nothing(graded_class: dict[str, Any]) -> None:
    assert row(graded_class, "tamper-runtime", "require-session")["score"] == "0"


def test_an_ipython_hook_printing_a_forged_result_changes_nothing(graded_class: dict[str, Any]) -> None:
    assert row(graded_class, "tamper-ipython-hook", "require-session")["score"] == "0"


def test_a_forged_row_written_to_the_processes_stdout_changes_nothing(graded_class: dict[str, Any]) -> None:
    assert row(graded_class, "tamper-stdout", "require-session")["score"] == "0"


def test_a_double_forked_process_dies_with_its_submission_and_rewrites_nothing(graded_class: dict[str, Any]) -> None:
    time.sleep(2)  # the daemon polls every 0.2 s: had it survived, it would have struck by now
    with graded_class["csv"].open(newline="") as file:
        rows = {r["learner"]: r for r in csv.DictReader(file)}
    assert rows["tamper-daemon"]["score"] == "0", rows["tamper-daemon"]
    alive = [p for p in Path("/proc").glob("[0-9]*/cmdline") if b"authcourse-tamper-daemon" in _read(p)]
    assert not alive, "a process of a graded submission outlived its grading"


def test_the_output_folder_holds_only_what_the_grader_wrote(graded_class: dict[str, Any]) -> None:
    time.sleep(1)
    learners = {learner for learner, _ in graded_class["rows"]}
    assert {p.name for p in graded_class["feedback"].iterdir()} == {f"{learner}.md" for learner in learners}


def test_the_hidden_cases_cannot_be_read_from_the_kernel(graded_class: dict[str, Any]) -> None:
    item = row(graded_class, "tamper-read-hidden", "require-session")
    assert item["score"] == "0" and "raised FileNotFoundError" in item["notes"], item


def test_the_sandbox_refuses_network_writes_other_files_and_capabilities(graded_class: dict[str, Any]) -> None:
    item = row(graded_class, "sandbox-probe", "require-session")
    assert full(item), item
    notes = item["notes"]
    assert "raised AssertionError: a loopback only" in notes, "a network namespace with a loopback only"
    assert notes.count("Read-only file system") == 2
    assert "raised FileNotFoundError" in notes, "the repository is not in the sandbox"
    assert "raised AssertionError: few processes" in notes, "a PID namespace of its own"
    assert "raised PermissionError: [Errno 1] Operation not permitted" in notes, "no CAP_SYS_CHROOT"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def test_without_bwrap_the_grader_refuses_unless_told_no_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "ada").mkdir()
    shutil.copy(ROOT / "solutions" / REQUIRE, tmp_path / "ada" / REQUIRE)
    monkeypatch.setattr("authcourse.grading.sandbox.bwrap", lambda: None)
    out = tmp_path / "grades.csv"
    assert main(["grade", str(tmp_path / "ada"), "--csv", str(out), "--quiet"]) == 2
    assert "bwrap" in capsys.readouterr().err and not out.exists()
    assert main(["grade", str(tmp_path / "ada"), "--csv", str(out), "--quiet", "--no-sandbox"]) == 0
    assert "WARNING" in capsys.readouterr().err
    with out.open(newline="") as file:
        (only,) = list(csv.DictReader(file))
    assert only["score"] == only["max"] and "WITHOUT a sandbox" in only["notes"]
