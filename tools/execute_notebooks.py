"""Re-execute notebooks in place, so that their stored outputs are what strict nbval expects.

    python tools/execute_notebooks.py                        # every numbered notebook
    python tools/execute_notebooks.py notebooks/01-*.ipynb   # some

The navigation cells are brought up to date first (tools/add_navigation.py). Each notebook
runs in a fresh kernel of this Python (as `pytest --nbval-current-env` does), from its own
folder, without the per-cell timing metadata nbclient records by default (it would change
every file at every run). A cell that raises stops everything, unless it is tagged
`raises-exception`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

sys.path.insert(0, str(Path(__file__).resolve().parent))
import add_navigation  # noqa: E402


def execute(path: Path, timeout: int = 300) -> float:
    """Run one notebook top to bottom and save it; return the seconds it took."""
    notebook = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    kernel = KernelManager(kernel_name=CURRENT_ENV_KERNEL_NAME, kernel_spec_manager=NbvalKernelspecManager())
    client = NotebookClient(
        notebook, kernel, timeout=timeout, resources={"metadata": {"path": str(path.parent)}}, record_timing=False
    )
    try:
        client.execute()
    finally:
        kernel.shutdown_kernel(now=True)
    nbformat.write(notebook, path)
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    add_navigation.update()
    paths = [Path(arg) for arg in argv] or [
        path
        for folder in add_navigation.FOLDERS
        if folder != "exercises"  # learners run those: they are kept without outputs
        for path in add_navigation.notebooks_in(add_navigation.ROOT / folder)
    ]
    for path in paths:
        print(f"{path}: {execute(path):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
