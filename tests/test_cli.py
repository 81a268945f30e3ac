"""`authcourse serve ...` in a real subprocess: the contract to an outside client, Ctrl-C, bad setups."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from authcourse import CourseServer, cli
from authcourse.redisserver import free_port
from conftest import ALICE, BOB, MESSAGES, ROUNDS, SECRET, TLS, assert_error

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
    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=10, verify=TLS)

    def interrupt(self) -> tuple[int, str, str]:
        """Ctrl-C, as a workshop instructor would; the exit code and everything printed."""
        self.http.close()
        self.process.send_signal(signal.SIGINT)
        out, err = self.process.communicate(timeout=20)
        return self.process.returncode, out, err


def start_cli(*args: str, env: dict[str, str] | None = None) -> Serving:
    port = free_port()
    process = subprocess.Popen(
        [*COMMAND, "serve", "--port", str(port), "--bcrypt-rounds", str(ROUNDS), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or environment(),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        try:
            if httpx.get(f"{url}/health", verify=TLS, timeout=1).status_code == 200:
                return Serving(process, url)
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

    def run(*args: str, env: dict[str, str] | None = None) -> Serving:
        serving = start_cli(*args, env=env)
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


def test_two_processes_sharing_authcourse_secret_accept_each_other_s_tokens(serve):
    server = serve("--mode", "token", "--quiet", env=environment(AUTHCOURSE_SECRET=SECRET))
    with CourseServer("token", secret=SECRET, bcrypt_rounds=ROUNDS) as other:
        token = httpx.post(f"{other.url}/login", json={"email": BOB[0], "password": BOB[1]}, verify=TLS).json()["token"]
    assert server.http.get("/api/admin", headers=bearer(token)).status_code == 200
    code, out, _ = server.interrupt()
    assert code == 0
    assert "secret: random" not in out


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
        (["serve", "--store", "mongodb://localhost"], "unknown store 'mongodb://localhost'"),
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
