"""One store interface, the same behaviour over memory, fakeredis and a real redis-server."""

from __future__ import annotations

import threading
import time

import fakeredis
import pytest
import redis

from authcourse import ConfigurationError, MemoryStore, StoreError, fakeredis_store, later, open_store
from authcourse.redisserver import free_port
from conftest import STORES

# What each back end raises on a wrong type; the app answers both with 503.
STORE_FAILURES = (StoreError, redis.RedisError)
SIMULATED = ["memory", "fakeredis"]  # stores whose clock is this process's, so later() moves them


@pytest.fixture(params=STORES)
def store(request, make_store):
    return make_store(request.param)


@pytest.fixture(params=SIMULATED)
def local_store(request, make_store):
    return make_store(request.param)


def wait_until_gone(store, key: str) -> None:
    """A real Redis expires keys on its own clock: wait for it, with a generous deadline."""
    deadline = time.monotonic() + 5
    while store.get(key) is not None:
        assert time.monotonic() < deadline, f"{key} never expired"
        time.sleep(0.01)


def test_get_of_a_missing_key_is_none(store):
    assert store.get("nothing") is None


def test_set_then_get_returns_the_text(store):
    store.set("k", "välue with spaces")
    assert store.get("k") == "välue with spaces"


def test_set_replaces_the_value(store):
    store.set("k", "1")
    store.set("k", "2")
    assert store.get("k") == "2"


def test_delete_counts_the_keys_that_existed(store):
    store.set("a", "1")
    store.set("b", "2")
    assert store.delete("a", "b", "c") == 2
    assert store.get("a") is None and store.get("b") is None
    assert store.delete() == 0
    assert store.delete("a") == 0


def test_ttl_is_none_for_a_missing_key_and_a_key_without_expiry(store):
    store.set("forever", "1")
    assert store.ttl("forever") is None
    assert store.ttl("missing") is None


def test_ttl_counts_down_from_what_was_set(store):
    store.set("k", "v", ttl=100)
    ttl = store.ttl("k")
    assert ttl is not None and 95 < ttl <= 100, ttl


def test_set_without_ttl_removes_an_earlier_expiry(store):
    store.set("k", "v", ttl=100)
    store.set("k", "v")
    assert store.ttl("k") is None


def test_a_fractional_ttl_is_kept_in_milliseconds(store):
    store.set("k", "v", ttl=12.5)
    ttl = store.ttl("k")
    assert ttl is not None and 12 < ttl <= 12.5, ttl


def test_a_key_expires_after_its_ttl(store):
    store.set("k", "v", ttl=0.05)
    wait_until_gone(store, "k")
    assert store.ttl("k") is None
    assert store.keys() == []


def test_later_expires_keys_in_the_simulated_stores(local_store):
    local_store.set("k", "v", ttl=60)
    local_store.set("forever", "v")
    with later(seconds=59):
        assert local_store.get("k") == "v"
    with later(seconds=61):
        assert local_store.get("k") is None
        assert local_store.keys() == ["forever"]


def test_incr_counts_from_zero(store):
    assert store.incr("n") == 1
    assert store.incr("n") == 2
    assert store.get("n") == "2"


def test_incr_keeps_the_key_s_expiry(store):
    store.set("n", "5", ttl=100)
    assert store.incr("n") == 6
    ttl = store.ttl("n")
    assert ttl is not None and 95 < ttl <= 100


def test_incr_of_text_fails_as_a_store_error(store):
    store.set("n", "not a number")
    with pytest.raises(STORE_FAILURES):
        store.incr("n")


def test_members_of_a_missing_set_is_empty(store):
    assert store.members("s") == set()


def test_add_and_remove_members(store):
    store.add_member("s", "a")
    store.add_member("s", "b")
    store.add_member("s", "a")
    assert store.members("s") == {"a", "b"}
    store.remove_member("s", "a")
    store.remove_member("s", "missing")
    assert store.members("s") == {"b"}


def test_removing_the_last_member_removes_the_set(store):
    store.add_member("s", "a")
    store.remove_member("s", "a")
    assert store.keys() == []
    store.remove_member("never-there", "a")


def test_add_member_with_ttl_sets_the_whole_set_s_expiry(store):
    store.add_member("s", "a", ttl=100)
    store.add_member("s", "b")
    ttl = store.ttl("s")
    assert ttl is not None and 95 < ttl <= 100, "adding without a ttl keeps the set's expiry"
    store.add_member("s", "c", ttl=10)
    ttl = store.ttl("s")
    assert ttl is not None and ttl <= 10


def test_a_set_expires_with_its_ttl(local_store):
    local_store.add_member("s", "a", ttl=60)
    with later(seconds=61):
        assert local_store.members("s") == set()


def test_get_of_a_set_fails_as_a_store_error(store):
    store.add_member("s", "a")
    with pytest.raises(STORE_FAILURES):
        store.get("s")


