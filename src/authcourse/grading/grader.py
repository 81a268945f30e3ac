"""`authcourse grade`: run every submitted notebook in a fresh kernel, with limits, and score it.

For each submission: read it (anything that is not a notebook scores 0 and says so), find which
exercise it is, take out every check cell the learner's copy holds (noting any that were edited,
deleted or duplicated) and append the reference check cells instead, so a learner can neither
break nor fake a check. A first cell, added by the grader, sets the kernel's memory limit and
turns on the hidden cases. Every cell has a time limit; an endless loop is interrupted and the
run goes on; a kernel that dies scores 0 for the checks it did not reach. Submissions run in
parallel, up to `jobs` at a time, each in its own kernel process.
"""

from __future__ import annotations

import asyncio
import csv
import re
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from tqdm import tqdm

from .checks import EXERCISES
from .notebooks import ReferenceExercise, check_id, checksum, identify, identify_by_name
from .runtime import RESULT_MIME

CELL_TIMEOUT = 60  # seconds a cell may run before it is interrupted
MEMORY_LIMIT = 2048  # MiB of address space for each submission's kernel
KERNEL_NAME = "authcourse-grader"
GRADER_CELL = "authcourse-grader"


class CurrentPython(KernelSpecManager):
    """Kernels run by this very Python (its packages, authcourse included), whatever is installed elsewhere."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name="authcourse grader",
            language="python",
        )


@dataclass
class Submission:
    path: Path
    learner: str


@dataclass
class Row:
    learner: str
    exercise: str
    score: int
    maximum: int
    failed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    path: str = ""
    seconds: float = 0.0  # how long grading it took
    details: list[str] = field(default_factory=list)  # one line per failed case, for the feedback file


def find_submissions(arguments: Sequence[str | Path]) -> list[Submission]:
    """Every file given, and every *.ipynb under every folder given; the learner from the path."""
    found: list[Submission] = []
    for argument in map(Path, arguments):
        if argument.is_dir():
            for path in sorted(argument.rglob("*.ipynb")):
                if ".ipynb_checkpoints" in path.parts:
                    continue
                relative = path.relative_to(argument)
                learner = relative.parts[0] if len(relative.parts) > 1 else path.stem
                found.append(Submission(path, learner))
        else:  # a file: named after its learner, unless it kept the exercise's name (then its folder is the learner)
            kept_name = identify_by_name(argument.name) is not None
            found.append(Submission(argument, argument.resolve().parent.name if kept_name else argument.stem))
    return found


def maximum_of(exercise: ReferenceExercise) -> int:
    return sum(len(EXERCISES[check.id].cases) for check in exercise.checks)


def grader_cell(memory_mib: int) -> nbformat.NotebookNode:
    source = (
        "import resource\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({memory_mib} * 2**20, {memory_mib} * 2**20))\n"
        "import authcourse.grading.runtime\n"
        "authcourse.grading.runtime.enable_grading()"
    )
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata[GRADER_CELL] = "setup"
    return cell


def prepared(
    notebook: nbformat.NotebookNode, exercise: ReferenceExercise, memory_mib: int
) -> tuple[nbformat.NotebookNode, list[str]]:
    """The notebook to run: the learner's code cells, then the reference check cells; and the notes."""
    notes: list[str] = []
    reference = {check.id: check for check in exercise.checks}
    seen: Counter[str] = Counter()
    code: list[nbformat.NotebookNode] = []
    for cell in notebook.cells:
        if cell.get("cell_type") != "code":
            continue
        found = check_id(cell)
        if found is None:
            code.append(nbformat.v4.new_code_cell(str(cell.get("source", ""))))
            continue
        seen[found] += 1
        if found in reference and seen[found] == 1 and checksum(str(cell.get("source", ""))) != reference[found].sha256:
            notes.append(f"check cell {found} was edited: restored from the reference")
    for check in exercise.checks:
        if seen[check.id] == 0:
            notes.append(f"check cell {check.id} was missing: restored from the reference")
        elif seen[check.id] > 1:
            notes.append(f"check cell {check.id} appeared {seen[check.id]} times: graded once")
    graded = nbformat.v4.new_notebook()
    graded.cells = [grader_cell(memory_mib), *code]
    for check in exercise.checks:
        cell = nbformat.v4.new_code_cell("from authcourse.grading import check\n" + check.source)
        cell.metadata[GRADER_CELL] = check.id
        graded.cells.append(cell)
    return graded, notes


