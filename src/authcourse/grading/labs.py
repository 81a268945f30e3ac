"""`authcourse grade` for the attack labs: solved is what a fresh target saw the learner's notebook do.

For each lab submission, the worker (`worker.py`, in its own loopback-only network namespace when
sandboxed) starts a FRESH vulnerable lab target (`VulnerableLabTargetServer`) on 127.0.0.1, puts its
URL into the sandboxed kernel's environment (`AUTHCOURSE_LAB_URL`, which makes the notebook's
`vulnerable_lab_target(...)` attack that server instead of starting one of its own), runs the
learner's code cells in a fresh kernel with the exercises' limits (cell timeout, memory, CPU,
sandbox), and then asks the target over HTTP (`vulnerable_lab_verdict`) whether THIS lab is solved.

Why nothing in the notebook can fake it: the target runs in the worker's process, outside the
sandbox; it records "solved" only when the lab's own door served bob's admin page to a token of the
lab's kind that it never issued itself; the grader reads nothing the kernel prints, returns or
writes. A target the kernel starts for itself (by unsetting the variable) is not the one asked, a
solution of another lab opens another door, and one target serves one notebook, so no other run's
requests count. Score: 1 when solved, else 0 with the target's own reason.

The browser labs the same way: the worker starts the bank and the victim's Chromium (alice logged in)
and adds two routes to the bank (`where`, `visit`); the kernel's `vulnerable_browser_lab(...)` then
joins them over HTTP (`AUTHCOURSE_BROWSER_LAB_URL`): the learner publishes pages and has the victim
visit them, while the bank's record and the browser stay in the worker. Solved: the bank moved alice's
money on her own session, or her token reached the collector. (The hardened replay is not run under
the grader.)

The fence: this is the only module of `grading/` that touches `authcourse.vulnerable`, and only
inside `lab_target` (a lazy import), so importing the grader never imports the vulnerable code.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat

from . import sandbox as sandboxing
from .grader import KernelCommand, Row, Submission, first_line, prepared, run
from .notebooks import ReferenceExercise, ReferenceLab, labs

TARGET_ROUNDS = 4  # bcrypt work factor of the graded target's logins: about a millisecond each


def named_lab(file_name: str) -> ReferenceLab | None:
    """The lab a file's name names, if any."""
    stem = file_name.lower()
    return next((lab for lab in labs().values() if lab.notebook.removesuffix(".ipynb").lower() in stem), None)


@contextmanager
def lab_target(lab: ReferenceLab) -> Iterator[tuple[dict[str, str], Callable[[], dict[str, Any]]]]:
    """A fresh target for one graded notebook, in this process: the kernel's environment, and how to ask it.

    The only place grading/ touches the vulnerable code, lazily (tests/test_vulnerable.py keeps it so)."""
    if lab.kind == "jwt":
        from ..vulnerable.labs import LAB_URL_VARIABLE, VulnerableLabTargetServer, vulnerable_lab_verdict

        target = VulnerableLabTargetServer(bcrypt_rounds=TARGET_ROUNDS).start()
        try:
            yield {LAB_URL_VARIABLE: target.url}, lambda: vulnerable_lab_verdict(target.url, lab.id)
        finally:
            target.stop()
        return
    from ..vulnerable.browserlabs import (
        BROWSER_LAB_URL_VARIABLE,
        VulnerableBrowserLabSession,
        vulnerable_add_grader_routes,
    )

    session = VulnerableBrowserLabSession(lab.id)  # the bank, and alice logged in to it in this process's Chromium
    try:
        url = vulnerable_add_grader_routes(session)
        yield {BROWSER_LAB_URL_VARIABLE: url}, session.status
    finally:
        session.stop()


def grade_lab(submission: Submission, notebook: nbformat.NotebookNode, lab: ReferenceLab, *, timeout: int,
              memory_mib: int, sandbox: bool) -> Row:
    """Grade one lab submission in this process (the worker): a fresh target here, the kernel in its sandbox."""
    path = submission.path
    row = Row(submission.learner, lab.id, 0, 1, [], [], str(path))
    by_name = named_lab(path.name)
    if by_name is not None and by_name.id != lab.id:
        row.notes.append(
            f"the file is named for lab {by_name.id}, but the notebook is lab {lab.id}: graded as {lab.id}"
        )
    graded, notes = prepared(notebook, ReferenceExercise(lab.id, lab.notebook, ()), memory_mib)
    row.notes += notes
    verdict: dict[str, Any] = {}
    try:
        with lab_target(lab) as (environment, ask):
            try:
                with tempfile.TemporaryDirectory(prefix="authcourse-grade-") as folder:
                    work = Path(folder)
                    cpu = max(120, timeout * (len(graded.cells) + 2))
                    wrap = (
                        (lambda argv: sandboxing.command(argv, work, memory_mib=memory_mib, cpu_seconds=cpu,
                                                         extra_environment=environment))
                        if sandbox else None
                    )
                    env = None if sandbox else {**os.environ, **environment}
                    row.notes += asyncio.run(run(graded, timeout, work, KernelCommand(wrap), env=env))
            except Exception as error:  # the kernel did not even start: say so
                row.notes.append(f"could not run the notebook: {type(error).__name__}: {first_line(str(error))}")
            try:
                verdict = ask()
            except Exception as error:
                row.notes.append(f"the lab's target did not answer: {type(error).__name__}: {first_line(str(error))}")
    except Exception as error:  # no Chromium, a port that would not open: this submission only
        row.notes.append(f"could not start the lab's target: {type(error).__name__}: {first_line(str(error))}")
    if verdict.get("solved") is True:
        row.score = 1
    else:
        row.failed = ["solved"]
        row.details = [f"FAIL solved ({lab.id}): the target says: {verdict.get('why') or 'no answer'}"]
    return row
