"""`authcourse serve ...`: the mini-server in the foreground, for workshops and for curl.

It runs on granian, an HTTP server written in Rust: the sockets and the HTTP parsing happen on a
Rust thread, so the one Python worker spends its time on the app itself (the notebooks' in-kernel
`CourseServer` uses uvicorn in a thread instead). Granian starts the app in a worker process of
its own, from `worker_app` below, with the settings handed down in an environment variable.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import signal
import socket
import sys
from dataclasses import asdict
from pathlib import Path

from fastapi import FastAPI
from granian import Granian
from granian.constants import Interfaces
from granian.log import LogLevels

from .app import create_app
from .errors import ConfigurationError
from .passwords import DEFAULT_ROUNDS
from .settings import MODES, REVOCATIONS, Settings
from .stores import open_store
from .tokens import ALGORITHM, ALGORITHMS, SECRET_ENV, SIGNING_KEY_ENV, load_key_set, load_secret
from .users import DEMO_USERS

WORKER_SETTINGS_ENV = "AUTHCOURSE_SERVE_SETTINGS"  # how `serve` hands its settings to the worker process
VULNERABLE_ROUNDS_ENV = "AUTHCOURSE_VULNERABLE_ROUNDS"  # how `serve --vulnerable` hands the work factor down
# Allocations between two young-generation collections in the worker (Python's default: 700).
YOUNG_COLLECTION_EVERY = 10_000


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="authcourse", description="Session vs token authentication, to run and to see.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the mini-server in the foreground (Ctrl-C stops it)")
    serve.add_argument("--mode", choices=MODES, default="session")
    serve.add_argument("--revocation", choices=REVOCATIONS, default="none", help="token modes only (default: none)")
    serve.add_argument(
        "--store",
        default="fakeredis",
        help="memory, fakeredis (default), or a URL shared by many servers: redis://HOST:PORT/DB, "
        "postgresql://USER@HOST:PORT/DB, mongodb://HOST:PORT/DB (mongomock://NAME/DB: in-process MongoDB stand-in)",
    )
    serve.add_argument(
        "--algorithm",
        choices=ALGORITHMS,
        default="HS256",
        help="token modes: HS256 (shared secret, default) or RS256/ES256/EdDSA (a key set, public keys at "
        "/.well-known/jwks.json)",
    )
    serve.add_argument(
        "--signing-key",
        metavar="PEM",
        default=None,
        help=f"with --algorithm RS256/ES256/EdDSA: the private key file that signs (default ${SIGNING_KEY_ENV}, "
        "else a random key for this process); servers that share it accept each other's tokens",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="0: any free port")
    serve.add_argument("--bcrypt-rounds", type=int, default=DEFAULT_ROUNDS, help=f"work factor (default {DEFAULT_ROUNDS})")
    serve.add_argument("--token-lifetime", type=float, default=None, help="seconds (default 24 h)")
    serve.add_argument("--idle-timeout", type=float, default=None, help="session idle timeout in seconds (default 30 min)")
    serve.add_argument(
        "--refresh", action="store_true", help="token modes: 15-minute access tokens renewed at POST /refresh"
    )
    serve.add_argument("--secure-cookies", action="store_true", help="mark cookies Secure (behind HTTPS)")
    serve.add_argument(
        "--cross-site-guard",
        action="store_true",
        help="refuse unsafe cross-site requests (POST, PUT, PATCH, DELETE) by Sec-Fetch-Site, or Origin where "
        "a browser sends no Sec-Fetch-Site: a CSRF defence that needs no token (chapter 15)",
    )
    serve.add_argument(
        "--trusted-origin",
        dest="trusted_origins",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="an origin the cross-site guard lets through, e.g. https://app.bank.test (repeat for more; "
        "turns the guard on)",
    )
    serve.add_argument(
        "--no-signature-cache",
        dest="signature_cache",
        action="store_false",
        help="check every signature (HMAC) on every request instead of remembering those already checked "
        "(expiry and revocation are checked on every request either way)",
    )
    serve.add_argument("--quiet", action="store_true", help="no access log")
    serve.add_argument(
        "--vulnerable",
        action="store_true",
        help="serve chapter 11's DELIBERATELY VULNERABLE JWT lab instead, on loopback only (never expose it)",
    )
    grade = commands.add_parser("grade", help="grade a class's exercise notebooks into a CSV and feedback files")
    grade.add_argument("submissions", nargs="+", help="notebooks, or folders of them (one subfolder per learner)")
    grade.add_argument("--csv", type=Path, default=Path("grades.csv"), help="where to write the grades (default grades.csv)")
    grade.add_argument("--feedback", type=Path, default=None, help="folder of one feedback file per learner (default: feedback/ beside the CSV)")
    grade.add_argument("--jobs", type=int, default=2, help="notebooks graded at the same time (default 2)")
    grade.add_argument("--timeout", type=int, default=60, help="seconds each cell may run (default 60)")
    grade.add_argument("--memory", type=int, default=2048, help="MiB of address space per notebook's kernel (default 2048)")
    grade.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    grade.add_argument("--hidden", type=Path, default=None,
                       help="folder of the instructor's hidden cases (default: grading-hidden/ of the course's checkout)")
    grade.add_argument("--no-sandbox", action="store_true",
                       help="grade without bwrap (learner code runs with your rights; every row says so)")
    from .fleet.workshop import add_parser as add_fleet_parser

    add_fleet_parser(commands)
    return parser


def grade(args: argparse.Namespace) -> int:
    from .grading.grader import grade as grade_all
    from .grading.grader import summary, write_csv, write_feedback
    from .grading.sandbox import SandboxError

    if args.no_sandbox:
        print("authcourse: WARNING: grading without a sandbox: each submission's code runs with your rights",
              file=sys.stderr)
    try:
        rows = grade_all(args.submissions, jobs=args.jobs, timeout=args.timeout, memory_mib=args.memory,
                         sandbox=not args.no_sandbox, hidden=args.hidden, progress=not args.quiet)
    except (SandboxError, FileNotFoundError) as error:
        print(f"authcourse: {error}", file=sys.stderr)
        return 2
    if not rows:
        print("authcourse: no notebooks found in " + " ".join(args.submissions), file=sys.stderr)
        return 1
    write_csv(rows, args.csv)
    feedback = args.feedback or args.csv.parent / "feedback"
    write_feedback(rows, feedback)
    if not args.quiet:
        print(summary(rows))
    print(f"grades: {args.csv}   feedback: {feedback}/")
    return 0


def refuse_to_start(error: ConfigurationError | OSError, args: argparse.Namespace) -> int:
    """Say why the server cannot start; the exit code: 2 for a bad setup, 1 for a port that is taken."""
    if isinstance(error, ConfigurationError):
        print(f"authcourse: {error}", file=sys.stderr)
        return 2
    reason = (error.strerror or str(error)).lower()
    print(f"authcourse: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
    return 1


def serve(args: argparse.Namespace) -> int:
    if args.vulnerable:
        return serve_vulnerable(args)
    optional = {
        name: value
        for name, value in (("token_lifetime", args.token_lifetime), ("idle_timeout", args.idle_timeout))
        if value is not None
    }
    try:
        settings = Settings(
            mode=args.mode,
            revocation=args.revocation,
            store=args.store,
            bcrypt_rounds=args.bcrypt_rounds,
            secure_cookies=args.secure_cookies,
            refresh=args.refresh,
            signature_cache=args.signature_cache,
            algorithm=args.algorithm,
            cross_site_guard=args.cross_site_guard or bool(args.trusted_origins),
            trusted_origins=tuple(args.trusted_origins),
            **optional,
        )
        if args.signing_key is not None:
            os.environ[SIGNING_KEY_ENV] = os.path.abspath(args.signing_key)  # the worker process reads it
        if settings.algorithm != ALGORITHM:
            load_key_set(settings.algorithm)  # refuse a missing or wrong key file here, not in the worker
        load_secret(settings.secret)  # refuse a weak AUTHCOURSE_SECRET here, not in the worker,
        open_store(settings.store).close()  # and an unreachable store
        port = check_port(args.host, args.port)
    except (ConfigurationError, OSError) as error:
        return refuse_to_start(error, args)
    refresh = ", refresh tokens at POST /refresh" if settings.refresh else ""
    cache = "" if settings.signature_cache else ", every signature checked (no signature cache)"
    keys = "" if settings.algorithm == "HS256" else f", {settings.algorithm} (public keys at /.well-known/jwks.json)"
    trusted = f", trusting {' '.join(settings.trusted_origins)}" if settings.trusted_origins else ""
    guard = f", cross-site guard{trusted}" if settings.cross_site_guard else ""
    print(
        f"authcourse mini-server: mode {settings.mode}, revocation {settings.revocation}, "
        f"store {settings.store_name}{refresh}{cache}{keys}{guard}"
    )
    print(f"  listening on http://{args.host}:{port}   (Ctrl-C to stop)")
    print("  demo users: " + ", ".join(f"{email} / {password} ({role})" for email, password, _, role in DEMO_USERS))
    if os.environ.get(SECRET_ENV) is None:
        print(f"  secret: random for this process (set {SECRET_ENV} to share it between servers)")
    if settings.algorithm != ALGORITHM:
        key = os.environ.get(SIGNING_KEY_ENV)
        print(f"  signing key: {key}" if key else
              f"  signing key: random for this process (--signing-key PEM or {SIGNING_KEY_ENV} to share it)")
    sys.stdout.flush()

    os.environ[WORKER_SETTINGS_ENV] = json.dumps(asdict(settings))
    server = Granian(
        "authcourse.cli:worker_app",
        factory=True,
        address=args.host,
        port=port,
        interface=Interfaces.ASGINL,  # ASGI without lifespan events: the app has nothing to start or stop
        workers=1,
        websockets=False,
        log_level=LogLevels.warning if args.quiet else LogLevels.info,
        log_access=not args.quiet,
    )
    try:
        server.serve()  # until Ctrl-C or SIGTERM, which granian turns into a clean stop of its worker
    except KeyboardInterrupt:
        pass  # Ctrl-C before granian had set its own handlers: nothing was serving yet
    except RuntimeError as error:  # granian reports a socket it cannot bind as a RuntimeError
        print(f"authcourse: cannot serve on {args.host}:{port}: {error}", file=sys.stderr)
        return 1
    return 0


def serve_vulnerable(args: argparse.Namespace) -> int:
    """The vulnerable JWT lab (vulnerablelab.py) for outside tools: loopback only, with a loud warning."""
    from .vulnerable.fence import vulnerable_require_loopback
    from .vulnerable.jwtlab import WARNING

    try:
        vulnerable_require_loopback(args.host)
        port = check_port(args.host, args.port)
    except (ConfigurationError, OSError) as error:
        return refuse_to_start(error, args)
    print(WARNING, file=sys.stderr)
    print("authcourse VULNERABLE JWT lab (chapter 11): doors unverified, alg, weak-secret, kid, jwk, jku, audience, hardened")
    print(f"  listening on http://{args.host}:{port}   (Ctrl-C to stop)")
    sys.stdout.flush()
    os.environ[VULNERABLE_ROUNDS_ENV] = str(args.bcrypt_rounds)
    server = Granian(
        "authcourse.cli:vulnerable_worker_app",
        factory=True,
        address=args.host,
        port=port,
        interface=Interfaces.ASGINL,
        workers=1,
        websockets=False,
        log_level=LogLevels.warning if args.quiet else LogLevels.info,
        log_access=not args.quiet,
    )
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    except RuntimeError as error:
        print(f"authcourse: cannot serve on {args.host}:{port}: {error}", file=sys.stderr)
        return 1
    return 0


def vulnerable_worker_app() -> FastAPI:
    """The vulnerable lab in granian's worker process (see `worker_app`)."""
    from .vulnerable.jwtlab import create_vulnerable_app

    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    return create_vulnerable_app(int(os.environ.get(VULNERABLE_ROUNDS_ENV, DEFAULT_ROUNDS)))


