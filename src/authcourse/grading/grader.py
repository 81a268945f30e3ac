"""`authcourse grade`: each submitted notebook in a sandboxed kernel, judged from outside it.

For each submission, a worker process (`worker.py`): read it (anything that is not a notebook
scores 0 and says so), find which exercise it is, note check cells that were edited, deleted or
duplicated, and run only the learner's code cells (not the check cells) in a fresh kernel inside
the sandbox (`sandbox.py`), then the grader's harness cell (`harness.py`). The worker's judge
then runs every case of the exercise, hidden ones included, over HTTP and against the shared
store, and counts the score from what it saw (see the package docstring). Every cell has a time
limit; an endless loop is interrupted and the run goes on; a kernel that dies, or a harness that
cannot start, scores 0. Submissions run in parallel, up to `jobs` at a time. Notes name cells by
their number in the learner's notebook (every cell counted, from 1).
"""

from __future__ import annotations

import asyncio
import csv
import json
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
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

from ..fleet.sharedstore import SharedStore
from ..stores import open_store
from . import sandbox as sandboxing
from .checks import EXERCISES, HIDDEN_FOLDER, default_hidden, load_hidden
from .notebooks import ReferenceExercise, check_id, checksum, identify, identify_by_name, identify_lab, labs
from .remote import Remote
from .runtime import evaluate

CELL_TIMEOUT = 60  # seconds a cell may run before it is interrupted
MEMORY_LIMIT = 2048  # MiB of address space for each submission's kernel
KERNEL_NAME = "authcourse-grader"
GRADER_CELL = "authcourse-grader"
LEARNER_CELL = "authcourse-learner-cell"  # the cell's number in the learner's notebook, from 1
WORKER_BUDGET = 300  # seconds a worker may take beyond 40 cell timeouts before it is stopped


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
            kept_name = named(argument.name) is not None
            found.append(Submission(argument, argument.resolve().parent.name if kept_name else argument.stem))
    return found


def maximum_of(exercise: ReferenceExercise) -> int:
    return sum(len(EXERCISES[check.id].cases) for check in exercise.checks)


def named(file_name: str) -> tuple[str, int] | None:
    """The exercise or attack lab a file's name names, and its maximum score; None when it names none."""
    exercise = identify_by_name(file_name)
    if exercise is not None:
        return exercise.id, maximum_of(exercise)
    lab = identify_lab(None, file_name)
    return (lab.id, 1) if lab is not None else None


def grader_cell(memory_mib: int) -> nbformat.NotebookNode:
    source = (
        "import resource\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({memory_mib} * 2**20, {memory_mib} * 2**20))"
    )
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata[GRADER_CELL] = "setup"
    return cell


def harness_cell(port: int, store: str, secret: str) -> nbformat.NotebookNode:
    source = (
        "from authcourse.grading.harness import serve_harness\n"
        f"serve_harness(globals(), port={port}, store={store!r}, secret={secret!r});"
    )
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata[GRADER_CELL] = "harness"
    return cell


def prepared(
    notebook: nbformat.NotebookNode, exercise: ReferenceExercise, memory_mib: int
) -> tuple[nbformat.NotebookNode, list[str]]:
    """The notebook to run: the learner's code cells (not the check cells); and notes on the check cells.

    Each learner cell keeps its number in the learner's notebook (counting every cell from 1), for the notes.
    """
    notes: list[str] = []
    reference = {check.id: check for check in exercise.checks}
    seen: Counter[str] = Counter()
    code: list[nbformat.NotebookNode] = []
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        found = check_id(cell)
        if found is None:
            copy = nbformat.v4.new_code_cell(str(cell.get("source", "")))
            copy.metadata[LEARNER_CELL] = number
            code.append(copy)
            continue
        seen[found] += 1
        if found in reference and seen[found] == 1 and checksum(str(cell.get("source", ""))) != reference[found].sha256:
            notes.append(f"check cell {found} was edited: the grader runs its own cases, not the cell")
    for check in exercise.checks:
        if seen[check.id] == 0:
            notes.append(f"check cell {check.id} was missing: the grader runs its own cases anyway")
        elif seen[check.id] > 1:
            notes.append(f"check cell {check.id} appeared {seen[check.id]} times: graded once")
    graded = nbformat.v4.new_notebook()
    graded.cells = [grader_cell(memory_mib), *code]
    return graded, notes


def first_line(text: str) -> str:
    lines = [line for line in re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines() if line.strip()]
    return lines[0].strip() if lines else ""


