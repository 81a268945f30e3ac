"""`authcourse fleet`: a workshop fleet from the command line, stopped by Ctrl-C with nothing left."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx
import psutil
import pytest

from authcourse.fleet.client import Visitor

SETUPS = ["builtin", pytest.param("nginx", marks=[pytest.mark.nginx, pytest.mark.redis])]


def start_fleet(*args: str) -> tuple[subprocess.Popen, list[str]]:
    process = subprocess.Popen([sys.executable, "-m", "authcourse", "fleet", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={k: v for k, v in os.environ.items()
                                                                        if k != "AUTHCOURSE_SECRET"})
    lines: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "balancer (" in line:
            return process, lines
    process.kill()
    errors = process.communicate()[1]
    raise AssertionError(f"the fleet did not start: {''.join(lines)} {errors}")


@pytest.mark.timeout(180)
@pytest.mark.parametrize("balancer", SETUPS)
def test_the_fleet_serves_a_login_on_one_server_and_the_profile_on_another_and_ctrl_c_stops_all(request, balancer):
    store = request.getfixturevalue("redis_url") if balancer == "nginx" else "shared"
    if balancer == "nginx":
        request.getfixturevalue("nginx_binary")
    process, lines = start_fleet("--servers", "3", "--store", store, "--balancer", balancer, "--port", "0",
                                 "--bcrypt-rounds", "4")
    try:
        url = re.search(r"round-robin\): (http://\S+)", lines[-1]).group(1)
        servers = re.findall(r"server \d: (http://\S+)", "".join(lines))
        assert len(servers) == 3
        family = psutil.Process(process.pid).children(recursive=True)  # the servers and their granian workers
        assert len(family) >= 3 + (1 if balancer == "nginx" else 0)
        with Visitor(url) as visitor:
            assert visitor.login().status_code == 200
            assert [visitor.profile().status_code for _ in range(3)] == [200] * 3  # the next servers in turn
            assert [visitor.profile(server).status_code for server in servers] == [200] * 3
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(60)
        errors = process.stderr.read()
        process.stdout.close()
        process.stderr.close()
    assert code == 0, errors
    assert not [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    for address in [url, *servers]:
        with pytest.raises(httpx.ConnectError):
            httpx.get(address + "/health", timeout=2)


def test_an_unreachable_store_stops_the_fleet_before_it_starts():
    result = subprocess.run([sys.executable, "-m", "authcourse", "fleet", "--store", "redis://127.0.0.1:1/0",
                             "--port", "0"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "cannot reach Redis" in result.stderr


def test_a_fleet_of_more_than_ten_is_refused():
    result = subprocess.run([sys.executable, "-m", "authcourse", "fleet", "--servers", "11"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and "between 1 and 10" in result.stderr
