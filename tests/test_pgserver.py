"""The throwaway PostgreSQL: a fresh cluster on a free port, data kept across restarts, gone at cleanup."""

from __future__ import annotations

import psycopg
import pytest
from conftest import require

from authcourse.realservers.postgres import PostgresServer, postgres_bin_dir

pytestmark = pytest.mark.postgres


@pytest.fixture
def own_server():
    require(postgres_bin_dir(), "PostgreSQL not installed (apt-get install postgresql)")
    server = PostgresServer()
    yield server
    server.cleanup()


def query(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url, autocommit=True, connect_timeout=2) as connection:
        cursor = connection.execute(sql)
        return cursor.fetchall() if cursor.description else []


def test_a_started_server_answers_on_its_url_and_keeps_data_across_a_restart_and_a_kill(own_server):
    own_server.start()
    assert own_server.url.startswith("postgresql://postgres@127.0.0.1:")
    assert own_server.pid is not None
    query(own_server.url, "CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)")
    port = own_server.port
    own_server.restart()
    assert own_server.port == port, "a restart keeps the port, so URLs stay valid"
    assert query(own_server.url, "SELECT x FROM kept") == [(42,)]
    own_server.stop(kill=True)  # as a crash would: committed data is in the write-ahead log
    assert own_server.pid is None
    own_server.start()
    assert query(own_server.url, "SELECT x FROM kept") == [(42,)]


def test_a_stopped_server_refuses_connections_and_cleanup_removes_its_folder(own_server):
    own_server.start()
    folder = own_server.data_dir.parent
    own_server.stop()
    with pytest.raises(psycopg.OperationalError):
        query(own_server.url, "SELECT 1")
    own_server.cleanup()
    assert not folder.exists()


def test_as_a_context_manager_it_starts_and_cleans_up():
    if postgres_bin_dir() is None:
        pytest.skip("PostgreSQL not installed")
    with PostgresServer() as server:
        assert query(server.url, "SELECT 1") == [(1,)]
        folder = server.data_dir.parent
    assert not folder.exists()
