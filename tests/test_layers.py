"""The package's layers: every import points down (or sideways), never up.

A learner reads `authcourse` from the bottom: the auth ideas first, with no web framework in
them, then the web app, then what runs it, then the course's instruments, then the grader.
Each module belongs to one layer (`LAYERS`, the same map as the package docstring), and this
test reads every `import` of `src/authcourse/` (with `ast`, nothing is imported) and fails on
an arrow that points up, or on a module that no layer names.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "authcourse"

# Lowest first. A module may import its own layer and every layer below it. A name is a module
# at the top of the package (the flat core) or a folder (every module in it shares its layer).
LAYERS: list[tuple[str, set[str]]] = [
    ("foundations", {"clock", "errors", "verified"}),
    ("stores", {"stores"}),
    ("auth ideas", {"passwords", "users", "cookies", "sessions", "tokens", "refresh"}),
    ("web app", {"auth", "refreshauth", "hooks", "settings", "app"}),
    ("running it", {"server", "realservers", "fleet"}),
    ("instruments", {"instruments", "widgets", "browserlab", "vulnerable"}),
    ("grading", {"grading"}),
    ("entry points", {"cli", "__main__", "__init__"}),
]
CORE_LIMIT = 16  # modules at the top of the package, besides __init__ and __main__: about 15
# The auth ideas say nothing of the web or of how a server runs: they import none of these
# (a lock is fine; a server thread, an HTTP client or a browser is not).
IDEAS_NEVER_IMPORT = {"fastapi", "starlette", "pydantic", "uvicorn", "granian", "httpx", "playwright", "ipywidgets"}


def layer_of(top: str) -> int:
    for number, (_, names) in enumerate(LAYERS):
        if top in names:
            return number
    raise LookupError(top)


def top_name(path: Path) -> str:
    """`stores/redis.py` -> `stores`; `server.py` -> `server`; `__init__.py` -> `__init__`."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def imports_of(path: Path) -> list[tuple[str, int]]:
    """The package modules `path` imports, as (top-level name, line), relative or absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    depth = len(path.relative_to(PACKAGE).parts) - 1  # 0 for a module directly in the package
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                ups = node.level - 1
                if ups < depth:  # inside its own subpackage
                    continue
                if ups > depth:
                    raise AssertionError(f"{path}: import climbs out of the package")
                names = [node.module.split(".")[0]] if node.module else [alias.name for alias in node.names]
            elif node.module and node.module.split(".")[0] == "authcourse":
                parts = node.module.split(".")
                names = [parts[1]] if len(parts) > 1 else [alias.name for alias in node.names]
            else:
                continue
            found += [(name, node.lineno) for name in names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "authcourse" and len(parts) > 1:
                    found.append((parts[1], node.lineno))
    return found


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer() -> None:
    unplaced = sorted({top_name(path) for path in SOURCES} - set().union(*(names for _, names in LAYERS)))
    assert not unplaced, f"add these to LAYERS (and to the package docstring): {unplaced}"
    assert not [name for _, names in LAYERS for name in names
                if name not in CORE + FOLDERS + ["__init__", "__main__"]], "LAYERS names a module or folder that is gone"


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_imports_point_down(path: Path) -> None:
    own = layer_of(top_name(path))
    upward = []
    for name, line in imports_of(path):
        if name == "__init__" or name == top_name(path):
            continue
        if layer_of(name) > own:
            upward.append(f"line {line}: {name} ({LAYERS[layer_of(name)][0]})")
    assert not upward, f"{path.name} ({LAYERS[own][0]}) imports upward: {upward}"


@pytest.mark.parametrize("path", [p for p in SOURCES if layer_of(top_name(p)) <= 2],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_auth_ideas_import_no_web_framework_and_no_threads(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    used = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    used |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module and not node.level}
    assert not used & IDEAS_NEVER_IMPORT, f"{path.name} imports {sorted(used & IDEAS_NEVER_IMPORT)}"


FOLDERS = sorted(path.name for path in PACKAGE.iterdir() if path.is_dir() and (path / "__init__.py").exists())
CORE = sorted(path.stem for path in PACKAGE.glob("*.py") if path.stem not in ("__init__", "__main__"))


def test_the_top_of_the_package_is_the_flat_core() -> None:
    """A learner who opens the folder sees the auth ideas, the web app and how it runs; nothing else."""
    assert len(CORE) <= CORE_LIMIT, f"{len(CORE)} modules at the top: move one into the folder of its role"
    folders_named_as_modules = [name for name in CORE if name in FOLDERS]
    assert not folders_named_as_modules


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_folder_says_what_it_holds(folder: str) -> None:
    init = PACKAGE / folder / "__init__.py"
    assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), f"{folder}/__init__.py has no docstring"
    package_doc = ast.get_docstring(ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))) or ""
    assert f"`{folder}/`" in package_doc, f"the package docstring does not name {folder}/"
    readme = (PACKAGE.parents[1] / "README.md").read_text(encoding="utf-8")
    assert f"| `{folder}/` |" in readme, f"README's table of the package's folders has no row for {folder}/"


def test_every_core_module_is_named_in_the_package_docstring() -> None:
    package_doc = ast.get_docstring(ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))) or ""
    assert not [name for name in CORE if f"`{name}`" not in package_doc]


def test_the_checker_sees_an_upward_import_from_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A broken variant: a store that imports the recorder of the instruments must be caught."""
    package = tmp_path / "authcourse"
    (package / "stores").mkdir(parents=True)
    broken = package / "stores" / "memory.py"
    broken.write_text("from ..instruments.recorder import Recorder\nfrom .base import Store\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", package)
    with pytest.raises(AssertionError, match="imports upward"):
        test_imports_point_down(broken)


def test_the_checker_sees_an_upward_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A broken variant: a session module that imports the web app must be caught."""
    package = tmp_path / "authcourse"
    package.mkdir()
    broken = package / "sessions.py"
    broken.write_text("from .app import create_app\nfrom .stores import Store\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", package)
    with pytest.raises(AssertionError, match="imports upward"):
        test_imports_point_down(broken)
