"""Graded exercises: the cases of each exercise, the learner's own check, and `authcourse grade`.

The design: the learner's code is untrusted, so the score is decided outside its kernel.

- The learner's kernel runs the learner's cells, then one cell the grader adds: `harness.py`,
  a small JSON-over-HTTP control server that starts live mini-servers with the learner's
  functions plugged in (`Hooks`), calls a function the exercise names (`regenerate`,
  `start_servers`), moves the kernel's clock, and reports the last exception of the learner's
  hooks. It runs no case and reports no score.
- The judge, `runtime.evaluate` over `remote.Remote`, runs every case from the grader's own
  worker process: HTTP requests to those servers, reads of the store the servers write to (a
  fakeredis served over TCP by the worker: the kernel writes, the judge reads it itself), and
  tokens and cookies it forges itself with the secret it chose. `later()` moves the kernel's
  clock and the worker's (the store's TTLs) together. The score is counted from what the judge
  saw; nothing the notebook prints, displays or writes is read. Patching the runtime, the
  harness or IPython in the kernel changes at most what the kernel serves, which is what is
  tested. (The limit: a kernel may serve the package's own built-in behaviour, as a hook may
  already call `auth.authenticate`; the grader judges behaviour, not authorship.)
- `worker.py`: one process per submission. With the sandbox it first enters a fresh network
  namespace holding only a loopback; the kernel shares it, so the judge reaches the kernel's
  servers and the kernel reaches nothing else. Its clock moves without touching the others.
- `sandbox.py`: the kernel runs under bubblewrap (`bwrap`) and `prlimit`: read-only system and
  package, private `/tmp`, one writable work folder, new PID namespace (every process of the
  submission dies with it), no capabilities, a clean environment; memory and CPU limits. No
  bwrap: `authcourse grade` refuses unless `--no-sandbox` (then every row says so).
- Hidden cases are the instructor's: `grading-hidden/` at the root of the course's checkout
  (not package data) or `--hidden DIR`, loaded by the worker (`checks.load_hidden`), never
  visible inside the sandbox. A learner's check cell (`check(...)`) runs the visible cases only,
  with the harness and the judge both in its own kernel.
- `notebooks.py`: check cells and their checksums; `grader.py`: the class, the CSV, the feedback.
- `labs.py`: the attack labs. No harness and no cases: the worker starts a fresh vulnerable target
  (the JWT lab server, or the bank and the victim's Chromium) beside it, outside the sandbox, hands
  its URL to the kernel, and after the learner's cells asks that target whether the lab was solved.
  The one module here that imports `authcourse.vulnerable`, inside one function.
"""

from __future__ import annotations

from .runtime import Fail, Report, check, expect

__all__ = ["Fail", "Report", "check", "expect"]