def check_port(host: str, port: int) -> int:
    """The port to serve on (a free one for 0), or the OSError a busy one gives, before granian starts."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    with socket.create_server((host, port), family=family) as probe:  # SO_REUSEADDR, as granian binds
        return probe.getsockname()[1]


def worker_app() -> FastAPI:
    """The app of granian's worker process, built from the settings `serve` handed down."""
    if sys.platform == "linux":
        # Granian's main process stops its worker on Ctrl-C or SIGTERM; if the main process is
        # killed outright (kill -9), the kernel sends this worker SIGTERM too, so no orphaned
        # server keeps the port. PR_SET_PDEATHSIG is option 1 of prctl(2).
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    app = create_app(Settings(**json.loads(os.environ[WORKER_SETTINGS_ENV])))
    tune_garbage_collector()
    return app


def tune_garbage_collector() -> None:
    """Spare the server's requests most of the cyclic garbage collector's work.

    A request that waits for Redis is still alive when a collection runs, so its objects move to
    the older generations, and those are collected by walking every object there, the app's own
    included. Measured under wrk (real Redis, 32 connections), that made a profile request cost
    the worker about 1.5 times as much CPU as with the collector off. A request leaves no cyclic
    garbage behind (tests/test_cli.py counts it), so collections find little to free anyway:
    freeze what exists now (the app, built once, lives as long as the process) and collect the
    young generation every 10,000 allocations instead of 700. Memory stays bounded: whatever
    cycles an error leaves are still collected.
    """
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, *gc.get_threshold()[1:])


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "grade":
        return grade(args)
    if args.command == "fleet":
        return args.handler(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
