"""`authcourse fleet`: N `authcourse serve` processes on one shared store, behind one balancer, for a room.

The servers share one secret (`AUTHCOURSE_SECRET`, drawn here unless it is set) and one store
(`--store`: a redis:// URL, `redis` for a throwaway redis-server, or `shared`, fakeredis's TCP
server in this process). Ctrl-C (or SIGTERM) stops the balancer, every server and the store.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import subprocess
import sys
import time

import httpx

from ..errors import ConfigurationError
from ..realservers.process import free_port
from ..stores import open_store
from ..tokens import SECRET_ENV, load_secret
from .balancer import BalancerError, open_balancer
from .fleet import draw_secret
from .sharedstore import SharedStore

READY_TIMEOUT = 60.0  # seconds for every server to answer /health


def add_parser(commands: argparse._SubParsersAction) -> None:  # noqa: SLF001 - argparse's own type
    fleet = commands.add_parser(
        "fleet", help="run N servers on one shared store behind a load balancer (Ctrl-C stops all)"
    )
    fleet.add_argument("--servers", type=int, default=3, help="how many `authcourse serve` processes (1-10, default 3)")
    fleet.add_argument("--store", default="shared",
                       help="redis://HOST:PORT/DB (a Redis all servers reach; postgresql:// works too), "
                            "redis (a throwaway redis-server), "
                            "shared (fakeredis's TCP server in this process, the default); memory or fakeredis "
                            "give every server its own store, to see what breaks")
    fleet.add_argument("--balancer", choices=("builtin", "nginx"), default="builtin")
    fleet.add_argument("--mode", choices=("session", "token", "cookie-token"), default="session")
    fleet.add_argument("--revocation", choices=("none", "blacklist", "version"), default="none")
    fleet.add_argument("--port", type=int, default=8000, help="the balancer's port (0: any free port)")
    fleet.add_argument("--bcrypt-rounds", type=int, default=None, help="work factor of the servers")
    fleet.set_defaults(handler=run)


def _die_with_parent() -> None:
    if sys.platform == "linux":  # the kernel sends SIGTERM to the server if the fleet dies (even kill -9)
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


def _serve_command() -> list[str]:
    return [sys.executable, "-m", "authcourse", "serve"]


def _wait_ready(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server for {url} exited with code {process.returncode}")
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the server at {url} did not answer within {READY_TIMEOUT:.0f} s")


def _interrupted(signum, frame) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.servers <= 10:
        print("authcourse: --servers must be between 1 and 10", file=sys.stderr)
        return 2
    shared: SharedStore | None = None
    processes: list[subprocess.Popen] = []
    balancer = None
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        secret = os.environ.get(SECRET_ENV) or draw_secret()
        load_secret(secret)
        if args.store in ("shared", "redis"):
            shared = SharedStore("fakeredis" if args.store == "shared" else "redis").start()
            store = shared.url
        else:
            store = args.store
            if "://" in store:
                open_store(store).close()  # an unreachable store stops us here, clearly
        env = dict(os.environ, **{SECRET_ENV: secret})
        urls = []
        for _ in range(args.servers):
            port = free_port()
            command = [*_serve_command(), "--mode", args.mode, "--revocation", args.revocation, "--store", store,
                       "--port", str(port), "--quiet"]
            if args.bcrypt_rounds is not None:
                command += ["--bcrypt-rounds", str(args.bcrypt_rounds)]
            processes.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, preexec_fn=_die_with_parent))
            urls.append(f"http://127.0.0.1:{port}")
        for url, process in zip(urls, processes):
            _wait_ready(url, process)
        if args.port == 0:
            balancer = open_balancer(args.balancer, urls)
        else:
            balancer = _balancer_on(args.balancer, urls, args.port)
    except (ConfigurationError, BalancerError, RuntimeError) as error:
        print(f"authcourse: {error}", file=sys.stderr)
        _stop(balancer, processes, shared)
        return 1
    except KeyboardInterrupt:
        _stop(balancer, processes, shared)
        return 0

    print(f"authcourse fleet: {args.servers} x mode {args.mode}, revocation {args.revocation}, store {store}")
    for number, (url, process) in enumerate(zip(urls, processes), 1):
        print(f"  server {number}: {url}  (pid {process.pid})")
    print(f"  balancer ({args.balancer}, round-robin): {balancer.url}   (Ctrl-C to stop all)")
    print(f"  one secret for every server ({'from ' + SECRET_ENV if os.environ.get(SECRET_ENV) else 'drawn at start'})")
    if args.store in ("memory", "fakeredis"):
        print(f"  note: with --store {args.store} every server has its own store: sessions will not follow you")
    sys.stdout.flush()
    code = 0
    try:
        while True:
            for url, process in zip(urls, processes):
                if process.poll() is not None:
                    print(f"authcourse: the server at {url} stopped (exit code {process.returncode}); "
                          "stopping the fleet", file=sys.stderr)
                    code = 1
                    raise KeyboardInterrupt
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        _stop(balancer, processes, shared)
    return code


def _balancer_on(kind: str, urls: list[str], port: int):
    from ..realservers.nginx import NginxBalancer
    from .balancer import BuiltinBalancer

    balancer = BuiltinBalancer(urls, port=port) if kind == "builtin" else NginxBalancer(urls, port=port)
    return balancer.start()


def _stop(balancer, processes: list[subprocess.Popen], shared: SharedStore | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup short
    try:
        if balancer is not None:
            balancer.stop()
        for process in processes:
            if process.poll() is None:
                process.terminate()  # granian stops its worker cleanly on SIGTERM
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        if shared is not None:
            shared.cleanup()
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
