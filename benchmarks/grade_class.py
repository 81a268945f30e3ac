"""How long `authcourse grade` takes for a class of 30 submissions, on this machine.

    .venv/bin/python benchmarks/grade_class.py [--jobs 2 4] [--repeat 2] [--learners 30]

The class: 30 notebooks across the nine exercises, a third solved, a third blank, a third whose
last answer raises ValueError (the solution with one line added).
Prints the wall time of each run, per job count, and the spread. Figures depend on the load of
the machine: run it on a quiet one, and compare spreads, not best runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from authcourse.grading.grader import grade  # noqa: E402
from authcourse.grading.notebooks import reference  # noqa: E402


def build_class(folder: Path, learners: int) -> None:
    names = [exercise.notebook for exercise in reference().values()]
    for number in range(learners):
        name = names[number % len(names)]
        kind = ("solutions", "exercises", "wrong")[number % 3]
        notebook = nbformat.read(ROOT / ("exercises" if kind == "exercises" else "solutions") / name, as_version=4)
        if kind == "wrong":  # the last answer raises before it does anything
            answers = [cell for cell in notebook.cells if "### BEGIN SOLUTION" in cell.source]
            answers[-1].source = answers[-1].source.replace(
                "### BEGIN SOLUTION", "raise ValueError('oops')\n### BEGIN SOLUTION", 1
            )
        target = folder / f"learner-{number:02d}" / name
        target.parent.mkdir(parents=True)
        nbformat.write(notebook, target)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--learners", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        build_class(Path(tmp), args.learners)
        for jobs in args.jobs:
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                rows = grade([tmp], jobs=jobs, progress=False)
                times.append(time.perf_counter() - started)
                assert len(rows) == args.learners
            full = sum(row.score == row.maximum for row in rows)
            zero = sum(row.score == 0 for row in rows)
            spread = f"{min(times):.1f}-{max(times):.1f} s" if len(times) > 1 else f"{times[0]:.1f} s"
            print(
                f"{args.learners} submissions, --jobs {jobs}: median {statistics.median(times):.1f} s, runs {spread} "
                f"({', '.join(f'{t:.1f}' for t in times)}); {full} full, {zero} zero, {len(rows) - full - zero} partial",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
