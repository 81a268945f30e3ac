"""The fleet: servers behind a round-robin balancer (builtin or nginx), and the store they share."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
import redis
from conftest import ROUNDS

from authcourse.fleet import BalancerError, BuiltinBalancer, Fleet, FleetError, NginxBalancer, SharedStore
from authcourse.fleet.client import Visitor

BALANCERS = ["builtin", pytest.param("nginx", marks=pytest.mark.nginx)]


@pytest.fixture(params=BALANCERS)
def balancer(request: pytest.FixtureRequest) -> str:
    if request.param == "nginx":
        request.getfixturevalue("nginx_binary")
    return request.param


def port_is_free(port: int) -> bool:
    """Nothing listens there any more (a connection in TIME_WAIT does not count, as for any server)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


def test_the_builtin_balancer_sends_each_request_to_the_next_server(make_server):
    servers = [make_server("session", store="memory") for _ in range(3)]
    with BuiltinBalancer([server.url for server in servers]) as balancer, httpx.Client(base_url=balancer.url) as client:
        for _ in range(6):  # one kept-alive connection: the choice is per request, not per connection
            assert client.get("/health").status_code == 200
        assert balancer.counts == [2, 2, 2]


def test_the_builtin_balancer_never_sends_a_request_twice():
    """An upstream that reads a POST, acts on it and hangs up without answering: one POST, a 502."""
    received = []
    listener = socket.create_server(("127.0.0.1", 0))

    def hang_up_after_reading() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # the listener was closed: the test is over
                return
            with connection:
                received.append(connection.recv(65536).split(b" ", 1)[0])

    threading.Thread(target=hang_up_after_reading, daemon=True).start()
    upstream = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        with BuiltinBalancer([upstream]) as balancer, httpx.Client(base_url=balancer.url) as client:
            response = client.post("/logout")
    finally:
        listener.close()
    assert response.status_code == 502, response.text
    assert "Bad gateway" in response.json()["error"]
    assert received == [b"POST"], "the balancer sent the POST again after the server had read it"


def test_a_balancer_with_no_server_is_refused():
    with pytest.raises(BalancerError, match="at least one server"):
        BuiltinBalancer([])


def test_a_login_on_one_server_is_honoured_by_the_others_with_a_shared_store_and_secret(balancer):
    with Fleet(3, store="shared", balancer=balancer, bcrypt_rounds=ROUNDS) as fleet, Visitor(fleet.url) as visitor:
        assert visitor.login().status_code == 200
        assert [visitor.profile().status_code for _ in range(6)] == [200] * 6
        assert [visitor.profile(server.url).status_code for server in fleet.servers] == [200] * 3


def test_a_memory_store_per_server_knows_the_session_on_one_server_only(balancer):
    with Fleet(3, store="memory", balancer=balancer, bcrypt_rounds=ROUNDS) as fleet, Visitor(fleet.url) as visitor:
        visitor.login()
        assert sorted(visitor.profile(server.url).status_code for server in fleet.servers) == [200, 401, 401]


def test_a_secret_per_server_gives_each_server_its_own_secret():
    with Fleet(3, store="memory", secret="each", bcrypt_rounds=ROUNDS) as fleet:
        assert len({server.settings.secret for server in fleet.servers}) == 3
    with Fleet(3, store="memory", secret="shared", bcrypt_rounds=ROUNDS) as fleet:
        assert len({server.settings.secret for server in fleet.servers}) == 1


def test_a_stopped_fleet_leaves_no_thread_port_or_store(balancer):
    fleet = Fleet(2, store="shared", balancer=balancer, bcrypt_rounds=ROUNDS).start()
    ports = [fleet.balancer.port, *(server.port for server in fleet.servers)]
    store_port = int(fleet.shared.url.rsplit(":", 1)[1].split("/")[0])
    fleet.stop()
    fleet.stop()  # twice is fine
    assert all(port_is_free(port) for port in [*ports, store_port])
    assert not any(server.running for server in fleet.servers)


