"""The harness: what runs in the learner's kernel so that the grader can judge it from outside.

`serve_harness(globals(), port=..., store=..., secret=...)` starts a small JSON-over-HTTP control
server on 127.0.0.1 in the kernel. The judge (the grader's own process, or the check cell's code
for a learner's local check) asks it to start live mini-servers with the learner's functions
plugged in (`Hooks`), to call a learner function the exercise names, to move the kernel's clock,
and to say which exception the learner's code last raised. It never runs a case and never
decides a score: it only serves the learner's code. Anything in the kernel, this module
included, can be replaced by the learner's code; that can change what the kernel serves, which
is exactly what the judge then tests over HTTP, never what the judge concludes.
"""

from __future__ import annotations

import json
import random
import secrets
import threading
import time
import traceback as tracebacks
from collections.abc import Callable, Mapping
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import time_machine

from ..auth import respond
from ..cookies import Cookie
from ..hooks import Hooks
from ..server import CourseServer
from ..sessions import SessionManager
from ..stores import Store, open_store
from .runtime import describe
from .runtime import learner_error as reason_of

ROUNDS = 4  # bcrypt work factor of the harness's servers: about a millisecond per login
REFRESH_LIFETIME = 30 * 24 * 3600  # seconds, the refresh tokens' lifetime in the refresh exercise


