"""One store interface, the same behaviour over every back end: memory, fakeredis, a real
redis-server, a real PostgreSQL, and MongoDB's code on mongomock (by mongomock:// and by a
mongodb:// URL that mongomock.patch answers)."""

from __future__ import annotations

import threading
import time

import fakeredis
import mongomock
import pytest
import redis
from conftest import STORES, fresh_mongomock_url

from authcourse import ConfigurationError, MemoryStore, StoreError, fakeredis_store, later, open_store
from authcourse.realservers.process import free_port
from authcourse.stores import MongoStore, PostgresStore

# What each back end raises on a wrong type; the app answers both with 503.
STORE_FAILURES = (StoreError, redis.RedisError)
# Stores whose expiry is measured on this process's clock, so later() moves them (not a real Redis).
SIMULATED = ["memory", "fakeredis", "mongomock", "mongodb", pytest.param("postgres", marks=pytest.mark.postgres)]
EVERY_STORE = [*STORES, "mongodb"]


@pytest.fixture(params=EVERY_STORE)
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
    assert store.name in ("memory", "fakeredis") or store.name.split("://")[0] in (
        "redis", "postgresql", "mongodb", "mongomock")
    assert store.name in repr(store)


def test_keys_treat_like_wildcards_as_plain_characters(store):
    for key in ["a_b", "axb", "a%b", "a%c"]:
        store.set(key, "1")
    assert store.keys("a_*") == ["a_b"]
    assert store.keys("a%*") == ["a%b", "a%c"]
    assert store.keys("a?b") == ["a%b", "a_b", "axb"]



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


@pytest.mark.parametrize("spec", ["", "mongo://localhost", "Memory", "redis", "postgres", "mysql://x"])
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
    if store.name.startswith("mongodb://"):
        pytest.skip("mongomock standing in for a server does not make replace_one atomic across threads; MongoDB does")
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


# Shared stores: two handles on one database, as two servers have ---------------------------------

