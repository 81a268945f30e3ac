#!/usr/bin/env python3
"""Set up and run the course: `python3 dev.py lab` opens it, `python3 dev.py test` tests it.

Both create `.venv/` on first use and (re)install the package into it whenever
pyproject.toml changes; every other argument of `test` goes to pytest.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
EXTRAS = {"lab": "lab,test", "test": "test"}


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_installed(extras: str) -> Path:
    if sys.version_info < (3, 11):
        sys.exit(f"authcourse needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not venv_python().exists():
        print(f"creating {VENV.name}/ ...", flush=True)
        venv.create(VENV, with_pip=True)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    stamp = VENV / f".installed-{extras.replace(',', '-')}-{digest}"
    if not stamp.exists():
        print(f"installing authcourse[{extras}] into {VENV.name}/ (once; about a minute) ...", flush=True)
        pip = [str(venv_python()), "-m", "pip", "install", "--disable-pip-version-check"]
        subprocess.run([*pip, "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "--progress-bar", "off", "-e", f".[{extras}]"], check=True, cwd=ROOT)
        stamp.touch()
    return venv_python()


def main(argv: list[str]) -> int:
    command, *rest = argv or ["help"]
    if command not in EXTRAS:
        print(__doc__)
        return 0 if command in ("help", "-h", "--help") else 2
    python = ensure_installed(EXTRAS[command])
    if command == "lab":
        index = "notebooks/00-Index.ipynb"
        as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []  # containers, CI
        root = [f"--ServerApp.root_dir={ROOT}"]  # the whole course, not only notebooks/, in the file browser
        return subprocess.call([str(python), "-m", "jupyter", "lab", index, *root, *as_root, *rest], cwd=ROOT)
    return subprocess.call([str(python), "-m", "pytest", *rest], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
