"""Generate exercises/ from solutions/, the one source, and the grader's reference of check cells.

For every numbered notebook in solutions/:
- each region between `### BEGIN SOLUTION` and `### END SOLUTION` becomes `# YOUR CODE HERE` and
  `raise NotImplementedError()`, at the same indentation, in exercises/ (outputs cleared);
- each check cell (first line `# CHECK <id>: ...`) gets `metadata.authcourse` with its id and the
  SHA-256 of its source, in both notebooks;
- src/authcourse/grading/reference.json lists, per exercise, the notebook and its check cells.

An attack lab (`metadata.authcourse.lab`, solutions/NN-Lab-*.ipynb) is stubbed the same way but has no
check cell and no entry in reference.json: its target server records whether it was solved
(src/authcourse/vulnerable/labs.py, browserlabs.py). src/authcourse/grading/labs.json lists the labs'
notebooks and their kind (jwt, browser), for `authcourse grade`.

    python tools/make_exercises.py           # write exercises/ and reference.json
    python tools/make_exercises.py --check   # change nothing; exit 1 if anything is out of sync
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from authcourse.grading.notebooks import CHECK_LINE, checksum, stub_solutions  # noqa: E402
from authcourse.vulnerable.labs import VULNERABLE_JWT_LABS  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from add_navigation import notebooks_in  # noqa: E402

REFERENCE = Path("src/authcourse/grading/reference.json")
LABS = Path("src/authcourse/grading/labs.json")


def stamped(notebook: nbformat.NotebookNode) -> list[dict[str, str]]:
    """Mark the notebook's check cells with their id and checksum; return them."""
    checks = []
    for cell in notebook.cells:
        found = CHECK_LINE.match(cell.source) if cell.cell_type == "code" else None
        if found:
            entry = {"id": found.group(1), "source": cell.source, "sha256": checksum(cell.source)}
            cell.metadata["authcourse"] = {"check": entry["id"], "sha256": entry["sha256"]}
            checks.append(entry)
    return checks


def exercise_from(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    exercise = copy.deepcopy(solution)
    # Only what a learner's Jupyter needs: no trace of the solution's last run.
    exercise.metadata = {
        "kernelspec": solution.metadata.get(
            "kernelspec", {"display_name": "Python 3", "language": "python", "name": "python3"}
        ),
        "language_info": {"name": "python"},
        "authcourse": solution.metadata["authcourse"],
    }
    for cell in exercise.cells:
        if cell.cell_type == "code":
            cell.source = stub_solutions(cell.source)
            cell.outputs = []
            cell.execution_count = None
    return exercise


def text(notebook: nbformat.NotebookNode) -> str:
    return nbformat.writes(notebook) + "\n"


def generate(root: Path = ROOT) -> dict[Path, str]:
    """Every file this tool writes, with its content."""
    files: dict[Path, str] = {}
    reference: dict[str, object] = {}
    labs: dict[str, object] = {}
    for path in notebooks_in(root / "solutions"):
        solution = nbformat.read(path, as_version=4)
        lab_id = solution.metadata.get("authcourse", {}).get("lab")
        if lab_id:
            # An attack lab: the target server decides "solved" (authcourse.vulnerable.labs), no check cells.
            labs[lab_id] = {"notebook": path.name, "kind": "jwt" if lab_id in VULNERABLE_JWT_LABS else "browser"}
            files[path] = text(solution)
            files[root / "exercises" / path.name] = text(exercise_from(solution))
            continue
        checks = stamped(solution)
        exercise_id = solution.metadata.get("authcourse", {}).get("exercise")
        if not exercise_id or not checks:
            raise SystemExit(f"{path}: needs metadata.authcourse.exercise and at least one # CHECK cell")
        files[path] = text(solution)
        files[root / "exercises" / path.name] = text(exercise_from(solution))
        reference[exercise_id] = {"notebook": path.name, "checks": checks}
    files[root / REFERENCE] = json.dumps(reference, indent=1, sort_keys=True) + "\n"
    files[root / LABS] = json.dumps(labs, indent=1, sort_keys=True) + "\n"
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if exercises/ is out of sync")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    stale = []
    for path, content in generate(args.root).items():
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            stale.append(path)
            if not args.check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content, encoding="utf-8")
    expected = {path.name for path in notebooks_in(args.root / "solutions")}
    extra = [p for p in notebooks_in(args.root / "exercises") if p.name not in expected]
    for path in stale + extra:
        print(
            f"{'out of sync' if args.check else 'written'}: {path.relative_to(args.root)}"
            + (" (no solution: remove it)" if path in extra else "")
        )
    return 1 if args.check and (stale or extra) else 0


if __name__ == "__main__":
    sys.exit(main())
