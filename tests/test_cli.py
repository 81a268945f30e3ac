"""`authcourse serve ...` in a real subprocess: the contract to an outside client, Ctrl-C, bad setups."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import httpx
import pytest
from conftest import ALICE, BOB, MESSAGES, ROUNDS, SECRET, TLS, assert_error
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from authcourse import CourseServer, Settings, cli, create_app
from authcourse.realservers.process import free_port

SCRIPT = Path(sys.executable).with_name("authcourse")  # the console script, as a workshop runs it
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "authcourse"]
READY_TIMEOUT = 30.0  # seconds: a loaded 2-core machine imports FastAPI slowly


def environment(**changes: str | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "AUTHCOURSE_SECRET"}
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


class Serving:
    def __init__(self, process: subprocess.Popen[str], url: str, banner: str = "") -> None:
        self.process = process
        self.url = url
        self.banner = banner  # what was read of stdout before the server answered
        self.http = httpx.Client(base_url=url, timeout=10, verify=TLS)

    def interrupt(self) -> tuple[int, str, str]:
        """Ctrl-C, as a workshop instructor would; the exit code and everything printed."""
        self.http.close()
        self.process.send_signal(signal.SIGINT)
        out, err = self.process.communicate(timeout=20)
        return self.process.returncode, self.banner + out, err


def start_cli(*args: str, env: dict[str, str] | None = None, port: int | None = None) -> Serving:
    port = free_port() if port is None else port
    process = subprocess.Popen(
        [*COMMAND, "serve", "--port", str(port), "--bcrypt-rounds", str(ROUNDS), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or environment(),
    )
    banner = ""
    if port == 0:  # the real port is in the first lines the command prints
        banner = process.stdout.readline() + process.stdout.readline()
        port = int(banner.split("http://127.0.0.1:")[1].split()[0])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        try:
            if httpx.get(f"{url}/health", verify=TLS, timeout=1).status_code == 200:
                return Serving(process, url, banner)
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"authcourse serve exited with {process.returncode}:\n{out}\n{err}")
        if time.monotonic() > deadline:
            process.kill()
            process.communicate()
            pytest.fail("authcourse serve did not answer in time")
        time.sleep(0.05)


@pytest.fixture
def serve() -> Iterator[object]:
    started: list[Serving] = []

    def run(*args: str, env: dict[str, str] | None = None, port: int | None = None) -> Serving:
        serving = start_cli(*args, env=env, port=port)
        started.append(serving)
        return serving

    yield run
    for serving in started:
        if serving.process.poll() is None:
            serving.process.kill()
            serving.process.communicate()
        serving.http.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_serve_token_blacklist_answers_the_contract_then_stops_on_ctrl_c(serve):
    server = serve("--mode", "token", "--revocation", "blacklist", "--quiet")
    http = server.http

    no_token = http.get("/api/profile")
    assert_error(no_token, 401, MESSAGES["token-missing"])
    assert no_token.headers["www-authenticate"] == "Bearer"
    assert_error(http.post("/login", json={"email": ALICE[0], "password": "nope"}), 401, MESSAGES["credentials"])

    bob = http.post("/login", json={"email": BOB[0], "password": BOB[1]}).json()["token"]
    alice = http.post("/login", json={"email": ALICE[0], "password": ALICE[1]}).json()["token"]
    assert http.get("/api/profile", headers=bearer(bob)).json()["user"]["email"] == BOB[0]
    assert http.get("/api/admin", headers=bearer(bob)).status_code == 200
    assert_error(http.get("/api/admin", headers=bearer(alice)), 403, MESSAGES["forbidden"])
    assert_error(http.post("/logout-all", headers=bearer(alice)), 409)

    assert http.post("/logout", headers=bearer(alice)).json() == {"message": "Logged out"}
    replay = http.get("/api/profile", headers=bearer(alice))
    assert_error(replay, 401, MESSAGES["revoked"])
    assert replay.headers["www-authenticate"].startswith("Bearer")
    fresh = http.post("/login", json={"email": ALICE[0], "password": ALICE[1]}).json()["token"]
    assert http.get("/api/profile", headers=bearer(fresh)).status_code == 200

    code, out, err = server.interrupt()
    assert code == 0, err
    assert "Traceback" not in err, err
    assert f"listening on {server.url}" in out
    assert "alice@example.com / wonderland (user)" in out and "bob@example.com / builder (admin)" in out
    assert "mode token, revocation blacklist, store fakeredis" in out
    assert "secret: random for this process" in out


def test_serve_session_mode_by_default_and_logs_requests_unless_quiet(serve):
    server = serve()
    login = server.http.post("/login", json={"email": ALICE[0], "password": ALICE[1]})
    assert "sid=" in login.headers["set-cookie"]
    assert server.http.get("/api/profile").json()["user"]["email"] == ALICE[0]
    code, out, err = server.interrupt()
    assert code == 0, err
    assert "mode session, revocation none, store fakeredis" in out
    assert "GET /api/profile" in out + err


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (granian's worker), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads worker processes from /proc (Linux)")
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_stopping_the_cli_stops_its_worker_process_too(serve, stop):
    server = serve("--quiet")
    workers = children(server.process.pid)
    assert len(workers) == 1  # one granian worker serves the app
    server.http.close()
    server.process.send_signal(stop)
    _, err = server.process.communicate(timeout=20)
    assert server.process.returncode == 0, err
    assert not running(workers[0])


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads worker processes from /proc (Linux)")
def test_a_killed_cli_takes_its_worker_with_it(serve):
    server = serve("--quiet")
    [worker] = children(server.process.pid)
    server.process.kill()  # kill -9: no chance to stop the worker itself
    server.process.communicate(timeout=20)  # returns once the worker has closed the pipes too
    deadline = time.monotonic() + 10
    while running(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(worker)


def test_port_0_serves_on_a_free_port_and_prints_it(serve):
    server = serve("--mode", "token", "--quiet", port=0)
    assert not server.url.endswith(":0")
    assert server.http.get("/health").json() == {"status": "ok"}
    code, out, err = server.interrupt()
    assert code == 0, err
    assert f"listening on {server.url}" in out


RAW_GARBAGE = {
    "binary request line": b"\x00\x01\x02 garbage\r\n\r\n",
    "header line without a colon": b"GET /health HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
    "non-ASCII cookie": b"GET /api/profile HTTP/1.1\r\nHost: x\r\nCookie: sid=\xff\xfe\xc3\xa9\r\n\r\n",
    "1 MB header": b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 2**20 + b"\r\n\r\n",
    "200 headers": b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(200)) + b"\r\n",
    "Content-Length not a number": b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
    "Content-Length of 100 GB": (
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n{}"
    ),
    "space in the path": b"GET /api/pro file HTTP/1.1\r\nHost: x\r\n\r\n",
}


def test_the_workshop_server_answers_malformed_http_with_a_4xx_and_keeps_serving(serve):
    """What the app never sees (broken HTTP) is refused by the server itself, never with a 5xx."""
    server = serve("--quiet")
    host, port = server.url.removeprefix("http://").split(":")
    for name, request in RAW_GARBAGE.items():
        with socket.create_connection((host, int(port)), timeout=10) as connection:
            try:
                connection.sendall(request)
            except (BrokenPipeError, ConnectionResetError):
                pass  # refused before the whole request was sent: the answer is already waiting
            status_line = connection.recv(4096).split(b"\r\n")[0]
        assert status_line.startswith(b"HTTP/1.1 4"), (name, status_line)
    login = server.http.post("/login", json={"email": ALICE[0], "password": ALICE[1]})
    assert login.status_code == 200
    assert server.http.get("/api/profile").json()["user"]["email"] == ALICE[0]


def test_two_processes_sharing_authcourse_secret_accept_each_other_s_tokens(serve):
    server = serve("--mode", "token", "--quiet", env=environment(AUTHCOURSE_SECRET=SECRET))
    with CourseServer("token", secret=SECRET, bcrypt_rounds=ROUNDS) as other:
        token = httpx.post(f"{other.url}/login", json={"email": BOB[0], "password": BOB[1]}, verify=TLS).json()["token"]
    assert server.http.get("/api/admin", headers=bearer(token)).status_code == 200
    code, out, _ = server.interrupt()
    assert code == 0
    assert "secret: random" not in out


def write_pem(path: Path, key: object) -> Path:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,  # type: ignore[attr-defined]
                                       serialization.NoEncryption()))
    return path


def test_two_eddsa_servers_sharing_a_signing_key_accept_each_other_s_tokens_and_strangers_do_not(serve, tmp_path):
    pem = write_pem(tmp_path / "signing.pem", ed25519.Ed25519PrivateKey.generate())
    first = serve("--mode", "token", "--algorithm", "EdDSA", "--signing-key", str(pem), "--quiet")
    second = serve("--mode", "token", "--algorithm", "EdDSA", "--quiet", port=0,
                   env=environment(AUTHCOURSE_SIGNING_KEY=str(pem)))
    stranger = serve("--mode", "token", "--algorithm", "EdDSA", "--quiet")
    token = first.http.post("/login", json={"email": BOB[0], "password": BOB[1]}).json()["token"]
    assert second.http.get("/api/admin", headers=bearer(token)).status_code == 200
    assert first.http.get("/.well-known/jwks.json").json() == second.http.get("/.well-known/jwks.json").json()
    assert stranger.http.get("/api/admin", headers=bearer(token)).status_code == 401
    _, out, _ = first.interrupt()
    assert f"signing key: {pem}" in out
    assert "signing key: random for this process" in stranger.interrupt()[1]


@pytest.mark.parametrize("content", ["not a key", "rsa"], ids=["garbage", "an RSA key for EdDSA"])
def test_a_missing_or_wrong_signing_key_stops_the_cli_with_a_clear_message(tmp_path, content):
    pem = tmp_path / "signing.pem"
    if content == "rsa":
        write_pem(pem, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    else:
        pem.write_text(content)
    for path in (pem, tmp_path / "missing.pem"):
        result = subprocess.run([*COMMAND, "serve", "--mode", "token", "--algorithm", "EdDSA", "--signing-key",
                                 str(path), "--port", "0"], capture_output=True, text=True, env=environment(), timeout=60)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("authcourse: "), result.stderr
        assert "Traceback" not in result.stderr


def test_a_weak_authcourse_secret_stops_the_cli_with_a_clear_message():
    result = subprocess.run(
        [*COMMAND, "serve", "--port", str(free_port()), "--bcrypt-rounds", str(ROUNDS)],
        capture_output=True,
        text=True,
        env=environment(AUTHCOURSE_SECRET="hunter2"),
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "authcourse: the secret is 7 bytes; HS256 needs at least 32" in result.stderr
    assert "Traceback" not in result.stderr
    assert "listening" not in result.stdout


def test_an_unreachable_redis_stops_the_cli_before_it_serves():
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    result = subprocess.run(
        [*COMMAND, "serve", "--port", str(free_port()), "--store", url, "--bcrypt-rounds", str(ROUNDS)],
        capture_output=True,
        text=True,
        env=environment(),
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert f"authcourse: cannot reach Redis at {url}" in result.stderr
    assert "Traceback" not in result.stderr
    assert "listening" not in result.stdout


def test_a_port_in_use_stops_the_cli_with_a_clear_message():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*COMMAND, "serve", "--port", str(port), "--bcrypt-rounds", str(ROUNDS)],
            capture_output=True,
            text=True,
            env=environment(),
            timeout=60,
        )
    assert result.returncode != 0
    assert "address already in use" in result.stderr
    assert "Traceback" not in result.stderr


# Bad flags, in process: argparse and the settings check run before any server starts --------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: command"),
        (["serve", "--mode", "jwt"], "argument --mode: invalid choice: 'jwt'"),
        (["serve", "--revocation", "denylist"], "argument --revocation: invalid choice: 'denylist'"),
        (["serve", "--port", "eighty"], "argument --port: invalid int value: 'eighty'"),
        (["serve", "--no-such-flag"], "unrecognized arguments: --no-such-flag"),
        (["launch"], "invalid choice: 'launch'"),
    ],
)
def test_bad_flags_are_refused_by_name(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--mode", "session", "--revocation", "blacklist"], "revocation applies to the token modes"),
        (["serve", "--store", "mongo://localhost"], "unknown store 'mongo://localhost'"),
        (["serve", "--bcrypt-rounds", "3"], "bcrypt_rounds must be between 4 and 31"),
        (["serve", "--idle-timeout", "0"], "idle_timeout must be a positive number of seconds"),
        (["serve", "--token-lifetime", "-5"], "token_lifetime must be a positive number of seconds"),
    ],
)
def test_a_bad_setup_is_refused_with_a_clear_message(capsys, monkeypatch, argv, message):
    monkeypatch.delenv("AUTHCOURSE_SECRET", raising=False)
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert err.startswith("authcourse: ") and message in err
    assert "listening" not in out


def test_an_unreachable_redis_is_refused_with_a_clear_message(capsys):
    url = f"redis://127.0.0.1:{free_port()}/0"
    assert cli.main(["serve", "--store", url]) == 2
    assert f"authcourse: cannot reach Redis at {url}" in capsys.readouterr().err


def test_a_weak_secret_in_the_environment_is_refused_in_process(capsys, monkeypatch):
    monkeypatch.setenv("AUTHCOURSE_SECRET", "x" * 31)
    assert cli.main(["serve", "--mode", "token"]) == 2
    assert "the secret is 31 bytes" in capsys.readouterr().err


def test_serve_refresh_rotates_the_refresh_cookie_at_post_refresh(serve):
    server = serve("--mode", "token", "--refresh", "--quiet", port=0)
    assert "refresh tokens at POST /refresh" in server.banner
    login = server.http.post("/login", json={"email": ALICE[0], "password": ALICE[1]})
    first = login.cookies["refresh"]
    server.http.cookies.clear()
    refreshed = server.http.post("/refresh", headers={"Cookie": f"refresh={first}"})
    assert refreshed.status_code == 200, refreshed.text
    assert server.http.get("/api/profile", headers=bearer(refreshed.json()["token"])).status_code == 200
    assert refreshed.cookies["refresh"] != first
    server.http.cookies.clear()
    assert_error(server.http.post("/refresh", headers={"Cookie": "refresh=garbage"}), 401, "Invalid refresh token")


def test_serve_cross_site_guard_refuses_a_cross_site_post_and_lets_a_trusted_origin_through(serve):
    server = serve("--cross-site-guard", "--trusted-origin", "https://app.bank.test", "--quiet", port=0)
    assert "cross-site guard, trusting https://app.bank.test" in server.banner
    alice = {"email": ALICE[0], "password": ALICE[1]}
    forged = server.http.post("/login", json=alice, headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.test"})
    assert_error(forged, 403)
    trusted = server.http.post("/login", json=alice,
                               headers={"Sec-Fetch-Site": "same-site", "Origin": "https://app.bank.test"})
    assert trusted.status_code == 200, trusted.text
    assert server.http.get("/health", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200  # safe methods pass


def test_serve_without_the_guard_lets_a_cross_site_post_in(serve):
    server = serve("--quiet", port=0)
    assert "cross-site guard" not in server.banner
    alice = {"email": ALICE[0], "password": ALICE[1]}
    forged = server.http.post("/login", json=alice, headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.test"})
    assert forged.status_code == 200, forged.text


def test_serve_refuses_a_trusted_origin_that_is_not_an_origin():
    result = subprocess.run([*COMMAND, "serve", "--trusted-origin", "app.bank.test/path"], capture_output=True, text=True,
                            env=environment(), timeout=60)
    assert result.returncode == 2
    assert "trusted_origins" in result.stderr


def test_serve_refuses_refresh_in_session_mode():
    result = subprocess.run([*COMMAND, "serve", "--refresh"], capture_output=True, text=True, env=environment(), timeout=60)
    assert result.returncode == 2
    assert "token modes" in result.stderr


def test_serve_vulnerable_serves_the_lab_on_loopback_with_a_loud_warning(serve):
    server = serve("--vulnerable", "--quiet", port=0)
    assert server.http.get("/health").json() == {"status": "ok", "vulnerable": True}
    token = server.http.post("/alg/login", json={"email": ALICE[0], "password": ALICE[1]}).json()["token"]
    assert token.count(".") == 2
    code, out, err = server.interrupt()
    assert "DELIBERATELY VULNERABLE" in err and "Never expose it" in err
    assert "VULNERABLE JWT lab" in out


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1"])
def test_serve_vulnerable_refuses_any_host_but_loopback(host):
    result = subprocess.run(
        [*COMMAND, "serve", "--vulnerable", "--host", host, "--port", "0"], capture_output=True, text=True, env=environment(), timeout=60
    )
    assert result.returncode == 2, result.stderr
    assert "loopback only" in result.stderr


# The database stores ---------------------------------------------------------------------------


@pytest.mark.postgres
def test_two_processes_sharing_a_postgres_store_and_the_secret_share_sessions(serve, postgres_url):
    env = environment(AUTHCOURSE_SECRET=SECRET)
    a = serve("--store", postgres_url, "--quiet", env=env)
    b = serve("--store", postgres_url, "--quiet", env=env)
    login = a.http.post("/login", json={"email": ALICE[0], "password": ALICE[1]})
    assert login.status_code == 200, login.text
    cookie = {"Cookie": f"sid={login.cookies['sid']}"}
    a.http.cookies.clear()
    assert b.http.get("/api/profile", headers=cookie).json()["user"]["email"] == ALICE[0]
    assert b.http.post("/logout", headers=cookie).status_code == 200
    b.http.cookies.clear()
    assert_error(a.http.get("/api/profile", headers=cookie), 401, MESSAGES["session-missing"])
    code, out, _ = a.interrupt()
    assert code == 0 and "store postgresql://127.0.0.1:" in out


def test_serve_with_a_mongomock_store_answers_the_session_contract(serve):
    server = serve("--store", "mongomock://workshop/authcourse", "--quiet")
    login = server.http.post("/login", json={"email": ALICE[0], "password": ALICE[1]})
    assert login.status_code == 200, login.text
    assert server.http.get("/api/profile").json()["user"]["email"] == ALICE[0]
    assert server.http.post("/logout").status_code == 200
    assert_error(server.http.get("/api/profile"), 401, MESSAGES["session-missing"])
    code, out, _ = server.interrupt()
    assert code == 0 and "store mongomock://workshop/authcourse" in out


@pytest.mark.parametrize(("url", "message"), [
    ("postgresql://postgres@127.0.0.1:{port}/postgres", "cannot reach PostgreSQL at postgresql://postgres@127.0.0.1"),
    ("mongodb://127.0.0.1:{port}/authcourse", "cannot reach MongoDB at mongodb://127.0.0.1:{port}/authcourse"),
])
def test_an_unreachable_database_is_refused_with_a_clear_message(capsys, url, message):
    port = free_port()
    assert cli.main(["serve", "--store", url.format(port=port)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("authcourse: ") and message.format(port=port) in err


# The worker's garbage collector settings (cli.tune_garbage_collector) ------------------------------


async def asgi_request(app, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, list, bytes]:
    """One request straight into the ASGI app, with nothing of an HTTP client's own around it."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80)}
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    reply: dict = {"body": b""}

    async def receive() -> dict:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            reply.update(status=message["status"], headers=message["headers"])
        else:
            reply["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return reply["status"], reply["headers"], reply["body"]


@pytest.mark.parametrize(
    ("mode", "revocation", "store"),
    [("session", "none", "memory"), ("session", "none", "fakeredis"), ("token", "blacklist", "fakeredis"),
     pytest.param("session", "none", "redis", marks=pytest.mark.redis),
     pytest.param("token", "blacklist", "redis", marks=pytest.mark.redis)],
)
def test_requests_leave_no_cyclic_garbage_for_the_collector_to_find(request, mode, revocation, store):
    # What makes it sound to collect less often in the worker: a request frees all it made by
    # reference counting alone, including requests that waited for a real Redis, and refusals.
    url = request.getfixturevalue("redis_url") if store == "redis" else store
    app = create_app(Settings(mode=mode, revocation=revocation, store=url, bcrypt_rounds=ROUNDS))
    login = json.dumps({"email": ALICE[0], "password": ALICE[1]}).encode()
    forged = {"cookie": "sid=forged", "authorization": "Bearer x.y.z"}

    async def scenario() -> int:
        status, headers, body = await asgi_request(app, "POST", "/login", {"content-type": "application/json"}, login)
        assert status == 200
        cookie = next((v.decode().split(";")[0] for k, v in headers if k == b"set-cookie"), None)
        credential = {"cookie": cookie} if cookie else {"authorization": f"Bearer {json.loads(body)['token']}"}
        for _ in range(20):  # the first calls fill caches that live on
            await asgi_request(app, "GET", "/api/profile", credential)
            await asgi_request(app, "GET", "/api/profile", forged)
        gc.collect()
        gc.disable()
        try:
            for _ in range(200):
                assert (await asgi_request(app, "GET", "/api/profile", credential))[0] == 200
                assert (await asgi_request(app, "GET", "/api/profile", forged))[0] == 401
                assert (await asgi_request(app, "GET", "/health", {}))[0] == 200
            return gc.collect()
        finally:
            gc.enable()

    try:
        assert asyncio.run(scenario()) == 0
    finally:
        app.state.store.close()


def test_the_worker_freezes_what_it_built_and_collects_the_young_generation_less_often(monkeypatch):
    settings = Settings(mode="token", bcrypt_rounds=ROUNDS)
    monkeypatch.setenv(cli.WORKER_SETTINGS_ENV, json.dumps(asdict(settings)))
    monkeypatch.setattr(cli.sys, "platform", "not-linux")  # no prctl(PR_SET_PDEATHSIG) on the test process
    before = gc.get_threshold()
    try:
        app = cli.worker_app()
        assert gc.get_threshold()[0] == cli.YOUNG_COLLECTION_EVERY
        assert gc.get_freeze_count() > 10_000  # the app and all it imported
        app.state.store.close()
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


@pytest.mark.parametrize(("argv", "remembers"), [([], True), (["--no-signature-cache"], False)])
def test_serve_hands_the_signature_cache_switch_to_its_worker(monkeypatch, argv, remembers):
    handed: list[str] = []

    class NotServing:
        def __init__(self, *args: object, **kwargs: object) -> None:
            handed.append(os.environ[cli.WORKER_SETTINGS_ENV])

        def serve(self) -> None:
            pass

    monkeypatch.setattr(cli, "Granian", NotServing)
    monkeypatch.delenv(cli.WORKER_SETTINGS_ENV, raising=False)
    assert cli.main(["serve", "--mode", "token", "--port", "0", "--bcrypt-rounds", str(ROUNDS), *argv]) == 0
    monkeypatch.setenv(cli.WORKER_SETTINGS_ENV, handed[0])
    monkeypatch.setattr(cli.sys, "platform", "not-linux")
    before = gc.get_threshold()
    try:
        app = cli.worker_app()
        tokens = app.state.auth.tokens
        token = tokens.create_access_token(1, "user")
        tokens.decode_token(token)
        assert len(tokens.verified) == (1 if remembers else 0)
        app.state.store.close()
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