def first_line(text: str) -> str:
    lines = [line for line in re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines() if line.strip()]
    return lines[0].strip() if lines else ""


async def run(notebook: nbformat.NotebookNode, timeout: int, folder: str) -> list[str]:
    """Execute every cell; return notes on what went wrong (errors, timeouts, a dead kernel)."""
    notes: list[str] = []
    manager = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=CurrentPython())
    client = NotebookClient(
        notebook,
        km=manager,
        timeout=timeout,
        allow_errors=True,
        interrupt_on_timeout=True,
        error_on_timeout={"ename": "CellTimeout", "evalue": f"the cell ran longer than {timeout} s", "traceback": []},
        record_timing=False,
        shutdown_kernel="immediate",
        resources={"metadata": {"path": folder}},
    )
    # The kernel process's own stderr (ipykernel start-up warnings) is not the learner's output, which comes over ZMQ.
    async with client.async_setup_kernel(cleanup_kc=True, stderr=subprocess.DEVNULL):
        for index, cell in enumerate(notebook.cells):
            started = time.monotonic()
            try:
                await client.async_execute_cell(cell, index)
            except DeadKernelError:
                where = cell.metadata.get(GRADER_CELL) or f"cell {index}"
                notes.append(f"the kernel died while running {where}: later cells were not run")
                break
            label = cell.metadata.get(GRADER_CELL)
            if time.monotonic() - started >= timeout:
                notes.append(
                    f"{'check ' + label if label else f'cell {index}'} timed out after {timeout} s (an endless loop?)"
                )
                continue
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error" and label != "setup":
                    what = f"{output.get('ename', 'Error')}: {first_line(str(output.get('evalue', '')))}"
                    notes.append(f"{'check ' + label if label else f'cell {index}'} raised {what}")
    return notes


def results_of(notebook: nbformat.NotebookNode) -> dict[str, dict[str, Any]]:
    """The machine-readable result each reference check cell emitted, by check id."""
    results: dict[str, dict[str, Any]] = {}
    for cell in notebook.cells:
        label = cell.metadata.get(GRADER_CELL)
        if label in (None, "setup"):
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if RESULT_MIME in data and isinstance(data[RESULT_MIME], dict) and data[RESULT_MIME].get("check") == label:
                results[label] = data[RESULT_MIME]
    return results


def grade_submission(submission: Submission, *, timeout: int = CELL_TIMEOUT, memory_mib: int = MEMORY_LIMIT) -> Row:
    started = time.monotonic()
    row = _grade(submission, timeout, memory_mib)
    row.seconds = time.monotonic() - started
    return row


def _grade(submission: Submission, timeout: int, memory_mib: int) -> Row:
    path = submission.path
    try:
        with warnings.catch_warnings():  # lenient: duplicated cell ids, missing ids... are repaired, not fatal
            warnings.simplefilter("ignore")
            notebook = nbformat.read(path, as_version=4)
        if not isinstance(notebook.get("cells"), list) or not all(isinstance(c, dict) for c in notebook.cells):
            raise ValueError("it has no list of cells")
    except Exception as error:  # not JSON, not a notebook, unreadable: this submission only
        exercise = identify_by_name(path.name)
        return Row(
            submission.learner,
            exercise.id if exercise else "unknown",
            0,
            maximum_of(exercise) if exercise else 0,
            ["all"],
            [f"not a notebook ({type(error).__name__}: {first_line(str(error))[:80]})"],
            str(path),
        )
    exercise = identify(notebook, path.name)
    if exercise is None:
        return Row(
            submission.learner,
            "unknown",
            0,
            0,
            [],
            ["no exercise of this course: no known check cell or file name"],
            str(path),
        )
    graded, notes = prepared(notebook, exercise, memory_mib)
    try:
        with tempfile.TemporaryDirectory(prefix="authcourse-grade-") as folder:
            notes += asyncio.run(run(graded, timeout, folder))
    except Exception as error:  # the kernel did not even start: say so, go on with the others
        notes.append(f"could not run the notebook: {type(error).__name__}: {first_line(str(error))}")
    results = results_of(graded)
    row = Row(submission.learner, exercise.id, 0, maximum_of(exercise), [], notes, str(path))
    for check in exercise.checks:
        result = results.get(check.id)
        if result is None:
            row.failed.append(f"{check.id}: all cases")
            row.details.append(f"{check.id}: the check did not finish (see the notes)")
            if not any(check.id in note or "kernel died" in note for note in notes):
                row.notes.append(f"check {check.id} gave no result")
            continue
        expected = len(EXERCISES[check.id].cases)
        if result.get("max") != expected or not 0 <= int(result.get("score", -1)) <= expected:
            row.failed.append(f"{check.id}: all cases")
            row.notes.append(
                f"check {check.id} reported {result.get('score')}/{result.get('max')}, not out of {expected}: ignored"
            )
            continue
        row.score += int(result["score"])
        row.failed += [str(case) for case in result["failed"]]
        row.details += [f"FAIL {case}: {reason}" for case, reason in zip(result["failed"], result.get("reasons", []))]
    return row