@pytest.mark.nginx
def test_nginx_runs_from_a_temporary_folder_and_leaves_nothing_behind(nginx_binary, make_server):
    server = make_server("session")
    balancer = NginxBalancer([server.url]).start()
    folder = Path(balancer.config().split("pid ", 1)[1].split("/nginx.pid")[0])
    pid, port = balancer.pid, balancer.port
    assert (folder / "nginx.conf").exists()
    assert f"server 127.0.0.1:{server.port} max_fails=0;" in balancer.config()
    assert httpx.get(balancer.url + "/health").json() == {"status": "ok"}
    balancer.stop()
    assert not folder.exists() and not process_exists(pid) and port_is_free(port)
    assert subprocess.run(["pgrep", "-f", str(folder)], capture_output=True).stdout == b""  # no worker left


def test_the_fakeredis_tcp_server_is_one_store_for_several_processes():
    with SharedStore("fakeredis") as shared:
        code = f"import redis; redis.Redis.from_url({shared.url!r}).set('from-another-process', 'yes')"
        subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
        assert redis.Redis.from_url(shared.url, decode_responses=True).get("from-another-process") == "yes"


@pytest.mark.nginx
def test_a_balancer_killed_mid_experiment_is_a_clear_error_and_leaves_nothing(nginx_binary):
    fleet = Fleet(2, store="shared", balancer="nginx", bcrypt_rounds=ROUNDS).start()
    pid, port = fleet.balancer.pid, fleet.balancer.port
    try:
        with Visitor(fleet.url) as visitor:
            visitor.login()
            os.kill(pid, 9)
            fleet.balancer.process.wait(5)
            with pytest.raises(FleetError, match=f"nothing answers at http://127.0.0.1:{port}"):
                visitor.profile()
    finally:
        fleet.stop()
    assert not process_exists(pid) and port_is_free(port)
    assert all(port_is_free(server.port) for server in fleet.servers)


def test_the_builtin_balancer_stopped_mid_experiment_is_a_clear_error():
    fleet = Fleet(2, store="shared", bcrypt_rounds=ROUNDS).start()
    url, port = fleet.url, fleet.balancer.port
    try:
        with Visitor(url) as visitor:
            visitor.login()
            fleet.balancer.stop()
            with pytest.raises(FleetError, match="nothing answers"):
                visitor.profile()
    finally:
        fleet.stop()
    assert port_is_free(port)


@pytest.mark.redis
def test_a_store_killed_mid_experiment_is_a_clear_error_and_leaves_nothing(redis_server, balancer):
    shared = SharedStore("redis").start()
    pid = shared.pid
    fleet = Fleet(2, store=shared.url, balancer=balancer, bcrypt_rounds=ROUNDS).start()
    try:
        with Visitor(fleet.url) as visitor:
            visitor.login()
            shared.stop(kill=True)
            with pytest.raises(FleetError, match="the store behind the servers .* stopped answering"):
                visitor.profile()
    finally:
        fleet.stop()
        shared.cleanup()
    assert not process_exists(pid)
    assert all(port_is_free(server.port) for server in fleet.servers)


@pytest.mark.postgres
def test_a_fleet_on_postgresql_shares_sessions_too(postgres_url):
    with Fleet(2, store=postgres_url, bcrypt_rounds=ROUNDS) as fleet, Visitor(fleet.url) as visitor:
        assert visitor.login().status_code == 200
        assert [visitor.profile(server.url).status_code for server in fleet.servers] == [200, 200]


LEFT_RUNNING = {
    "redis": "from authcourse.realservers.redis import RedisServer\nserver = RedisServer().start()\nprint(server.pid, server.port)",
    "nginx": ("from authcourse.fleet import NginxBalancer\nbalancer = NginxBalancer(['http://127.0.0.1:9']).start()\n"
              "print(balancer.pid, balancer.port)"),
}


@pytest.mark.parametrize("kind", [pytest.param("redis", marks=pytest.mark.redis), pytest.param("nginx", marks=pytest.mark.nginx)])
def test_a_server_left_running_stops_when_python_exits(request, kind):
    # A notebook that started one and never stopped it, then a kernel restart: nothing stays behind.
    request.getfixturevalue("redis_server" if kind == "redis" else "nginx_binary")  # skip or require
    out = subprocess.run([sys.executable, "-c", LEFT_RUNNING[kind]], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    pid, port = map(int, out.stdout.split())
    assert not process_exists(pid) and port_is_free(port)