class KernelCommand(KernelSpecManager):
    """Kernels run by this very Python (its packages, authcourse included), in the sandbox when one is given."""

    def __init__(self, wrap: Callable[[list[str]], list[str]] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.wrap = wrap or (lambda argv: argv)

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        # Interrupts travel as a message: a signal would reach bwrap (which dies of it), not the kernel inside.
        return KernelSpec(argv=self.wrap(argv), display_name="authcourse grader", language="python",
                          interrupt_mode="message")


def where(cell: nbformat.NotebookNode) -> str:
    label = cell.metadata.get(GRADER_CELL)
    return f"the grader's {label} cell" if label else f"cell {cell.metadata.get(LEARNER_CELL, '?')}"


async def run(notebook: nbformat.NotebookNode, timeout: int, folder: Path, specs: KernelSpecManager,
              then: Callable[[], Any] | None = None, env: dict[str, str] | None = None) -> list[str]:
    """Execute every cell; then call `then()` while the kernel still runs; return notes on what went wrong.

    `env`: the kernel's environment when not sandboxed (the sandbox sets its own)."""
    notes: list[str] = []
    manager = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)
    manager.connection_file = str(folder / "kernel.json")
    client = NotebookClient(
        notebook,
        km=manager,
        timeout=timeout,
        allow_errors=True,
        interrupt_on_timeout=True,
        error_on_timeout={"ename": "CellTimeout", "evalue": f"the cell ran longer than {timeout} s", "traceback": []},
        record_timing=False,
        shutdown_kernel="immediate",
        resources={"metadata": {"path": str(folder)}},
    )
    # The kernel process's own stdout and stderr are not the learner's output, which comes over ZMQ.
    started_with = {"env": env} if env is not None else {}
    async with client.async_setup_kernel(cleanup_kc=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                         **started_with):
        for index, cell in enumerate(notebook.cells):
            started = time.monotonic()
            try:
                await client.async_execute_cell(cell, index)
            except DeadKernelError:
                notes.append(f"the kernel died while running {where(cell)}: later cells were not run")
                return notes
            if time.monotonic() - started >= timeout:
                notes.append(f"{where(cell)} timed out after {timeout} s (an endless loop?)")
                continue
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error" and cell.metadata.get(GRADER_CELL) != "setup":
                    what = f"{output.get('ename', 'Error')}: {first_line(str(output.get('evalue', '')))}"
                    notes.append(f"{where(cell)} raised {what}")
        if then is not None:
            await asyncio.to_thread(then)
    return notes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def judge(exercise: ReferenceExercise, remote: Any, row: Row) -> None:
    """Run every case of the exercise from this process against the kernel's harness; score into `row`."""
    for check in exercise.checks:
        report = evaluate(EXERCISES[check.id], remote, hidden=True)
        row.score += report.score
        for outcome in report.outcomes:
            if not outcome.passed:
                row.failed.append(outcome.case)
                row.details.append(f"FAIL {outcome.case} ({check.id}): {outcome.reason}")


def grade_here(submission: Submission, *, timeout: int, memory_mib: int, sandbox: bool) -> Row:
    """Grade one submission in this process (the worker): the kernel in its sandbox, the cases from here."""
    path = submission.path
    try:
        with warnings.catch_warnings():  # lenient: duplicated cell ids, missing ids... are repaired, not fatal
            warnings.simplefilter("ignore")
            notebook = nbformat.read(path, as_version=4)
        if not isinstance(notebook.get("cells"), list) or not all(isinstance(c, dict) for c in notebook.cells):
            raise ValueError("it has no list of cells")
    except Exception as error:  # not JSON, not a notebook, unreadable: this submission only
        exercise_id, maximum = named(path.name) or ("unknown", 0)
        return Row(
            submission.learner,
            exercise_id,
            0,
            maximum,
            ["all"],
            [f"not a notebook ({type(error).__name__}: {first_line(str(error))[:80]})"],
            str(path),
        )
    exercise = identify(notebook, path.name)
    lab = identify_lab(notebook, path.name) if exercise is None else None
    if lab is not None:  # an attack lab: a fresh target decides (labs.py)
        from .labs import grade_lab

        return grade_lab(submission, notebook, lab, timeout=timeout, memory_mib=memory_mib, sandbox=sandbox)
    if exercise is None:
        unknown = "no exercise of this course: no known check cell or file name"
        return Row(submission.learner, "unknown", 0, 0, [], [unknown], str(path))
    graded, notes = prepared(notebook, exercise, memory_mib)
    row = Row(submission.learner, exercise.id, 0, maximum_of(exercise), [], notes, str(path))
    port, secret = free_port(), secrets.token_urlsafe(32)
    shared = SharedStore("fakeredis").start()
    graded.cells.append(harness_cell(port, shared.url, secret))
    store = open_store(shared.url)
    remote = Remote(f"http://127.0.0.1:{port}", store, secret, same_process=False)
    judged: list[bool] = []

    def then() -> None:
        if any(o.get("output_type") == "error" for o in graded.cells[-1].get("outputs", [])):
            return
        judge(exercise, remote, row)
        judged.append(True)

    try:
        with tempfile.TemporaryDirectory(prefix="authcourse-grade-") as folder:
            work = Path(folder)
            cpu = max(120, timeout * (len(graded.cells) + 2))
            wrap = (
                (lambda argv: sandboxing.command(argv, work, memory_mib=memory_mib, cpu_seconds=cpu)) if sandbox else None
            )
            row.notes += asyncio.run(run(graded, timeout, work, KernelCommand(wrap), then))
    except Exception as error:  # the kernel did not even start: say so
        row.notes.append(f"could not run the notebook: {type(error).__name__}: {first_line(str(error))}")
    finally:
        remote.close()
        store.close()
        shared.stop()
    if not judged:
        row.score = 0
        row.failed = ["all"]
        row.details = ["the grader's harness could not run in your kernel (see the notes): no case was run"]
    return row


