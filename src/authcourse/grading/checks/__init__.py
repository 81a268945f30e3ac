"""Every exercise's check, by id: the cases a check cell runs (hidden ones only under the grader)."""

from __future__ import annotations

from ..runtime import Exercise
from . import (
    bearer_token,
    cookie_attributes,
    denylist_logout,
    logout_everywhere,
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
    )
}
