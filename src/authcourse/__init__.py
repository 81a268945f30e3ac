"""authcourse: session-based and token-based authentication, to run and to see.

Open the top of the package to read how it works: a flat core, one concept per module, lowest
layer first. Each module imports only from its own layer and the ones below (tests/test_layers.py
keeps it so, folders included):

- foundations: `clock` (the one clock, `later()`), `errors`, `verified` (remembered signatures)
- `stores/`: one module per back end behind the one `Store` interface (memory, Redis and
  fakeredis, PostgreSQL, MongoDB and mongomock)
- the auth ideas, with no web framework in them: `passwords`, `users`, `cookies`, `sessions`,
  `tokens`, `refresh`
- the web app: `auth` (the three strategies), `refreshauth`, `hooks` (learner code inside the
  server), `settings`, `app`
- running it: `server` (`CourseServer`)
- on top of everything: `cli` (`authcourse serve | fleet | grade`)

Every other role has a folder of its own:

- `realservers/`: throwaway real servers on free loopback ports (Debian's redis-server,
  PostgreSQL, nginx)
- `fleet/`: many mini-servers behind a load balancer, and chapter 8's scale-out experiments
- `instruments/`: what the chapters see with: the recorder and its sequence diagrams, timing,
  and the chapters' measured tables and figures
- `widgets/`: the course's ipywidgets, each over a plain function
- `browserlab/`: a real Chromium and the pages it visits, and the cookie model proven against it
- `vulnerable/`: fenced, DELIBERATELY VULNERABLE servers for chapters 9 and 11 (loopback only;
  nothing else in the package imports them)
- `grading/`: check cells and the class grader
"""

from __future__ import annotations

from .app import create_app
from .clock import later, now
from .cookies import Cookie, CookieError
from .errors import AuthcourseError, ConfigurationError, RequestError, StoreError
from .fleet import Fleet, SharedStore
from .hooks import Hooks
from .instruments.recorder import Exchange, Recorder
from .instruments.sequence import render_sequence, shorten, side_by_side
from .instruments.watchedstore import WatchedStore
from .passwords import DEFAULT_ROUNDS, hash_password, verify_password
from .refresh import RefreshTokens
from .server import CourseServer, ServerStartError
from .sessions import SessionManager
from .settings import Settings
from .stores import (
    MemoryStore,
    MongoStore,
    PostgresStore,
    RedisStore,
    Store,
    fakeredis_store,
    mongo_store,
    mongomock_store,
    open_store,
    postgres_store,
    redis_store,
)
from .tokens import KeySet, TokenService, load_secret
from .users import DEMO_USERS, User, UserDirectory

__all__ = [
    "DEFAULT_ROUNDS",
    "DEMO_USERS",
    "AuthcourseError",
    "ConfigurationError",
    "Cookie",
    "CookieError",
    "CourseServer",
    "Exchange",
    "Fleet",
    "Hooks",
    "KeySet",
    "MemoryStore",
    "MongoStore",
    "PostgresStore",
    "Recorder",
    "RefreshTokens",
    "RedisStore",
    "RequestError",
    "ServerStartError",
    "SessionManager",
    "SharedStore",
    "Settings",
    "Store",
    "StoreError",
    "TokenService",
    "User",
    "UserDirectory",
    "WatchedStore",
    "create_app",
    "fakeredis_store",
    "hash_password",
    "later",
    "load_secret",
    "mongo_store",
    "mongomock_store",
    "now",
    "open_store",
    "postgres_store",
    "redis_store",
    "render_sequence",
    "shorten",
    "side_by_side",
    "verify_password",
]
