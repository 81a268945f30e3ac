"""What a check cell runs: the cases of one exercise against the learner's code, one line each.

    check("require-session", globals())

prints, per case, `PASS` or `FAIL` with a one-line reason, then the score. A learner's
exception is reported as one line (`your code raised KeyError: 'sid'`); `traceback=True`
shows the whole traceback. Each case runs in a thread with a time limit, so an endless loop
in learner code costs one case, not the notebook.

Under `authcourse grade` (`enable_grading()`), the hidden cases of the exercise run too, and
each check also emits its result as a `application/vnd.authcourse.check+json` output that the
grader reads.
"""

from __future__ import annotations

import threading
import traceback as tracebacks
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

RESULT_MIME = "application/vnd.authcourse.check+json"
CASE_TIMEOUT = 10.0  # seconds one case may take before it counts as an endless loop
GRADING = False


class Fail(AssertionError):
    """Raised by a case to fail with a one-line reason the learner reads."""


class Stuck(Fail):
    """Raised when the learner's code never returns (the server stopped answering): later cases are not run."""


def expect(condition: object, reason: str) -> None:
    """Fail the case with `reason` unless `condition` holds."""
    if not condition:
        raise Fail(reason)


@dataclass(frozen=True)
class Case:
    name: str
    run: Callable[[Any], str | None]  # the check's context -> a short detail on success; raises Fail
    hidden: bool = False


@dataclass
class Exercise:
    """One check: the names it reads from the notebook, a context to build, and its cases."""

    id: str
    names: tuple[str, ...]
    cases: list[Case] = field(default_factory=list)
    context: Callable[[Mapping[str, Any]], AbstractContextManager[Any]] = lambda ns: nullcontext(ns)

    def case(
        self, name: str, *, hidden: bool = False
    ) -> Callable[[Callable[[Any], str | None]], Callable[[Any], str | None]]:
        def register(run: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
            self.cases.append(Case(name, run, hidden))
            return run

        return register


@dataclass
class Outcome:
    case: str
    passed: bool
    reason: str
    hidden: bool = False
    trace: str = ""
    stuck: bool = False


@dataclass
class Report:
    check: str
    outcomes: list[Outcome]

    @property
    def score(self) -> int:
        return sum(outcome.passed for outcome in self.outcomes)

    @property
    def maximum(self) -> int:
        return len(self.outcomes)

    @property
    def failed(self) -> list[str]:
        return [outcome.case for outcome in self.outcomes if not outcome.passed]

    def as_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "score": self.score,
            "max": self.maximum,
            "failed": [o.case for o in self.outcomes if not o.passed],
            "reasons": [o.reason for o in self.outcomes if not o.passed],
        }

    def lines(self, *, show_traces: bool = False) -> Iterator[str]:
        yield f"Check {self.check}:"
        for outcome in self.outcomes:
            label = "PASS" if outcome.passed else "FAIL"
            secret = " (hidden case)" if outcome.hidden else ""
            yield f"  {label}  {outcome.case}{secret}" + (f": {outcome.reason}" if outcome.reason else "")
            if show_traces and outcome.trace:
                yield from ("        " + line for line in outcome.trace.rstrip().splitlines())
        yield f"Score: {self.score}/{self.maximum}"
        if self.score < self.maximum:
            yield "Stuck? Open the hints above, one at a time; check(..., traceback=True) shows where your code failed."


def describe(error: BaseException) -> str:
    """An exception in one line: `KeyError: 'sid'`."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def learner_error(error: BaseException) -> str:
    if isinstance(error, NotImplementedError):
        return "not implemented yet (the cell still raises NotImplementedError)"
    return f"your code raised {describe(error)}"


def run_case(case: Case, context: Any, timeout: float) -> Outcome:
    """Run one case in a daemon thread; an endless loop becomes a FAIL after `timeout` seconds."""
    result: list[Outcome] = []

    def target() -> None:
        try:
            detail = case.run(context)
            result.append(Outcome(case.name, True, detail or "", case.hidden))
        except Fail as failure:
            result.append(Outcome(case.name, False, str(failure), case.hidden, stuck=isinstance(failure, Stuck)))
        except BaseException as error:  # the learner's code, called directly by the case
            result.append(Outcome(case.name, False, learner_error(error), case.hidden, tracebacks.format_exc()))

    worker = threading.Thread(target=target, daemon=True, name=f"check:{case.name}")
    worker.start()
    worker.join(timeout)
    if not result:
        return Outcome(
            case.name, False, f"did not finish within {timeout:g} s (an endless loop?)", case.hidden, stuck=True
        )
    return result[0]


def evaluate(
    exercise: Exercise, namespace: Mapping[str, Any], *, hidden: bool, timeout: float = CASE_TIMEOUT
) -> Report:
    """Run the exercise's cases (hidden ones too when `hidden`) against the names in `namespace`."""
    cases = [case for case in exercise.cases if hidden or not case.hidden]
    missing = [name for name in exercise.names if name not in namespace]
    if missing:
        reason = f"{', '.join(missing)} is not defined: run the cell that defines it (or restore it)"
        return Report(exercise.id, [Outcome(case.name, False, reason, case.hidden) for case in cases])
    try:
        manager = exercise.context(namespace)
        context = manager.__enter__()
    except BaseException as error:
        reason = f"could not set up the check: {learner_error(error)}"
        trace = tracebacks.format_exc()
        return Report(exercise.id, [Outcome(case.name, False, reason, case.hidden, trace) for case in cases])
    try:
        outcomes: list[Outcome] = []
        for case in cases:
            if outcomes and outcomes[-1].stuck:
                outcomes.append(
                    Outcome(
                        case.name,
                        False,
                        "not run: your code is still stuck in an earlier case",
                        case.hidden,
                        stuck=True,
                    )
                )
            else:
                outcomes.append(run_case(case, context, timeout))
    finally:
        try:
            manager.__exit__(None, None, None)
        except Exception:
            pass  # the learner's servers may refuse to stop cleanly; the outcomes stand
    return Report(exercise.id, outcomes)


def enable_grading() -> None:
    """Called by the grader's first cell: run hidden cases too and emit machine-readable results."""
    global GRADING
    GRADING = True


def check(exercise_id: str, namespace: Mapping[str, Any], *, traceback: bool = False) -> None:
    """Run one exercise's check against the notebook's names and print what passed (returns nothing to display)."""
    from .checks import EXERCISES

    report = evaluate(EXERCISES[exercise_id], namespace, hidden=GRADING)
    print("\n".join(report.lines(show_traces=traceback)))
    if GRADING:
        from IPython.display import display

        display({RESULT_MIME: report.as_json()}, raw=True)
