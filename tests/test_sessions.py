"""Server-side sessions: the signed id, its life in the store, its two timeouts."""

from __future__ import annotations

import base64
import hmac
import json

import pytest

from authcourse import MemoryStore, SessionManager, fakeredis_store, later
from authcourse.sessions import ABSOLUTE_TIMEOUT, IDLE_TIMEOUT, SESSION_ID_BYTES, session_key, stored_id, user_sessions_key
from conftest import STORES

SECRET = b"s" * 32


@pytest.fixture(params=STORES)
def store(request, make_store):
    return make_store(request.param)


@pytest.fixture
def sessions(store) -> SessionManager:
    return SessionManager(store, SECRET)


@pytest.fixture(params=["memory", "fakeredis"])
def local_sessions(request, make_store) -> SessionManager:
    """A manager over a store whose clock later() moves."""
    return SessionManager(make_store(request.param), SECRET)


def test_the_defaults_are_30_minutes_idle_and_24_hours_absolute():
    assert (IDLE_TIMEOUT, ABSOLUTE_TIMEOUT) == (30 * 60, 24 * 60 * 60)


def test_an_id_carries_at_least_128_random_bits():
    assert SESSION_ID_BYTES * 8 >= 128
    manager = SessionManager(MemoryStore(), SECRET)
    raw = base64.urlsafe_b64decode(manager.create_session(1, "user").id + "==")
    assert len(raw) * 8 >= 128


# The cookie value ----------------------------------------------------------------------------


def test_sign_then_unsign_gives_the_id_back(sessions):
    assert sessions.unsign(sessions.sign("abc")) == "abc"


def test_the_signature_is_an_hmac_sha256_of_the_id():
    manager = SessionManager(MemoryStore(), SECRET)
    value = manager.sign("abc")
    session_id, _, signature = value.rpartition(".")
    assert session_id == "abc"
    assert base64.urlsafe_b64decode(signature + "=") == hmac.new(SECRET, b"abc", "sha256").digest()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda v: v[:-1] + ("A" if v[-1] != "A" else "B"),  # last signature character
        lambda v: ("X" if v[0] != "X" else "Y") + v[1:],  # first id character
        lambda v: v.rpartition(".")[0],  # no signature
        lambda v: v.rpartition(".")[0] + ".",  # empty signature
        lambda v: "." + v.rpartition(".")[2],  # empty id
        lambda v: v + "=",
        lambda v: v.upper(),
        lambda v: "",
        lambda v: "." * 10,
        lambda v: v + "é",
        lambda v: v * 3,
    ],
)
def test_a_mangled_cookie_unsigns_to_none(mangle):
    manager = SessionManager(MemoryStore(), SECRET)
    assert manager.unsign(mangle(manager.sign("abc"))) is None


def test_a_cookie_signed_with_another_secret_unsigns_to_none():
    ours = SessionManager(MemoryStore(), SECRET)
    theirs = SessionManager(MemoryStore(), b"t" * 32)
    assert ours.unsign(theirs.sign("abc")) is None


def test_unsign_compares_signatures_in_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    manager = SessionManager(MemoryStore(), SECRET)
    value = manager.sign("abc")
    assert manager.unsign(value) == "abc"
    assert manager.unsign(value[:-2] + "xx") is None
    assert len(calls) == 2
    assert calls[0] == (value.rpartition(".")[2], value.rpartition(".")[2])


# The session's life ----------------------------------------------------------------------------


def test_create_stores_the_session_and_indexes_it_by_user(sessions, store):
    session = sessions.create_session(7, "user")
    data = json.loads(store.get(session_key(session.id)))
    assert data == {
        "user_id": 7, "role": "user", "created_at": session.created_at, "last_seen": session.last_seen, "device": ""
    }
    assert store.members(user_sessions_key(7)) == {stored_id(session.id)}


def test_the_stored_session_expires_with_its_idle_timeout(sessions, store):
    session = sessions.create_session(7, "user")
    ttl = store.ttl(session_key(session.id))
    assert ttl is not None and IDLE_TIMEOUT - 5 < ttl <= IDLE_TIMEOUT


def test_load_finds_the_session_a_cookie_points_to(sessions):
    session = sessions.create_session(7, "admin")
    loaded = sessions.load_session(sessions.sign(session.id))
    assert (loaded.id, loaded.user_id, loaded.role) == (session.id, 7, "admin")


@pytest.mark.parametrize("cookie", [None, "", "garbage", "a.b"])
def test_load_of_no_or_a_bad_cookie_is_none(sessions, cookie):
    assert sessions.load_session(cookie) is None


def test_load_of_a_well_signed_id_the_store_does_not_know_is_none(sessions):
    assert sessions.load_session(sessions.sign("never-created")) is None


def test_every_id_is_new(sessions):
    ids = {sessions.create_session(1, "user").id for _ in range(200)}
    assert len(ids) == 200


