"""Every exercise's check, by id: its visible cases. The hidden ones are the instructor's, outside the
package (`grading-hidden/` in the course's checkout, or `authcourse grade --hidden DIR`): `load_hidden`."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ..runtime import Exercise
from . import (
    bearer_token,
    cookie_attributes,
    denylist_logout,
    fetch_metadata_guard,
    jwks_verifier,
    logout_everywhere,
    password_change,
    refresh_tokens,
    require_session,
    session_fixation,
    session_logout,
    shared_store,
)

EXERCISES: dict[str, Exercise] = {
    exercise.id: exercise
    for exercise in (
        require_session.EXERCISE,
        session_logout.EXERCISE,
        bearer_token.EXERCISE,
        denylist_logout.EXERCISE,
        cookie_attributes.EXERCISE,
        shared_store.EXERCISE,
        logout_everywhere.EXERCISE,
        session_fixation.LOGIN,
        session_fixation.REGENERATE,
        refresh_tokens.EXERCISE,
        jwks_verifier.EXERCISE,
        password_change.EXERCISE,
        fetch_metadata_guard.EXERCISE,
    )
}

HIDDEN_FOLDER = "grading-hidden"
_loaded: set[Path] = set()


def default_hidden() -> Path | None:
    """The instructor's hidden cases beside the package's source (a checkout of the course), if there."""
    folder = Path(__file__).resolve().parents[4] / HIDDEN_FOLDER
    return folder if folder.is_dir() else None


def load_hidden(folder: Path) -> int:
    """Add the hidden cases of `folder` (one module per check module) to EXERCISES; the number of cases added."""
    folder = folder.resolve()
    if folder in _loaded:
        return 0
    before = sum(len(exercise.cases) for exercise in EXERCISES.values())
    for path in sorted(folder.glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"authcourse_hidden_cases.{path.stem}", path)
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    _loaded.add(folder)
    return sum(len(exercise.cases) for exercise in EXERCISES.values()) - before