def grade(
    arguments: Sequence[str | Path],
    *,
    jobs: int = 2,
    timeout: int = CELL_TIMEOUT,
    memory_mib: int = MEMORY_LIMIT,
    progress: bool = True,
) -> list[Row]:
    """Grade every submission, `jobs` at a time; rows in the order of the submissions."""
    submissions = find_submissions(arguments)
    rows: list[Row | None] = [None] * len(submissions)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {
            pool.submit(grade_submission, submission, timeout=timeout, memory_mib=memory_mib): number
            for number, submission in enumerate(submissions)
        }
        with tqdm(total=len(futures), unit="notebook", disable=not progress, file=sys.stderr) as bar:
            for future in as_completed(futures):
                number = futures[future]
                try:
                    rows[number] = future.result()
                except Exception as error:  # a grader bug must not stop the class's run
                    sub = submissions[number]
                    rows[number] = Row(
                        sub.learner,
                        "unknown",
                        0,
                        0,
                        ["all"],
                        [f"grader error: {type(error).__name__}: {error}"],
                        str(sub.path),
                    )
                bar.update(1)
    return [row for row in rows if row is not None]


CSV_FIELDS = ("learner", "exercise", "score", "max", "failed", "notes", "path")


def write_csv(rows: Iterable[Row], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(CSV_FIELDS)
        for row in rows:
            writer.writerow(
                [
                    row.learner,
                    row.exercise,
                    row.score,
                    row.maximum,
                    "; ".join(row.failed),
                    "; ".join(row.notes),
                    row.path,
                ]
            )


def write_feedback(rows: Iterable[Row], folder: Path) -> list[Path]:
    """One short Markdown file per learner: each exercise's score, what failed, and the notes."""
    folder.mkdir(parents=True, exist_ok=True)
    by_learner: dict[str, list[Row]] = {}
    for row in rows:
        by_learner.setdefault(row.learner, []).append(row)
    written = []
    for learner, learner_rows in by_learner.items():
        lines = [f"# Feedback for {learner}", ""]
        for row in learner_rows:
            lines.append(f"## {row.exercise}: {row.score}/{row.maximum}")
            lines += [f"- {detail}" for detail in row.details]
            lines += [f"- note: {note}" for note in row.notes]
            if row.score == row.maximum and row.maximum:
                lines.append("- every case passed, hidden ones included")
            lines.append("")
        path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', learner)}.md"
        path.write_text("\n".join(lines), encoding="utf-8")
        written.append(path)
    return written


def summary(rows: Sequence[Row]) -> str:
    """A plain-text table: one line per learner and exercise, then the totals."""
    headers = ("learner", "exercise", "score", "notes")
    table = [(r.learner, r.exercise, f"{r.score}/{r.maximum}", "; ".join(r.notes)[:70]) for r in rows]
    widths = [max(len(str(item)) for item in column) for column in zip(headers, *table)]
    lines = [
        "  ".join(str(item).ljust(width) for item, width in zip(line, widths)).rstrip() for line in (headers, *table)
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    full = sum(r.score == r.maximum and r.maximum > 0 for r in rows)
    lines.append(f"{len(rows)} submissions: {full} full marks, {sum(r.score == 0 for r in rows)} zero")
    return "\n".join(lines)