def test_destroy_makes_the_cookie_worthless(sessions, store):
    session = sessions.create_session(7, "user")
    cookie = sessions.sign(session.id)
    sessions.destroy_session(session)
    assert sessions.load_session(cookie) is None
    assert store.keys() == []


def test_destroy_all_for_user_ends_that_user_s_sessions_only(sessions, store):
    mine = [sessions.create_session(7, "user") for _ in range(3)]
    other = sessions.create_session(8, "user")
    assert sessions.destroy_all_for_user(7) == 3
    assert all(sessions.load_session(sessions.sign(s.id)) is None for s in mine)
    assert sessions.load_session(sessions.sign(other.id)) is not None
    assert sessions.destroy_all_for_user(7) == 0
    assert store.keys() == [session_key(other.id), user_sessions_key(8)]


def test_destroy_all_counts_only_live_sessions(sessions):
    first = sessions.create_session(7, "user")
    sessions.create_session(7, "user")
    sessions.destroy_session(first)
    assert sessions.destroy_all_for_user(7) == 1


def test_regenerate_moves_the_session_to_a_new_id(sessions):
    session = sessions.create_session(7, "admin")
    fresh = sessions.regenerate_session(session)
    assert fresh.id != session.id
    assert (fresh.user_id, fresh.role, fresh.created_at) == (7, "admin", session.created_at)
    assert sessions.load_session(sessions.sign(session.id)) is None
    assert sessions.load_session(sessions.sign(fresh.id)) is not None


# Timeouts, with time moved by later() --------------------------------------------------------


def test_an_idle_session_ends_after_the_idle_timeout(local_sessions):
    cookie = local_sessions.sign(local_sessions.create_session(7, "user").id)
    with later(minutes=29):
        assert local_sessions.load_session(cookie) is not None
    cookie2 = local_sessions.sign(local_sessions.create_session(7, "user").id)
    with later(minutes=31):
        assert local_sessions.load_session(cookie2) is None


def test_activity_keeps_a_session_alive_past_the_idle_timeout(local_sessions):
    cookie = local_sessions.sign(local_sessions.create_session(7, "user").id)
    for minutes in (20, 40, 60, 80):
        with later(minutes=minutes):
            assert local_sessions.load_session(cookie) is not None, minutes


def test_no_activity_saves_a_session_past_the_absolute_timeout(make_store):
    manager = SessionManager(make_store("memory"), SECRET, idle_timeout=3 * 3600, absolute_timeout=4 * 3600)
    cookie = manager.sign(manager.create_session(7, "user").id)
    for hours in (1, 2, 3, 3.9):
        with later(hours=hours):
            assert manager.load_session(cookie) is not None, hours
    with later(hours=4, seconds=1):
        assert manager.load_session(cookie) is None


def test_the_absolute_timeout_caps_the_stored_ttl(local_sessions):
    manager = SessionManager(local_sessions.store, SECRET, idle_timeout=600, absolute_timeout=900)
    session = manager.create_session(7, "user")
    with later(seconds=500):
        assert manager.load_session(manager.sign(session.id)) is not None
        ttl = manager.store.ttl(session_key(session.id))
        assert ttl is not None and 395 < ttl <= 400, ttl  # 900 - 500, not a fresh 600


def test_an_expired_session_is_removed_from_the_store_even_if_the_store_kept_it():
    store = MemoryStore()
    manager = SessionManager(store, SECRET, idle_timeout=60)
    session = manager.create_session(7, "user")
    store.set(session_key(session.id), store.get(session_key(session.id)))  # the store forgets the TTL
    with later(seconds=61):
        assert manager.load_session(manager.sign(session.id)) is None
    assert store.get(session_key(session.id)) is None


def test_touch_writes_last_seen_back_at_most_once_per_interval(local_sessions):
    manager = SessionManager(local_sessions.store, SECRET, touch_interval=60)
    session = manager.create_session(7, "user")
    cookie = manager.sign(session.id)
    with later(seconds=30):
        assert manager.load_session(cookie).last_seen == session.last_seen
    with later(seconds=90):
        touched = manager.load_session(cookie)
        assert touched.last_seen > session.last_seen + 80
        stored = json.loads(manager.store.get(session_key(session.id)))
        assert stored["last_seen"] == touched.last_seen


def test_the_touch_interval_never_exceeds_the_idle_timeout():
    manager = SessionManager(MemoryStore(), SECRET, idle_timeout=10, touch_interval=60)
    assert manager.touch_interval == 10


def test_sessions_in_fakeredis_expire_by_the_store_s_own_ttl_too():
    store = fakeredis_store()
    manager = SessionManager(store, SECRET, idle_timeout=60)
    session = manager.create_session(7, "user")
    with later(seconds=61):
        assert store.get(session_key(session.id)) is None
    store.close()
