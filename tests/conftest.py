"""Fixtures shared by the whole suite: servers in every mode, stores, a real Redis, an explicit client.

Every server here hashes at bcrypt_rounds=4 (about 1 ms) unless the default work factor is
itself what a test is about. Credentials are always sent explicitly (`Credential.headers()`):
no test depends on what a cookie jar happened to keep.
"""

from __future__ import annotations

import itertools
import os
import ssl
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import mongomock
import psycopg
import pytest
import redis

from authcourse import CourseServer, Store, open_store
from authcourse.cookies import Cookie
from authcourse.realservers import redis as redisserver
from authcourse.realservers.postgres import PostgresServer, postgres_bin_dir
from authcourse.realservers.redis import RedisServer
from authcourse.stores.postgres import TABLE as POSTGRES_TABLE

# One TLS context for every test client: httpx otherwise builds one per client (about 30 ms).
TLS = ssl.create_default_context()

ROUNDS = 4
SECRET = "a-test-secret-long-enough-for-hs256-and-for-hs512-forgeries-too!"  # 65 bytes

ALICE = ("alice@example.com", "wonderland")  # role user
BOB = ("bob@example.com", "builder")  # role admin
DEMO = {"alice": ALICE, "bob": BOB}

# Every (mode, revocation) the contract allows; a session is revoked by deleting it, nothing else.
CONFIGS = [
    ("session", "none"),
    ("token", "none"),
    ("token", "blacklist"),
    ("token", "version"),
    ("cookie-token", "none"),
    ("cookie-token", "blacklist"),
    ("cookie-token", "version"),
]
TOKEN_MODES = ["token", "cookie-token"]
# The token modes again, signed with RS256 and a key set instead of the HS256 secret (chapter 13).
KEY_SET_CONFIGS = [(mode, revocation, "RS256") for mode, revocation in CONFIGS if mode != "session"]
STORES = [
    "memory",
    "fakeredis",
    "mongomock",
    pytest.param("redis", marks=pytest.mark.redis),
    pytest.param("postgres", marks=pytest.mark.postgres),
]
MOCK_MONGO_HOST = "mongo.test"  # the MongoDB server that mongomock.patch pretends is there

MESSAGES = {
    "credentials": "Invalid credentials",
    "session-missing": "Not authenticated",
    "token-missing": "No token provided",
    "invalid": "Invalid or expired token",
    "revoked": "Token revoked",
    "forbidden": "Forbidden",
}


def config_id(config: tuple[str, str]) -> str:
    return "-".join(config)


def require(found: object, message: str) -> None:
    """Skip a test when what it needs is missing (`found` is None); fail it when CI is set, where it must run."""
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI is set, so tests that need it must run", pytrace=False)
        pytest.skip(message)


# A real Redis, once per run -------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    require(redisserver.redis_server_binary(), "redis-server not installed (apt-get install redis-server)")
    server = RedisServer().start()
    yield server
    server.cleanup()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """The real Redis's URL, its database empty at the start and at the end of the test."""
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    yield redis_server.url
    client.flushdb()
    client.close()


# A real PostgreSQL, once per run ------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    require(postgres_bin_dir(), "PostgreSQL not installed (apt-get install postgresql)")
    server = PostgresServer().start()
    yield server
    server.cleanup()


