"""Check cells, their checksums, and the reference the grader restores them from.

A check cell is a code cell whose first line is `# CHECK <id>: ...`; it also carries
`metadata.authcourse.check = <id>` and `metadata.authcourse.sha256`, the SHA-256 of its source.
`reference.json` (written by tools/make_exercises.py from solutions/) holds, per exercise, the
notebook's name and its check cells' exact sources: what the grader puts back when a learner
edited, deleted or duplicated one. `labs.json` (written by the same tool) names the attack labs'
notebooks (`metadata.authcourse.lab`) and their kind, for the grader (`grading/labs.py`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

CHECK_LINE = re.compile(r"^# CHECK ([a-z0-9-]+)\b")
BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")


def checksum(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def check_id(cell: Any) -> str | None:
    """The check a cell runs, from its metadata or its first line; None for other cells."""
    if cell.get("cell_type") != "code":
        return None
    marked = cell.get("metadata", {}).get("authcourse", {}).get("check")
    if isinstance(marked, str):
        return marked
    found = CHECK_LINE.match(str(cell.get("source", "")))
    return found.group(1) if found else None


def stub_solutions(source: str) -> str:
    """The source with each BEGIN/END SOLUTION region replaced by a stub that raises NotImplementedError."""
    out: list[str] = []
    inside = False
    for line in source.splitlines():
        if line.strip() == BEGIN:
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out += [indent + STUB[0], indent + STUB[1]]
        elif line.strip() == END:
            if not inside:
                raise ValueError(f"{END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{BEGIN} without {END}")
    return "\n".join(out)


@dataclass(frozen=True)
class ReferenceCheck:
    id: str
    source: str
    sha256: str


@dataclass(frozen=True)
class ReferenceExercise:
    id: str
    notebook: str  # file name, e.g. 02-Exercise-Require-Session.ipynb
    checks: tuple[ReferenceCheck, ...]


@cache
def reference() -> dict[str, ReferenceExercise]:
    """Every exercise's notebook name and reference check cells, by exercise id."""
    raw = json.loads(resources.files(__package__).joinpath("reference.json").read_text(encoding="utf-8"))
    return {
        exercise_id: ReferenceExercise(
            exercise_id, item["notebook"], tuple(ReferenceCheck(**c) for c in item["checks"])
        )
        for exercise_id, item in raw.items()
    }


def identify(notebook: Any, file_name: str) -> ReferenceExercise | None:
    """Which exercise a submission is: its metadata, else its file name, else the check cells it holds."""
    exercises = reference()
    marked = notebook.get("metadata", {}).get("authcourse", {}).get("exercise") if notebook else None
    if marked in exercises:
        return exercises[marked]
    stem = file_name.lower()
    for exercise in exercises.values():
        if exercise.notebook.removesuffix(".ipynb").lower() in stem:
            return exercise
    if notebook:
        ids = {check_id(cell) for cell in notebook.get("cells", [])}
        for exercise in exercises.values():
            if ids & {check.id for check in exercise.checks}:
                return exercise
    return None


def identify_by_name(file_name: str) -> ReferenceExercise | None:
    return identify(None, file_name)


@dataclass(frozen=True)
class ReferenceLab:
    id: str
    notebook: str  # file name, e.g. 11-Lab-JWT-1-Unverified-Signature.ipynb
    kind: str  # jwt (the JWT lab target) or browser (the bank and the victim's Chromium)


@cache
def labs() -> dict[str, ReferenceLab]:
    """Every attack lab's notebook name, by lab id."""
    raw = json.loads(resources.files(__package__).joinpath("labs.json").read_text(encoding="utf-8"))
    return {lab_id: ReferenceLab(lab_id, item["notebook"], item["kind"]) for lab_id, item in raw.items()}


def identify_lab(notebook: Any, file_name: str) -> ReferenceLab | None:
    """Which attack lab a submission is: its metadata (`authcourse.lab`), else its file name."""
    known = labs()
    marked = notebook.get("metadata", {}).get("authcourse", {}).get("lab") if notebook else None
    if isinstance(marked, str) and marked in known:
        return known[marked]
    stem = file_name.lower()
    for lab in known.values():
        if lab.notebook.removesuffix(".ipynb").lower() in stem:
            return lab
    return None