def grade_submission(
    submission: Submission,
    *,
    timeout: int = CELL_TIMEOUT,
    memory_mib: int = MEMORY_LIMIT,
    sandbox: bool = True,
    hidden: Path | None = None,
) -> Row:
    """Grade one submission in a worker process of its own (its own network namespace, when sandboxed)."""
    started = time.monotonic()
    # The row comes back on the worker's stdout after a nonce the kernel never sees: a line the learner's code
    # writes to that stdout cannot pass for it.
    nonce = secrets.token_hex(16)
    job = {"path": str(submission.path), "learner": submission.learner, "timeout": timeout, "memory": memory_mib,
           "sandbox": sandbox, "hidden": str(hidden) if hidden else None, "nonce": nonce}
    budget = WORKER_BUDGET + timeout * 40
    try:
        done = subprocess.run([sys.executable, "-m", "authcourse.grading.worker"], input=json.dumps(job),
                              capture_output=True, text=True, timeout=budget)
        lines = [line[len(nonce):] for line in done.stdout.splitlines() if line.startswith(nonce)]
        answer = json.loads(lines[-1]) if lines else None
    except subprocess.TimeoutExpired:
        answer, done = None, None
    if isinstance(answer, dict) and "learner" in answer:
        row = Row(**answer)
    else:
        exercise_id, maximum = named(submission.path.name) or ("unknown", 0)
        last = done.stderr.strip().splitlines()[-1] if done is not None and done.stderr.strip() else ""
        why = f"grading stopped after {budget} s" if done is None else f"the grader's worker failed: {first_line(last)}"
        row = Row(submission.learner, exercise_id, 0, maximum, ["all"], [why], str(submission.path))
    if not sandbox:
        row.notes.append("graded WITHOUT a sandbox (--no-sandbox): the learner's code ran with the grader's rights")
    row.seconds = time.monotonic() - started
    return row


def grade(
    arguments: Sequence[str | Path],
    *,
    jobs: int = 2,
    timeout: int = CELL_TIMEOUT,
    memory_mib: int = MEMORY_LIMIT,
    sandbox: bool = True,
    hidden: Path | None = None,
    progress: bool = True,
) -> list[Row]:
    """Grade every submission, `jobs` at a time; rows in the order of the submissions.

    Refuses (SandboxError) to grade without bwrap unless `sandbox=False`.
    """
    if sandbox and sandboxing.bwrap() is None:
        raise sandboxing.SandboxError(
            "bwrap (Debian's bubblewrap) is not installed, so a submission's code would run with the grader's rights: "
            "install it (apt-get install bubblewrap), or pass --no-sandbox to grade anyway"
        )
    hidden = hidden or default_hidden()
    if hidden is None or not hidden.is_dir():
        raise FileNotFoundError(f"the hidden cases were not found ({hidden or HIDDEN_FOLDER + '/'}): pass --hidden DIR")
    load_hidden(hidden)
    submissions = find_submissions(arguments)
    rows: list[Row | None] = [None] * len(submissions)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {
            pool.submit(grade_submission, submission, timeout=timeout, memory_mib=memory_mib, sandbox=sandbox,
                        hidden=hidden): number
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
                lab = row.exercise in labs()
                lines.append("- solved: the lab's own target saw your attack work" if lab
                             else "- every case passed, hidden ones included")
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
