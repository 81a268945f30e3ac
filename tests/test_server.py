"""CourseServer: starts ready, stops clean, fails fast, runs side by side, says nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import socket
import threading
import time

import httpx
import pytest
from conftest import ALICE, ROUNDS, TLS, assert_error

from authcourse import CourseServer, ServerStartError
from authcourse.realservers.process import free_port


def open_fds() -> dict[int, str]:
    fds = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            fds[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except FileNotFoundError:  # the listing's own descriptor, closed already
            pass
    return fds


def threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.is_alive()}


def left_behind(threads_before: set[threading.Thread], fds_before: dict[int, str]) -> tuple[set, dict]:
    """Threads and descriptors that exist now and did not before.

    AnyIO's worker threads end a moment after their event loop closes, so give them up to 5 s
    to go; a real leak never does. Things that went away meanwhile (other servers' idle workers)
    are not our business.
    """
    deadline = time.monotonic() + 5
    while True:
        new_threads = threads() - threads_before
        new_fds = dict(open_fds().items() - fds_before.items())
        if (not new_threads and not new_fds) or time.monotonic() > deadline:
            return new_threads, new_fds
        time.sleep(0.02)


def cycle(store: str = "fakeredis", *, login: bool = False) -> None:
    server = CourseServer("session", store=store, bcrypt_rounds=ROUNDS).start()
    try:
        with httpx.Client(base_url=server.url, verify=TLS) as client:
            assert client.get("/health").status_code == 200
            if login:
                assert client.post("/login", json={"email": ALICE[0], "password": ALICE[1]}).status_code == 200
                assert client.get("/api/profile").status_code == 200
    finally:
        server.stop()
    assert not server.running


@pytest.mark.slow
def test_100_start_stop_cycles_leave_no_thread_socket_or_descriptor_behind():
    cycle(login=True)  # warm up: imports, the dummy hash, lazily made module state
    threads_before, fds_before = threads(), open_fds()
    for n in range(100):
        cycle(login=n % 10 == 0)
    assert left_behind(threads_before, fds_before) == (set(), {})


@pytest.mark.redis
def test_cycles_on_a_real_redis_leave_no_connection_behind(redis_url):
    cycle(redis_url, login=True)
    threads_before, fds_before = threads(), open_fds()
    for _ in range(10):
        cycle(redis_url, login=True)
    assert left_behind(threads_before, fds_before) == (set(), {})


def test_stop_releases_the_port():
    server = CourseServer("session", bcrypt_rounds=ROUNDS).start()
    port = server.port
    server.stop()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # would raise if anything still held it


def test_the_server_thread_is_a_daemon_and_gone_after_stop():
    with CourseServer("token", bcrypt_rounds=ROUNDS) as server:
        thread = server._thread
        assert thread is not None and thread.daemon and thread.is_alive()
    assert not thread.is_alive()


def test_a_port_in_use_fails_at_once_with_a_clear_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        threads_before, fds_before = threads(), open_fds()
        started = time.monotonic()
        with pytest.raises(ServerStartError, match=f"cannot listen on 127.0.0.1:{port}"):
            CourseServer("session", port=port, bcrypt_rounds=ROUNDS).start()
        assert time.monotonic() - started < 1.0
        assert left_behind(threads_before, fds_before) == (set(), {})


def test_a_port_held_by_another_course_server_fails_at_once(make_server):
    first = make_server("session")
    started = time.monotonic()
    with pytest.raises(ServerStartError):
        CourseServer("token", port=first.port, bcrypt_rounds=ROUNDS).start()
    assert time.monotonic() - started < 1.0
    assert httpx.get(f"{first.url}/health", verify=TLS).status_code == 200


def test_a_fixed_free_port_is_used():
    port = free_port()
    with CourseServer("session", port=port, bcrypt_rounds=ROUNDS) as server:
        assert server.url == f"http://127.0.0.1:{port}"
        assert httpx.get(f"{server.url}/health", verify=TLS).status_code == 200


def test_several_servers_run_side_by_side(make_server, make_api):
    servers = [
        make_server("session"),
        make_server("session", store="memory"),
        make_server("token"),
        make_server("token", revocation="version"),
        make_server("cookie-token", revocation="blacklist"),
    ]
    assert len({server.port for server in servers}) == len(servers)
    apis = [make_api(server) for server in servers]
    for api in apis:
        assert api.profile(api.login("alice")).status_code == 200
    assert "token" in apis[2].post_login(*ALICE).json()
    assert "set-cookie" in apis[0].post_login(*ALICE).headers
    servers[0].stop()
    for api in apis[1:]:
        assert api.get("/health").status_code == 200


def test_start_returns_a_ready_server():
    server = CourseServer("session", bcrypt_rounds=ROUNDS)
    try:
        assert server.start() is server
        assert server.running
        assert httpx.get(f"{server.url}/health", verify=TLS).status_code == 200
    finally:
        server.stop()


def test_start_while_running_is_a_no_op():
    with CourseServer("session", bcrypt_rounds=ROUNDS) as server:
        port, app = server.port, server.app
        assert server.start() is server
        assert (server.port, server.app) == (port, app)


def test_stop_is_safe_twice_and_before_start():
    server = CourseServer("session", bcrypt_rounds=ROUNDS)
    server.stop()
    server.start()
    server.stop()
    server.stop()
    assert not server.running


def test_a_stopped_server_can_start_again():
    server = CourseServer("token", bcrypt_rounds=ROUNDS)
    try:
        server.start()
        server.stop()
        server.start()
        assert httpx.get(f"{server.url}/health", verify=TLS).status_code == 200
    finally:
        server.stop()


def test_url_and_store_need_a_running_server():
    server = CourseServer("session", bcrypt_rounds=ROUNDS)
    with pytest.raises(RuntimeError, match="start"):
        server.url
    with pytest.raises(RuntimeError, match="start"):
        server.store


def test_repr_names_mode_revocation_store_and_where():
    server = CourseServer("token", revocation="blacklist", store="memory", bcrypt_rounds=ROUNDS)
    assert repr(server) == "<CourseServer token revocation=blacklist store=memory stopped>"
    with server:
        assert repr(server).endswith(f"{server.url}>")


def test_the_store_is_the_one_the_app_uses(make_server, make_api):
    server = make_server("session", store="memory")
    make_api(server).login("alice")
    assert server.store is server.app.state.store
    assert len(server.store.keys("session:*")) == 1


def test_the_server_prints_and_logs_nothing(capfd, caplog):
    with CourseServer("token", bcrypt_rounds=ROUNDS) as server:
        with httpx.Client(base_url=server.url, verify=TLS) as client:
            client.get("/health")
            client.post("/login", content=b"{bad", headers={"Content-Type": "application/json"})
            assert_error(client.get("/api/profile", headers={"Authorization": "Bearer x"}), 401)
            client.get("/nope")
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert [record for record in caplog.records if record.name.startswith("uvicorn")] == []


def test_a_server_left_running_is_stopped_when_the_interpreter_exits():
    # A notebook keeps its servers for the widgets after Run All; the kernel's exit stops them.
    # The check is registered first, so it runs after the server's own exit hook.
    program = (
        "import atexit\n"
        "servers = []\n"
        "atexit.register(lambda: print('running at exit:', [s.running for s in servers]))\n"
        "from authcourse import CourseServer\n"
        f"servers += [CourseServer('session', bcrypt_rounds={ROUNDS}).start(), CourseServer('token').start()]\n"
        "del servers[1]\n"  # one dropped by the notebook too: a stopped or collected server is no trouble
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "running at exit: [False]", done.stdout + done.stderr
