"""`authcourse serve ...`: the mini-server in the foreground, for workshops and for curl."""

from __future__ import annotations

import argparse
import os
import sys

import uvicorn

from .app import create_app
from .errors import ConfigurationError
from .passwords import DEFAULT_ROUNDS
from .settings import MODES, REVOCATIONS, Settings
from .tokens import SECRET_ENV
from .users import DEMO_USERS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="authcourse", description="Session vs token authentication, to run and to see.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the mini-server in the foreground (Ctrl-C stops it)")
    serve.add_argument("--mode", choices=MODES, default="session")
    serve.add_argument("--revocation", choices=REVOCATIONS, default="none", help="token modes only (default: none)")
    serve.add_argument(
        "--store", default="fakeredis", help="memory, fakeredis (default) or a redis://HOST:PORT/DB URL shared by many servers"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--bcrypt-rounds", type=int, default=DEFAULT_ROUNDS, help=f"work factor (default {DEFAULT_ROUNDS})")
    serve.add_argument("--token-lifetime", type=float, default=None, help="seconds (default 24 h)")
    serve.add_argument("--idle-timeout", type=float, default=None, help="session idle timeout in seconds (default 30 min)")
    serve.add_argument("--secure-cookies", action="store_true", help="mark cookies Secure (behind HTTPS)")
    serve.add_argument("--quiet", action="store_true", help="no access log")
    return parser


def serve(args: argparse.Namespace) -> int:
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
            **optional,
        )
        app = create_app(settings)
    except ConfigurationError as error:
        print(f"authcourse: {error}", file=sys.stderr)
        return 2
    print(f"authcourse mini-server: mode {settings.mode}, revocation {settings.revocation}, store {settings.store_name}")
    print(f"  listening on http://{args.host}:{args.port}   (Ctrl-C to stop)")
    print("  demo users: " + ", ".join(f"{email} / {password} ({role})" for email, password, _, role in DEMO_USERS))


    if os.environ.get(SECRET_ENV) is None:
        print(f"  secret: random for this process (set {SECRET_ENV} to share it between servers)")
    sys.stdout.flush()
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level="warning" if args.quiet else "info",  # uvicorn's access log is at info level
        access_log=not args.quiet,
        lifespan="off",
        proxy_headers=False,  # the course reads no client address, so no proxy header is trusted
    )
    server = uvicorn.Server(config)
    try:
        server.run()
    except KeyboardInterrupt:
        pass  # uvicorn has shut down cleanly, then re-raised the Ctrl-C it caught: not an error
    return 0 if server.started else 1


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