def empty_postgres(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        try:
            connection.execute(f"DELETE FROM {POSTGRES_TABLE}")
        except psycopg.errors.UndefinedTable:
            pass  # no store has been opened on this database yet


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The real PostgreSQL's URL, the store's table empty at the start and at the end of the test."""
    empty_postgres(postgres_server.url)
    yield postgres_server.url
    empty_postgres(postgres_server.url)


# MongoDB: mongomock in this process (Debian packages no MongoDB server) --------------------------

_mock_names = itertools.count()


def fresh_mongomock_url() -> str:
    """A mongomock:// URL no other store of this run uses: an empty database."""
    return f"mongomock://test-{next(_mock_names)}/authcourse"


@pytest.fixture
def mongodb_url() -> Iterator[str]:
    """A mongodb:// URL that pymongo.MongoClient resolves to mongomock during the test (mongomock.patch)."""
    with mongomock.patch(servers=((MOCK_MONGO_HOST, 27017),)):
        yield f"mongodb://{MOCK_MONGO_HOST}:27017/authcourse"


def resolve_store(request: pytest.FixtureRequest, name: Any, *, fresh: bool = True) -> Any:
    """A store name of the tests (`redis`, `postgres`, `mongodb`: the real or patched ones) as a spec."""
    if not isinstance(name, str):
        return name
    if name in ("redis", "postgres", "mongodb"):
        return request.getfixturevalue(f"{name}_url")
    if name == "mongomock":
        return fresh_mongomock_url() if fresh else "mongomock://tests/authcourse"
    return name


@pytest.fixture
def store_spec(request: pytest.FixtureRequest) -> str:
    """`memory`, `fakeredis` or a URL, from the test's `store` parameter."""
    return resolve_store(request, request.param if hasattr(request, "param") else "fakeredis")


@pytest.fixture
def make_store(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Open a store by name (`redis`, `postgres`: the real ones; `mongodb`: patched); closed after the test."""
    opened: list[Store] = []

    def make(name: str) -> Store:
        spec = resolve_store(request, name)
        store = open_store(spec)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


# Servers ---------------------------------------------------------------------------------------


@pytest.fixture
def make_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Start a CourseServer (bcrypt_rounds=4 unless given); every one is stopped after the test."""
    started: list[CourseServer] = []

    def make(mode: str = "session", **settings: Any) -> CourseServer:
        settings.setdefault("bcrypt_rounds", ROUNDS)
        if "store" in settings:
            settings["store"] = resolve_store(request, settings["store"])
        server = CourseServer(mode, **settings)
        started.append(server)
        server.start()
        return server

    yield make
    stop_all(started)
    for server in started:
        if server.app is not None and "://" in server.settings.store_name:
            server.app.state.store.close()  # a store the server opened from a URL


def stop_all(servers: list[CourseServer]) -> None:
    """Stop servers side by side: each stop waits for uvicorn's 0.1 s main-loop tick."""
    with ThreadPoolExecutor(max_workers=max(1, len(servers))) as pool:
        list(pool.map(CourseServer.stop, servers))


@pytest.fixture(scope="session")
def server_pool() -> Iterator[dict[tuple, CourseServer]]:
    servers: dict[tuple, CourseServer] = {}
    yield servers
    stop_all(list(servers.values()))
    for server in servers.values():
        if "://" in server.settings.store_name:
            server.app.state.store.close()


@pytest.fixture
def shared_server(request: pytest.FixtureRequest, server_pool) -> Any:
    """A running server with default settings, reused across tests, its store emptied for this test.

    Starting and stopping a server per test would cost a quarter of a second each, mostly in
    uvicorn's shutdown tick; the contract matrix has hundreds of tests.
    """

    def get(mode: str = "session", revocation: str = "none", store: str = "fakeredis", **settings: Any) -> CourseServer:
        spec = resolve_store(request, store, fresh=False)
        key = (mode, revocation, spec, *sorted(settings.items()))
        server = server_pool.get(key)
        if server is None:
            settings.setdefault("bcrypt_rounds", ROUNDS)
            server = CourseServer(mode, revocation=revocation, store=spec, **settings).start()
            server_pool[key] = server
        else:
            keys = server.store.keys()
            if keys:
                server.store.delete(*keys)
        return server

    return get


@dataclass(frozen=True)
class Credential:
    """What a client holds after logging in: a session cookie, a bearer JWT or a JWT cookie."""

    mode: str
    value: str

    def headers(self) -> dict[str, str]:
        if self.mode == "token":
            return {"Authorization": f"Bearer {self.value}"}
        name = "sid" if self.mode == "session" else "token"
        return {"Cookie": f"{name}={self.value}"}

    def with_value(self, value: str) -> Credential:
        return Credential(self.mode, value)


def set_cookies(response: httpx.Response) -> dict[str, Cookie]:
    """The response's Set-Cookie headers, parsed, by cookie name."""
    cookies = (Cookie.parse(header) for header in response.headers.get_list("set-cookie"))
    return {cookie.name: cookie for cookie in cookies}


class Api:
    """An httpx client that sends credentials explicitly and keeps no cookie between requests."""

    def __init__(self, server: CourseServer) -> None:
        self.server = server
        self.mode = server.settings.mode
        self.http = httpx.Client(base_url=server.url, timeout=10, verify=TLS)

    def request(self, method: str, path: str, credential: Credential | None = None, **kwargs: Any) -> httpx.Response:
        headers = {**(credential.headers() if credential else {}), **kwargs.pop("headers", {})}
        try:
            return self.http.request(method, path, headers=headers, **kwargs)
        finally:
            self.http.cookies.clear()

    def get(self, path: str, credential: Credential | None = None, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, credential, **kwargs)

    def post(self, path: str, credential: Credential | None = None, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, credential, **kwargs)

    def post_login(self, email: str, password: str, credential: Credential | None = None) -> httpx.Response:
        return self.post("/login", credential, json={"email": email, "password": password})

    def credential_from(self, response: httpx.Response) -> Credential:
        if self.mode == "token":
            return Credential("token", response.json()["token"])
        name = "sid" if self.mode == "session" else "token"
        return Credential(self.mode, set_cookies(response)[name].value)

    def login(self, who: str | tuple[str, str] = "alice", credential: Credential | None = None) -> Credential:
        email, password = DEMO[who] if isinstance(who, str) else who
        response = self.post_login(email, password, credential)
        assert response.status_code == 200, response.text
        return self.credential_from(response)

    def profile(self, credential: Credential | None) -> httpx.Response:
        return self.get("/api/profile", credential)

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def make_api() -> Iterator[Any]:
    clients: list[Api] = []

    def make(server: CourseServer) -> Api:
        api = Api(server)
        clients.append(api)
        return api

    yield make
    for api in clients:
        api.close()


def assert_error(response: httpx.Response, status: int, message: str | None = None) -> None:
    """The response is `status` with a JSON body `{"error": message}`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json", response.headers
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert isinstance(body["error"], str) and body["error"], body
    if message is not None:
        assert body["error"] == message, body


# Debian's nginx, for the fleet's real balancer ------------------------------------------------------


@pytest.fixture(scope="session")
def nginx_binary() -> str:
    """The nginx binary; skipped where it is missing, a failure when CI is set."""
    from authcourse.fleet import nginx_binary as find

    binary = find()
    require(binary, "nginx not installed (apt-get install nginx)")
    return binary
