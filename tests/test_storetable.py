"""Chapter 2's store table: each measured fact comes out as the store really behaves."""

from __future__ import annotations

import pytest
from conftest import fresh_mongomock_url

from authcourse.instruments.storetable import StoreRow, StoreTable, load_rows, measure_table, save_rows


@pytest.fixture(scope="module")
def in_process_table() -> StoreTable:
    return measure_table([
        dict(store="Memory (default)", measured_on="memory", spec="memory"),
        dict(store="Redis (connect-redis)", measured_on="fakeredis", spec="fakeredis"),
        dict(store="MongoDB (connect-mongo)", measured_on="mongomock", spec=fresh_mongomock_url()),
    ])


def test_in_process_stores_die_with_the_server_process(in_process_table):
    for row in in_process_table.rows:
        assert row.survives_server_restart is False, row
        assert row.survives_store_restart is None, row
        assert row.lookup_us > 0 and row.write_us > 0


def test_only_a_store_outside_the_server_object_is_shared(in_process_table):
    assert in_process_table["memory"].shared is False
    assert in_process_table["fakeredis"].shared is False
    assert in_process_table["mongomock"].shared is True, "one mongomock:// URL is one database in this process"


def test_what_removes_an_expired_session_is_observed(in_process_table):
    assert in_process_table["memory"].cleanup == "nothing but a read of that key"
    assert in_process_table["fakeredis"].cleanup == "the store itself: never seen after expiry"


@pytest.mark.postgres
def test_a_postgres_store_is_shared_and_survives_both_restarts(postgres_server):
    table = measure_table([dict(store="PostgreSQL", measured_on="PostgreSQL", spec=postgres_server.url,
                                restart_store=postgres_server.restart)])
    row = table["PostgreSQL"]
    assert (row.shared, row.survives_server_restart, row.survives_store_restart) == (True, True, True)
    assert row.cleanup.startswith("a prune step")


@pytest.mark.redis
def test_a_redis_without_persistence_loses_sessions_when_it_restarts():
    from authcourse.realservers.redis import RedisServer

    with RedisServer(persistent=False) as redis:
        table = measure_table([dict(store="Redis", measured_on="redis-server", spec=redis.url,
                                    restart_store=redis.restart, real_clock=True)])
    row = table["redis-server"]
    assert (row.shared, row.survives_server_restart, row.survives_store_restart) == (True, False, False)
    assert row.cleanup == "the store itself, unasked"


def test_recorded_rows_come_back_labelled(tmp_path):
    row = StoreRow("Redis (connect-redis)", "redis-server", 70.0, 200.0, True, True, True, "the store itself, unasked")
    save_rows(StoreTable((row,)), tmp_path / "rows.json")
    loaded = load_rows(tmp_path / "rows.json")["redis-server"]
    assert loaded.recorded.startswith("recorded on ")
    assert loaded.cells()[0].startswith("Redis (connect-redis) [recorded on ")
