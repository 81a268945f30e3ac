"""authcourse: session-based and token-based authentication, to run and to see.

The modules, by layer, lowest first; each imports only from its own layer and the ones below
(tests/test_layers.py keeps it so):

- foundations: `clock` (the one clock, `later()`), `errors`, `verified`
- `stores/`: one module per back end behind the one `Store` interface (memory, Redis and
  fakeredis, PostgreSQL, MongoDB and mongomock)
- the auth ideas, with no web framework in them: `passwords`, `users`, `cookies`,
  `sessions`, `tokens`, `refresh`
- the web app: `auth` (the three strategies), `refreshauth`, `hooks` (learner code inside the
  server), `settings`, `app`
- running it: `server` (`CourseServer`), `redisserver` and `pgserver` (throwaway real servers),
  `fleet/` (many servers behind a load balancer)
- the course's instruments: `trace`, `browser`, `cookiemodel`, `lab/`, `experiments`,
  `comparison`, `measure`, `requestcost`, `denylist`, `storetable`, `guide`, `refreshfigures`,
  `widgets/`, and, fenced, `vulnerable`, `vulnerablelab`, `wordlist`
- `grading/`: check cells and the class grader
- entry points: `cli` (`authcourse serve | fleet | grade`)
"""

from __future__ import annotations

from .app import create_app
from .clock import later, now
from .cookies import Cookie, CookieError
from .errors import AuthcourseError, ConfigurationError, RequestError, StoreError
from .fleet import Fleet, SharedStore
from .hooks import Hooks
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
from .tokens import TokenService, load_secret
from .instruments.trace import Exchange, Recorder, WatchedStore, render_sequence, shorten, side_by_side
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
