#!/usr/bin/env python3
"""Run the browser lab in Chromium and write what it did to src/authcourse/browserlab/recorded/.

Machines without a browser show these recorded results (clearly labelled) instead of live ones;
tests/test_browser.py checks them against the live browser wherever Chromium is installed.

    .venv/bin/python tools/record_browser_results.py              # chapters 7, 8, 12 (about 20 s)
    .venv/bin/python tools/record_browser_results.py crossorigin  # chapter 15 only (recorded/crossorigin.json)
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

from authcourse.browserlab import acrossorigins
from authcourse.browserlab.browser import Browser
from authcourse.browserlab.experiments import (
    cross_domain_experiment,
    csrf_experiment,
    hybrid_csrf_experiment,
    xss_experiment,
)
from authcourse.browserlab.proof import RECORDED, run_matrix, to_record
from authcourse.browserlab.servers import LabServer

COMMAND = "python tools/record_browser_results.py"
FOLDER = Path(__file__).resolve().parent.parent / "src" / "authcourse" / "browserlab" / "recorded"


def write(name: str, data: dict) -> None:
    """JSON with one line per case (or per experiment), so a re-recording shows as a readable diff."""
    lines = []
    for key, value in sorted(data.items()):
        if isinstance(value, list):
            items = ",\n  ".join(json.dumps(item, sort_keys=True) for item in value)
            lines.append(f" {json.dumps(key)}: [\n  {items}\n ]")
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value, sort_keys=True)}")
    (FOLDER / name).write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")


def record_crossorigin() -> int:
    with Browser() as browser:
        data, disagree = acrossorigins.record_all(browser)
    write(acrossorigins.RECORDED, {"command": COMMAND + " crossorigin", **data})
    print(f"Chromium {data['chromium']}: chapter 15 recorded, {len(disagree)} rows disagree with the model")
    for row in disagree:
        print("  disagrees:", row)
    return 1 if disagree else 0


def main() -> int:
    if sys.argv[1:] == ["crossorigin"]:
        return record_crossorigin()
    with Browser() as browser, LabServer() as lab:
        outcomes = run_matrix(browser, lab)
        version = browser.version
        experiments = {
            "xss": asdict(xss_experiment(browser)),
            "csrf": [asdict(result) for result in csrf_experiment(browser)],
            "csrf_cookie_token": [asdict(result) for result in hybrid_csrf_experiment(browser)],
            "cross_domain": asdict(cross_domain_experiment(browser)),
        }
    disagree = [outcome.case.id for outcome in outcomes if not outcome.agrees]
    write(RECORDED, {"chromium": version, "command": COMMAND, "cases": [to_record(outcome) for outcome in outcomes]})
    write("experiments.json", {"chromium": version, "command": COMMAND, **experiments})
    print(f"Chromium {version}: {len(outcomes)} cases, {len(outcomes) - len(disagree)} agree with the model")
    for case in disagree:
        print("  disagrees:", case)
    return 1 if disagree else 0


if __name__ == "__main__":
    sys.exit(main())
