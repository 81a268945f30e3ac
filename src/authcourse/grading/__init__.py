"""Graded exercises: the checks a notebook runs, and `authcourse grade` for a whole class.

- `runtime`: `check(exercise_id, globals())`, run by each check cell: per-case PASS/FAIL lines, a score.
- `checks`: the cases of every exercise, hidden ones included (never shown in a learner's notebook).
- `notebooks`: finding check cells, their checksums, restoring them from the reference.
- `grader`: executes each submission in a fresh kernel with limits, and writes the CSV and feedback.
"""

from __future__ import annotations

from .runtime import Fail, Report, check, expect

__all__ = ["Fail", "Report", "check", "expect"]
