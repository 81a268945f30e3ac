"""One submission's grading, in a process of its own: `python -m authcourse.grading.worker` (JSON job on stdin).

With the sandbox, it first moves itself into a fresh network namespace (loopback only), which the
sandboxed kernel then shares: the kernel reaches this process's judge and shared store, nothing
else. Its clock is its own to move (`later()` in the cases), without touching other submissions.
It prints one line: the grader's nonce, then the row as JSON. When it ends, the sandbox and every process in it end too.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path


def main() -> int:
    job = json.loads(sys.stdin.read())
    if job["sandbox"]:
        from .sandbox import isolate_network

        isolate_network()
    from .checks import load_hidden
    from .grader import Submission, grade_here

    if job.get("hidden"):
        load_hidden(Path(job["hidden"]))
    row = grade_here(Submission(Path(job["path"]), job["learner"]), timeout=job["timeout"],
                     memory_mib=job["memory"], sandbox=job["sandbox"])
    print(job["nonce"] + json.dumps(asdict(row)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
