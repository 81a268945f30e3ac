#!/usr/bin/env python3
"""Set up and run the course: `python3 dev.py lab` opens it, `python3 dev.py test` tests it,
`python3 dev.py site` builds it as a website into _site/ (open _site/index.html).

Each creates `.venv/` on first use and (re)installs the package into it whenever
pyproject.toml changes; every other argument of `test` goes to pytest, of `site` to sphinx-build.
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
EXTRAS = {"lab": "lab,test", "test": "test", "site": "site"}
# The website: the sources are the repository's notebooks (site/conf.py picks them), the stored
# outputs as they are; the doctree cache makes an unchanged rebuild take a second or two.
SITE_BUILD = ["-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q", "-c", "site"]


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
    if command == "site":
        built = subprocess.call([str(python), *SITE_BUILD, "-d", "build/site-doctrees", *rest, ".", "_site"], cwd=ROOT)
        if built == 0:
            print(f"built {ROOT / '_site'}: open _site/index.html")
        return built
    return subprocess.call([str(python), "-m", "pytest", *rest], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