SHARED = [
    "mongomock",
    "mongodb",
    pytest.param("redis", marks=pytest.mark.redis),
    pytest.param("postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=SHARED)
def two_handles(request, store_spec_for):
    spec = store_spec_for(request.param)
    a, b = open_store(spec), open_store(spec)
    yield a, b
    a.close()
    b.close()


@pytest.fixture
def store_spec_for(request):
    from conftest import resolve_store

    return lambda name: resolve_store(request, name)


def test_two_handles_on_one_database_see_each_other_s_writes(two_handles):
    a, b = two_handles
    a.set("session:x", "alice", ttl=60)
    a.add_member("user-sessions:1", "x")
    assert b.get("session:x") == "alice"
    assert b.members("user-sessions:1") == {"x"}
    assert b.delete("session:x") == 1
    assert a.get("session:x") is None


def test_two_handles_counting_at_once_lose_no_increment(two_handles):
    if two_handles[0].name.startswith("mongodb://"):
        pytest.skip("mongomock standing in for a server does not make replace_one atomic across threads; MongoDB does")
    def bump(store) -> None:
        for _ in range(100):
            store.incr("n")
            store.add_member("s", threading.current_thread().name)

    threads = [threading.Thread(target=bump, args=(two_handles[i % 2],), name=f"t{i}") for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert two_handles[0].get("n") == "400"
    assert two_handles[1].members("s") == {f"t{i}" for i in range(4)}


def test_different_mongomock_names_are_different_databases():
    a, b = open_store(fresh_mongomock_url()), open_store(fresh_mongomock_url())
    a.set("k", "v")
    assert b.get("k") is None


# PostgreSQL: expiry without a TTL, and a database that goes away -------------------------------


@pytest.mark.postgres
def test_postgres_hides_an_expired_row_at_once_and_prune_deletes_it(postgres_url):
    store = PostgresStore(postgres_url, prune_interval=3600)
    try:
        store.set("session:old", "x", ttl=60)
        store.set("session:new", "x", ttl=600)
        store.set("forever", "x")
        with later(seconds=61):
            assert store.get("session:old") is None, "an expired row must be invisible before any prune"
            assert store.held() == 3, "...and still in the table"
            assert store.prune() == 1
            assert store.held() == 2
            assert store.keys() == ["forever", "session:new"]
    finally:
        store.close()


@pytest.mark.postgres
def test_postgres_prunes_after_a_write_once_the_interval_has_passed(postgres_url):
    store = PostgresStore(postgres_url, prune_interval=120)
    try:
        store.set("old", "x", ttl=60)
        with later(seconds=61):
            store.set("other", "x")
            assert store.held() == 2, "the interval has not passed: no prune yet"
        with later(seconds=121):
            store.set("another", "x")
            assert store.held() == 2, "the write ran the prune step: the expired row is gone"
    finally:
        store.close()


@pytest.mark.postgres
def test_postgres_rows_survive_a_database_restart_and_the_store_reconnects(postgres_url, postgres_server):
    store = open_store(postgres_url)
    try:
        store.set("session:a", "alice", ttl=600)
        postgres_server.restart()
        assert store.get("session:a") == "alice", "the lost connection is reopened once, transparently"
        ttl = store.ttl("session:a")
        assert ttl is not None and 590 < ttl <= 600
    finally:
        store.close()


@pytest.mark.postgres
def test_postgres_down_is_a_store_error_and_up_again_works(postgres_url, postgres_server):
    store = open_store(postgres_url)
    try:
        store.set("k", "v")
        postgres_server.stop()
        try:
            with pytest.raises(StoreError, match="PostgreSQL"):
                store.get("k")
        finally:
            postgres_server.start()
        assert store.get("k") == "v"
    finally:
        store.close()


def test_open_store_says_clearly_when_postgres_cannot_be_reached():
    port = free_port()
    with pytest.raises(ConfigurationError, match=f"cannot reach PostgreSQL at postgresql://me@127.0.0.1:{port}/db"):
        open_store(f"postgresql://me:hunter2@127.0.0.1:{port}/db")


def test_open_store_never_shows_a_postgres_password():
    port = free_port()
    with pytest.raises(ConfigurationError) as caught:
        open_store(f"postgresql://me:hunter2@127.0.0.1:{port}/db")
    assert "hunter2" not in str(caught.value)


def test_open_store_says_clearly_when_a_postgres_url_is_malformed():
    with pytest.raises(ConfigurationError, match="bad PostgreSQL URL"):
        open_store("postgresql://127.0.0.1:notaport/db")


# MongoDB: the TTL index, and a server that is not there ------------------------------------------


def test_mongo_store_has_a_ttl_index_on_expires_at(make_store):
    store = make_store("mongomock")
    assert isinstance(store, MongoStore) and not store.blocking
    indexes = store.collection.index_information()
    ttl_indexes = [index["key"] for index in indexes.values() if index.get("expireAfterSeconds") == 0]
    assert ttl_indexes == [[("expires_at", 1)]]


def test_a_mongodb_url_is_a_blocking_store(make_store):
    assert make_store("mongodb").blocking, "a mongodb:// URL is a server: every call is a round trip"


def test_mongo_store_hides_expired_documents_itself_before_any_ttl_monitor_runs():
    # A real server's TTL monitor wakes once a minute; mongomock applies the index on every
    # query. Without the index, only the store's own check stands between a read and the key.
    collection = mongomock.MongoClient(tz_aware=True).db.no_ttl_index
    store = MongoStore(collection, "mongomock://no-ttl-index/db", blocking=False)
    store.set("k", "v", ttl=60)
    store.add_member("s", "a", ttl=60)
    with later(seconds=61):
        assert collection.count_documents({}) == 2, "the documents are still there"
        assert store.get("k") is None and store.ttl("k") is None
        assert store.members("s") == set() and store.keys() == []
        assert store.delete("k", "s") == 0, "expired keys do not count as deleted"
        assert store.incr("k") == 1, "an expired key counts from zero"


def test_open_store_says_clearly_when_mongodb_cannot_be_reached():
    port = free_port()
    with pytest.raises(ConfigurationError, match=f"cannot reach MongoDB at mongodb://127.0.0.1:{port}/db"):
        open_store(f"mongodb://127.0.0.1:{port}/db?serverSelectionTimeoutMS=200")


def test_open_store_says_clearly_when_a_mongo_url_is_malformed():
    with pytest.raises(ConfigurationError, match="bad MongoDB URL"):
        open_store("mongodb://127.0.0.1:notaport/db")
    with pytest.raises(ConfigurationError, match="bad mongomock URL"):
        open_store("mongomock:///db")


def test_held_counts_what_the_back_end_still_keeps_after_expiry(local_store):
    local_store.set("k", "v", ttl=60)
    assert local_store.held() == 1
    with later(seconds=61):
        before_read = local_store.held()
        assert local_store.get("k") is None
        after_read = local_store.held()
    # The dict drops an expired key when it is read; PostgreSQL only when a prune step runs;
    # fakeredis and mongomock (the TTL index) never show it.
    expected = {"memory": (1, 0), "postgresql": (1, 1)}.get(local_store.name.split(":")[0], (0, 0))
    assert (before_read, after_read) == expected
