"""The cases of one exercise, run by a judge against the learner's code through the harness.

    check("require-session", globals())

is what a learner's check cell runs: it starts the harness in the kernel (`harness.py`), runs
the exercise's visible cases against it over HTTP from this same kernel, and prints, per case,
`PASS` or `FAIL` with a one-line reason, then the score. It decides nothing for a grade:
`authcourse grade` runs the same cases, hidden ones included, from its own process
(`judge.py`) and never reads what a notebook prints. A learner's exception is reported as one
line (`your code raised KeyError: 'sid'`); `traceback=True` shows the whole traceback. Each
case runs in a thread with a time limit, so an endless loop in learner code costs one case.
"""

from __future__ import annotations

import threading
import traceback as tracebacks
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

CASE_TIMEOUT = 10.0  # seconds one case may take before it counts as an endless loop


class Fail(AssertionError):
    """Raised by a case to fail with a one-line reason the learner reads."""


class Stuck(Fail):
    """Raised when the learner's code never returns (the server stopped answering): later cases are not run."""


class SetupError(Exception):
    """Raised when the learner's code raised (or a name is missing) while the harness built what a case needs."""

    def __init__(self, reason: str, *, not_implemented: bool = False, trace: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.not_implemented = not_implemented
        self.trace = trace


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
    """One check: the names it reads from the notebook, a context to build from the harness, and its cases."""

    id: str
    names: tuple[str, ...]
    cases: list[Case] = field(default_factory=list)
    context: Callable[[Any], AbstractContextManager[Any]] = lambda remote: nullcontext(remote)

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
        except SetupError as error:  # the learner's code, called through the harness
            result.append(Outcome(case.name, False, error.reason, case.hidden, error.trace))
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


def evaluate(exercise: Exercise, target: Any, *, hidden: bool, timeout: float = CASE_TIMEOUT) -> Report:
    """Run the exercise's cases (hidden ones too when `hidden`) against `target`.

    `target` is a `Remote` (the harness of a kernel, as the grader's judge has it) or a notebook's
    names (`globals()`): then a harness is started in this process for them, as a check cell does.
    """
    if isinstance(target, Mapping):
        from ..stores import MemoryStore
        from .harness import serve_harness
        from .remote import Remote

        store = MemoryStore()
        harness = serve_harness(target, store=store)
        remote = Remote(harness.url, store, harness.harness.secret, same_process=True)
        try:
            return evaluate(exercise, remote, hidden=hidden, timeout=timeout)
        finally:
            remote.close()
            harness.stop()
    remote = target
    cases = [case for case in exercise.cases if hidden or not case.hidden]
    try:
        missing = remote.missing(exercise.names)
    except (SetupError, Stuck) as error:
        reason = error.reason if isinstance(error, SetupError) else str(error)
        return Report(exercise.id, [Outcome(case.name, False, reason, case.hidden) for case in cases])
    if missing:
        reason = f"{', '.join(missing)} is not defined: run the cell that defines it (or restore it)"
        return Report(exercise.id, [Outcome(case.name, False, reason, case.hidden) for case in cases])
    try:
        manager = exercise.context(remote)
        context = manager.__enter__()
    except BaseException as error:
        if isinstance(error, SetupError):
            reason, trace = f"could not set up the check: {error.reason}", error.trace
        else:
            reason, trace = f"could not set up the check: {learner_error(error)}", tracebacks.format_exc()
        remote.stop_all()
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
        remote.stop_all()
    return Report(exercise.id, outcomes)


def check(exercise_id: str, namespace: Mapping[str, Any], *, traceback: bool = False) -> None:
    """A check cell: run the exercise's visible cases against the notebook's names and print what passed."""
    from .checks import EXERCISES

    report = evaluate(EXERCISES[exercise_id], namespace, hidden=False)
    print("\n".join(report.lines(show_traces=traceback)))