class LearnerError(Exception):
    """Raised when the learner's code raised (or a name it must define is missing) while serving a request."""

    def __init__(self, reason: str, *, not_implemented: bool = False, trace: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.not_implemented = not_implemented
        self.trace = trace


def learner_call(function: Callable[..., Any], *args: Any) -> Any:
    try:
        return function(*args)
    except LearnerError:
        raise
    except BaseException as error:  # the learner's code: anything may come out of it
        raise LearnerError(
            reason_of(error), not_implemented=isinstance(error, NotImplementedError), trace=tracebacks.format_exc()
        ) from None


class Harness:
    """The servers and objects the judge asked for, built from the learner's names."""

    def __init__(self, namespace: Mapping[str, Any], *, store: str | Store, secret: str) -> None:
        self.namespace = namespace
        self.store_spec = store
        self.secret = secret
        self.servers: dict[str, Any] = {}  # id -> CourseServer (or a learner's object with url/stop)
        self.refresh: dict[str, Any] = {}  # id -> the learner's RefreshTokens instance
        self.traveller: Any = None
        self.lock = threading.Lock()
        self.counter = 0
        self._store: Store | None = None

    # plumbing ---------------------------------------------------------------------------------

    def name(self, name: str) -> Any:
        if name not in self.namespace:
            raise LearnerError(f"{name} is not defined: run the cell that defines it (or restore it)")
        return self.namespace[name]

    def store(self) -> Store:
        """One store object for every server of this harness (the shared store the judge also reads)."""
        if self._store is None:
            self._store = self.store_spec if isinstance(self.store_spec, Store) else open_store(self.store_spec)
        return self._store

    def new_id(self, prefix: str) -> str:
        with self.lock:
            self.counter += 1
            return f"{prefix}{self.counter}"

    def keep(self, server: Any) -> dict[str, Any]:
        key = self.new_id("s")
        self.servers[key] = server
        return {"id": key, "url": server.url}

    def server(self, hooks: Hooks, mode: str, secret: str | bytes | None = None, **settings: Any) -> dict[str, Any]:
        settings.setdefault("store", self.store())
        built = CourseServer(mode, hooks=hooks, bcrypt_rounds=ROUNDS, secret=secret or self.secret, **settings)
        return self.keep(learner_call(built.start))

    # operations the judge asks for -------------------------------------------------------------

    def op_names(self, names: list[str]) -> dict[str, Any]:
        return {"missing": [name for name in names if name not in self.namespace]}

    def op_hooks(self, mode: str, hooks: dict[str, str], settings: dict[str, Any] | None = None,
                 secret_from: str | None = None) -> dict[str, Any]:
        """A server whose hooks are the learner's functions, by name: {"authenticate": "require_session"}."""
        plugged = Hooks(**{hook: self.name(name) for hook, name in hooks.items()})
        secret = self.name(secret_from) if secret_from else None
        started = self.server(plugged, mode, secret, **(settings or {}))
        if secret_from:
            raw = secret.encode() if isinstance(secret, str) else secret
            started["secret"] = raw.decode("latin-1")
        return started

    def op_cookie_for(self, scenario: str) -> dict[str, Any]:
        """A session server whose login sets the cookie `cookie_for(scenario, signed_id)` returns."""
        cookie_for = self.name("cookie_for")

        def login(user: Any, request: Any, auth: Any) -> Any:
            session = auth.sessions.create_session(user.id, user.role)
            cookie = cookie_for(scenario, auth.sessions.sign(session.id))
            if not isinstance(cookie, Cookie):
                raise TypeError(f"cookie_for must return a Cookie, not {type(cookie).__name__}")
            return respond({"message": "Logged in"}, cookie)

        return self.server(Hooks(login=login), "session")

    def op_refresh_server(self) -> dict[str, Any]:
        """A token server whose login issues, and whose POST /refresh rotates, the learner's refresh tokens."""
        tokens = learner_call(self.name("RefreshTokens"), self.store(), REFRESH_LIFETIME)

        def on_login(user: Any, request: Any, auth: Any) -> Any:
            token = auth.tokens.create_access_token(user.id, user.role)
            return respond({"token": token}, replace(auth.refresh_cookie, value=tokens.issue(user.id)))

        def on_refresh(request: Any, auth: Any) -> Any:
            user_id, new = tokens.rotate(request.cookies.get("refresh"))
            user = auth.users.get(int(user_id))
            token = auth.tokens.create_access_token(user.id, user.role)
            return respond({"token": token}, replace(auth.refresh_cookie, value=new))

        started = self.server(Hooks(login=on_login, refresh=on_refresh), "token", refresh=True)
        self.refresh[started["id"]] = tokens
        return started

    def op_seeded_tokens(self, server: str, seed: int, at: float) -> dict[str, Any]:
        """Two refresh tokens issued from the same seed of `random` at the same frozen instant."""
        tokens = self.refresh[server]
        issued = []
        for _ in range(2):
            random.seed(seed)
            with time_machine.travel(at, tick=False):
                issued.append(str(learner_call(tokens.issue, 1)))
        random.seed()
        return {"tokens": issued}

    def op_fleet(self, count: int) -> dict[str, Any]:
        """The learner's `start_servers(count)`, and what the servers have in common (for the feedback)."""
        servers = list(learner_call(self.name("start_servers"), count))
        described = []
        for server in servers:
            entry: dict[str, Any] = {"running": bool(getattr(server, "running", False)),
                                     "mode": getattr(getattr(server, "settings", None), "mode", None)}
            if entry["running"]:
                entry |= self.keep(server)
            else:
                self.servers[self.new_id("s")] = server
            described.append(entry)
        stores = {id(getattr(server, "store", None)) for server in servers if getattr(server, "running", False)}
        secrets_used = {repr(getattr(getattr(server, "settings", None), "secret", None)) for server in servers}
        return {"servers": described, "one_store": len(stores) <= 1,
                "one_secret": len(secrets_used) == 1 and "None" not in secrets_used}

    def op_regenerate(self) -> dict[str, Any]:
        """The learner's `regenerate(sessions, session)` on a session created three hours ago (user 2, admin)."""
        regenerate = self.name("regenerate")
        sessions = SessionManager(self.store(), self.secret.encode())
        old = sessions.create_session(2, "admin", created_at=time.time() - 3 * 3600)
        new = learner_call(regenerate, sessions, old)
        return {"old": old.id, "new": getattr(new, "id", None), "type": type(new).__name__}

    def op_verify_token(self, token: str, jwks: dict[str, Any]) -> dict[str, Any]:
        """The learner's `verify_token(token, jwks)`: the claims it returned, or the PyJWT error it raised."""
        verify = self.name("verify_token")
        try:
            claims = verify(token, jwks)
        except jwt.PyJWTError as error:  # a refusal, as the exercise asks for one
            return {"accepted": False, "error": describe(error)}
        except BaseException as error:  # the learner's code: anything else is a mistake
            raise LearnerError(reason_of(error), not_implemented=isinstance(error, NotImplementedError),
                               trace=tracebacks.format_exc()) from None
        if not isinstance(claims, dict):
            raise LearnerError(f"verify_token returned {type(claims).__name__}: return the claims (a dict), "
                               "or raise jwt.InvalidTokenError to refuse")
        return {"accepted": True, "claims": json.loads(json.dumps(claims, default=str))}

    def op_clock(self, offset: float) -> dict[str, Any]:
        """Move this kernel's clock `offset` seconds from the real time (0: back to the real time)."""
        with self.lock:
            if self.traveller is not None:
                self.traveller.stop()
                self.traveller = None
            if offset:
                self.traveller = time_machine.travel(time.time() + offset, tick=True)
                self.traveller.start()
        return {"now": time.time()}

    def op_errors(self, server: str) -> dict[str, Any]:
        """The last exception the learner's hooks raised in that server, in one line."""
        auth = getattr(getattr(self.servers[server], "app", None), "state", None)
        errors = list(getattr(getattr(auth, "auth", None), "errors", []))
        if not errors:
            return {"last": None}
        last = errors[-1]
        return {"last": id(last), "text": describe(last), "not_implemented": isinstance(last, NotImplementedError)}

    def op_stop(self, server: str | None = None) -> dict[str, Any]:
        keys = [server] if server else list(self.servers)
        found = [self.servers.pop(key, None) for key in keys]

        def stop(one: Any) -> None:
            try:
                one.stop()
            except Exception:
                pass  # a learner's server that refuses to stop: the sandbox ends it

        stoppers = [threading.Thread(target=stop, args=(one,), daemon=True) for one in found if one is not None]
        for thread in stoppers:  # side by side: each stop waits about 0.1 s for uvicorn
            thread.start()
        for thread in stoppers:
            thread.join(10)
        return {"stopped": len(stoppers)}

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = str(request.pop("op", ""))
        method = getattr(self, f"op_{op.replace('-', '_')}", None)
        if method is None:
            return {"error": f"unknown operation {op!r}"}
        try:
            return {"ok": method(**request)}
        except LearnerError as error:
            return {"learner_error": error.reason, "not_implemented": error.not_implemented, "trace": error.trace}
        except Exception as error:
            return {"learner_error": reason_of(error), "not_implemented": isinstance(error, NotImplementedError),
                    "trace": tracebacks.format_exc()}

    def close(self) -> None:
        self.op_stop()
        self.op_clock(0)


class _Handler(BaseHTTPRequestHandler):
    harness: Harness

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("content-length") or 0)
        try:
            request = json.loads(self.rfile.read(length) or b"{}")
            answer = self.server.harness.handle(request)  # type: ignore[attr-defined]
        except ValueError as error:
            answer = {"error": f"bad request: {error}"}
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
        pass  # a log line would land in whichever cell is running


class HarnessServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, harness: Harness, port: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.harness = harness
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                                       name="authcourse-harness")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> HarnessServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.harness.close()
        self.shutdown()
        self.server_close()


def serve_harness(namespace: Mapping[str, Any], *, port: int = 0, store: str | Store = "memory",
                  secret: str | None = None) -> HarnessServer:
    """Start the harness for the names of a notebook (`globals()`); it serves until the kernel ends."""
    harness = Harness(namespace, store=store, secret=secret or secrets.token_urlsafe(32))
    return HarnessServer(harness, port).start()