def test_keys_match_a_glob_and_come_sorted(store):
    for key in ["session:b", "session:a", "denylist:x"]:
        store.set(key, "1")
    store.add_member("user-sessions:1", "a")
    assert store.keys() == ["denylist:x", "session:a", "session:b", "user-sessions:1"]
    assert store.keys("session:*") == ["session:a", "session:b"]
    assert store.keys("nothing:*") == []


def test_delete_removes_sets_too(store):
    store.add_member("s", "a")
    assert store.delete("s") == 1
    assert store.members("s") == set()


def test_the_store_has_a_name_and_a_readable_repr(store):
    assert store.name in ("memory", "fakeredis") or store.name.startswith("redis://")
    assert store.name in repr(store)


# Sharing, and opening by name ----------------------------------------------------------------


def test_memory_stores_are_separate():
    a, b = MemoryStore(), MemoryStore()
    a.set("k", "v")
    assert b.get("k") is None


def test_fakeredis_stores_share_data_only_through_one_fake_server():
    backend = fakeredis.FakeServer()
    a, b, c = fakeredis_store(backend), fakeredis_store(backend), fakeredis_store()
    a.set("k", "v")
    assert b.get("k") == "v"
    assert c.get("k") is None
    for store in (a, b, c):
        store.close()


@pytest.mark.redis
def test_two_clients_of_one_real_redis_share_data(make_store):
    a, b = make_store("redis"), make_store("redis")
    a.set("k", "v")
    assert b.get("k") == "v"


def test_open_store_by_name():
    assert isinstance(open_store("memory"), MemoryStore)
    store = open_store("fakeredis")
    assert store.name == "fakeredis"
    assert open_store(store) is store
    store.close()


@pytest.mark.redis
def test_open_store_by_url(redis_url):
    store = open_store(redis_url)
    try:
        assert store.name == redis_url
        store.set("k", "v")
        assert store.get("k") == "v"
    finally:
        store.close()


@pytest.mark.parametrize("spec", ["", "mongodb://localhost", "Memory", "redis", "postgres://x"])
def test_open_store_refuses_an_unknown_store(spec):
    with pytest.raises(ConfigurationError, match="unknown store"):
        open_store(spec)


def test_open_store_says_clearly_when_redis_cannot_be_reached():
    port = free_port()  # nothing listens there
    with pytest.raises(ConfigurationError, match=f"cannot reach Redis at redis://127.0.0.1:{port}/0"):
        open_store(f"redis://127.0.0.1:{port}/0")


def test_open_store_says_clearly_when_a_redis_url_is_malformed():
    with pytest.raises(ConfigurationError, match="bad Redis URL"):
        open_store("redis://127.0.0.1:notaport/0")


def test_memory_store_counts_right_under_many_threads():
    store = MemoryStore()

    def bump() -> None:
        for _ in range(500):
            store.incr("n")
            store.add_member("s", threading.current_thread().name)

    threads = [threading.Thread(target=bump, name=f"t{i}") for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.get("n") == "4000"
    assert store.members("s") == {f"t{i}" for i in range(8)}


def test_fakeredis_fast_get_answers_like_the_client_path():
    store = fakeredis_store()
    store.set("text", "héllo", ttl=60)
    store.add_member("set", "a")
    assert store._direct, "the direct path to fakeredis's engine should be in use"
    assert store.get("text") == store.client.get("text") == "héllo"
    assert store.get("missing") is None
    with pytest.raises(STORE_FAILURES):
        store.get("set")


def test_fakeredis_simulated_outage_fails_cleanly_and_recovers():
    store = fakeredis_store()
    store.set("k", "v")
    store.server.connected = False
    with pytest.raises(redis.ConnectionError):
        store.get("k")
    store.server.connected = True
    assert store.get("k") == "v"
    assert store.get("k") == "v"  # the reopened connection serves the fast path again


# compare_and_set: the one atomic primitive (refresh-token rotation) ---------------------------


def test_compare_and_set_writes_only_over_the_expected_value(store):
    store.set("k", "old")
    assert store.compare_and_set("k", "other", "new") is False
    assert store.get("k") == "old"
    assert store.compare_and_set("k", "old", "new", ttl=60) is True
    assert store.get("k") == "new"
    assert 0 < store.ttl("k") <= 60


def test_compare_and_set_of_a_missing_key_fails(store):
    assert store.compare_and_set("gone", "old", "new") is False
    assert store.get("gone") is None


def test_compare_and_set_has_one_winner_among_racing_threads(store):
    store.set("k", "0")
    barrier = threading.Barrier(8)
    wins = []

    def race(n: int) -> None:
        barrier.wait()
        if store.compare_and_set("k", "0", str(n)):
            wins.append(n)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wins) == 1, wins
    assert store.get("k") == str(wins[0])
