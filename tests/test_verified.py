"""The cache of signature checks: bounded, and never a way around the store."""

from __future__ import annotations

from authcourse import load_secret
from authcourse.sessions import SessionManager
from authcourse.stores import MemoryStore
from authcourse.verified import VerifiedCache


def test_cache_remembers_what_a_check_found():
    cache: VerifiedCache[str] = VerifiedCache(size=4)
    cache.remember("signed", "found")
    assert cache.get("signed") == "found"
    assert cache.get("other") is None


def test_cache_forgets_the_oldest_entry_when_full():
    cache: VerifiedCache[int] = VerifiedCache(size=3)
    for number in range(5):
        cache.remember(f"value-{number}", number)
    assert len(cache) == 3
    assert cache.get("value-0") is None and cache.get("value-1") is None
    assert [cache.get(f"value-{number}") for number in (2, 3, 4)] == [2, 3, 4]


def test_cache_of_size_zero_remembers_nothing():
    cache: VerifiedCache[str] = VerifiedCache(size=0)
    cache.remember("signed", "found")
    assert cache.get("signed") is None and len(cache) == 0


def test_a_remembered_session_cookie_is_still_refused_once_the_session_is_gone():
    sessions = SessionManager(MemoryStore(), load_secret())
    session = sessions.create_session(1, "user")
    cookie = sessions.sign(session.id)
    assert sessions.load_session(cookie) is not None  # checked, and now remembered
    sessions.destroy_session(session)
    assert sessions.load_session(cookie) is None


def test_only_the_exact_cookie_that_was_checked_is_remembered():
    sessions = SessionManager(MemoryStore(), load_secret())
    cookie = sessions.sign(sessions.create_session(1, "user").id)
    assert sessions.unsign(cookie) is not None
    session_id, _, signature = cookie.rpartition(".")
    assert sessions.unsign(f"{session_id}.{other_last_character(signature)}") is None
    assert sessions.unsign(f"{other_last_character(session_id)}.{signature}") is None


def other_last_character(text: str) -> str:
    """`text` with its last character changed (never to itself)."""
    return text[:-1] + ("B" if text.endswith("A") else "A")
