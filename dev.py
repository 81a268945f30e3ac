#!/usr/bin/env python3
"""Set up and run the course: `python3 dev.py lab` opens it, `python3 dev.py test` tests it,
`python3 dev.py site` builds it as a website into _site/ (open _site/index.html).

Each creates `.venv/` on first use and (re)installs the package into it whenever
pyproject.toml changes; every other argument of `test` goes to pytest, of `lab` to JupyterLab,
of `site` to sphinx-build.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
EXTRAS = {"lab": "lab,test", "test": "test", "site": "site"}
# The website: the sources are the repository's notebooks (site/conf.py picks them), the stored
# outputs as they are; the doctree cache makes an unchanged rebuild take a second or two.
SITE_BUILD = ["-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q", "-c", "site"]
INDEX = "notebooks/00-Index.ipynb"
SETUP_VERSION = "2"  # bump when the set-up steps change, so that existing .venv/s get them
NEWS_PLUGIN = "@jupyterlab/apputils-extension:announcements"  # JupyterLab's "get Jupyter news?" pop-up


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run_quietly(command: list[str], what: str) -> None:
    """Run a set-up step, keep its output to show only if it fails (pip prints hundreds of lines)."""
    result = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        print(result.stdout, end="", file=sys.stderr)
        sys.exit(f"dev.py: {what} failed (exit status {result.returncode}); its output is above")


def ensure_installed(extras: str) -> Path:
    if sys.version_info < (3, 11):
        sys.exit(f"authcourse needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not venv_python().exists():
        print(f"dev.py: creating {VENV.name}/ ...", flush=True)
        venv.create(VENV, with_pip=True)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + SETUP_VERSION.encode()).hexdigest()[:16]
    stamp = VENV / f".installed-{extras.replace(',', '-')}-{digest}"
    if not stamp.exists():
        started = time.monotonic()
        print(f"dev.py: installing authcourse[{extras}] into {VENV.name}/ (once; about a minute) ...", flush=True)
        pip = [str(venv_python()), "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off"]
        run_quietly([*pip, "--upgrade", "pip"], "upgrading pip")
        run_quietly([*pip, "-e", f".[{extras}]"], f"installing authcourse[{extras}]")
        if "lab" in extras.split(","):
            jupyter = [str(venv_python()), "-m", "jupyter"]
            run_quietly([*jupyter, "labextension", "disable", "--level=sys_prefix", NEWS_PLUGIN],
                        "turning off JupyterLab's news pop-up")
        stamp.touch()
        print(f"dev.py: installed in {time.monotonic() - started:.0f} s", flush=True)
    return venv_python()


def lab_arguments(as_root: bool) -> list[str]:
    """JupyterLab's options: open on the index (not the Launcher), the whole course in the file browser."""
    return [
        f"--ServerApp.root_dir={ROOT}",
        f"--LabApp.default_url=/lab/tree/{INDEX}",  # the URL the browser opens and the one printed
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",  # no "a newer version" notice
        *(["--allow-root"] if as_root else []),  # containers, CI
    ]


def main(argv: list[str]) -> int:
    command, *rest = argv or ["help"]
    if command not in EXTRAS:
        print(__doc__)
        return 0 if command in ("help", "-h", "--help") else 2
    python = ensure_installed(EXTRAS[command])
    if command == "lab":
        as_root = hasattr(os, "geteuid") and os.geteuid() == 0
        print(f"dev.py: opening JupyterLab on {INDEX} (Ctrl+C here stops it)", flush=True)
        return subprocess.call([str(python), "-m", "jupyter", "lab", *lab_arguments(as_root), *rest], cwd=ROOT)
    if command == "site":
        built = subprocess.call([str(python), *SITE_BUILD, "-d", "build/site-doctrees", *rest, ".", "_site"], cwd=ROOT)
        if built == 0:
            print(f"built {ROOT / '_site'}: open _site/index.html")
        return built
    return subprocess.call([str(python), "-m", "pytest", *rest], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
