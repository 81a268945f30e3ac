"""Tests for the recorder, the watched store and the sequence diagrams (authcourse.instruments)."""

from __future__ import annotations

import secrets

import httpx
import pytest

from authcourse import CourseServer, MemoryStore
from authcourse.instruments.recorder import Recorder
from authcourse.instruments.sequence import Diagram, brief_json, header_name, render_sequence, shorten, side_by_side
from authcourse.instruments.watchedstore import WatchedStore

CREDENTIALS = {"email": "alice@example.com", "password": "wonderland"}
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwicm9sZSI6InVzZXIifQ"
    ".KHCICj1gWSV9y48-huxMmKc9WdLOjQbDBwNrXyX-7z8"
)


def fake_server(request: httpx.Request) -> httpx.Response:
    """A stand-in for the session server: enough to exercise the recorder without a socket."""
    if request.url.path == "/login":
        cookie = "sid=" + "a" * 43 + "." + "b" * 43 + "; Max-Age=86400; Path=/; HttpOnly; SameSite=Lax"
        return httpx.Response(200, json={"message": "Logged in"}, headers={"Set-Cookie": cookie})
    if "cookie" in request.headers:
        return httpx.Response(200, json={"user": {"id": 1}})
    return httpx.Response(401, json={"error": "Not authenticated"}, headers={"WWW-Authenticate": "Bearer"})


@pytest.fixture
def recorded() -> tuple[Recorder, httpx.Client]:
    recorder = Recorder()
    client = recorder.client("http://testserver", transport=httpx.MockTransport(fake_server))
    yield recorder, client
    client.close()


def test_shorten_cuts_long_random_values_and_keeps_the_rest() -> None:
    session_id = secrets.token_urlsafe(32)
    assert shorten(f"sid={session_id}; Path=/") == f"sid={session_id[:8]}…; Path=/"
    assert shorten(f"Bearer {JWT}") == "Bearer eyJhbGci…", "a JWT is one value, not three"
    assert shorten("alice@example.com wonderland Not authenticated") == "alice@example.com wonderland Not authenticated"
    assert shorten("x" * 19) == "x" * 19


def test_header_names_are_spelled_as_usual() -> None:
    assert header_name("set-cookie") == "Set-Cookie"
    assert header_name("www-authenticate") == "WWW-Authenticate"
    assert header_name("authorization") == "Authorization"


def test_brief_json_collapses_nested_values() -> None:
    assert brief_json('{"message":"Logged in","user":{"id":1},"roles":[1]}') == (
        '{"message": "Logged in", "user": {…}, "roles": […]}'
    )
    assert brief_json(f'{{"token":"{JWT}"}}') == '{"token": "eyJhbGci…"}'
    assert brief_json("not json") == "not json"


def test_recorder_keeps_method_path_status_body_and_only_the_chosen_headers(recorded) -> None:
    recorder, client = recorded
    client.post("/login", json=CREDENTIALS)
    client.get("/api/profile?x=1")
    login, profile = recorder.exchanges
    assert (login.method, login.path, login.status, login.reason) == ("POST", "/login", 200, "OK")
    assert login.request_body == '{"email":"alice@example.com","password":"wonderland"}'
    assert [name for name, _ in login.response_headers] == ["set-cookie"], "content-type is not shown"
    assert login.response_headers[0][1].startswith("sid=" + "a" * 43 + ".")
    assert profile.path == "/api/profile?x=1"
    assert profile.request_headers == (("cookie", "sid=" + "a" * 43 + "." + "b" * 43),)
    assert profile.store_operations is None, "no store was watched"
    assert recorder.last is profile


def test_recorder_records_refusals_with_their_challenge(recorded) -> None:
    recorder, client = recorded
    response = client.get("/api/profile")
    assert response.status_code == 401, "the response still reaches the caller"
    assert recorder.last.status == 401
    assert recorder.last.response_headers == (("www-authenticate", "Bearer"),)
    assert "WWW-Authenticate: Bearer" in recorder.last.render()


def test_rendered_exchange_shows_no_full_secret(recorded) -> None:
    recorder, client = recorded
    client.post("/login", json=CREDENTIALS)
    client.get("/api/profile")
    text = recorder.log()
    assert "a" * 43 not in text and "b" * 43 not in text
    assert "Set-Cookie: sid=aaaaaaaa…; Max-Age=86400; Path=/; HttpOnly; SameSite=Lax" in text
    assert "→ GET /api/profile\n    Cookie: sid=aaaaaaaa…\n← 200 OK" in text
    assert "[server store]" not in text


def test_attach_keeps_the_clients_own_hooks() -> None:
    seen: list[str] = []
    client = httpx.Client(
        transport=httpx.MockTransport(fake_server), event_hooks={"request": [lambda r: seen.append(r.url.path)]}
    )
    recorder = Recorder()
    recorder.attach(client)
    client.get("http://testserver/api/profile")
    assert seen == ["/api/profile"]
    assert len(recorder.exchanges) == 1
    recorder.clear()
    assert recorder.exchanges == []
    with pytest.raises(LookupError):
        recorder.last


def test_watched_store_notes_operations_but_not_keys() -> None:
    store = WatchedStore(MemoryStore())
    store.set("session:x", "{}", ttl=60)
    store.get("session:x")
    store.add_member("user-sessions:1", "x")
    assert store.keys() == ["session:x", "user-sessions:1"]
    store.remove_member("user-sessions:1", "x")
    store.delete("session:x")
    assert store.drain() == [
        "SET session:x", "GET session:x", "SADD user-sessions:1", "SREM user-sessions:1", "DEL session:x"
    ]
    assert store.drain() == []
    assert store.name == "memory"


def test_a_watched_session_server_shows_its_lookups_and_a_token_server_none() -> None:
    with CourseServer(mode="session", store=WatchedStore(), bcrypt_rounds=4) as server:
        recorder = Recorder(watch=server.store)
        with recorder.client(server.url) as client:
            server.store.get("before")  # the notebook reading the store: not the login's doing
            client.post("/login", json=CREDENTIALS)
            client.get("/api/profile")
            client.post("/logout")
        login, profile, logout = (exchange.store_operations for exchange in recorder.exchanges)
        assert [op.split(" ")[0] for op in login] == ["SET", "SADD"]
        assert login[0].startswith("SET session:")
        assert [op.split(" ")[0] for op in profile] == ["GET"]
        assert "DEL" in [op.split(" ")[0] for op in logout]
        assert server.store.keys() == []

    with CourseServer(mode="token", store=WatchedStore(), bcrypt_rounds=4) as server:
        recorder = Recorder(watch=server.store)
        with recorder.client(server.url) as client:
            token = client.post("/login", json=CREDENTIALS).json()["token"]
            client.get("/api/profile", headers={"Authorization": f"Bearer {token}"})
        assert [exchange.store_operations for exchange in recorder.exchanges] == [(), ()]
        assert recorder.last.request_headers == (("authorization", f"Bearer {token}"),)
        assert "[server store] not touched" in recorder.log()


def test_sequence_diagram_keeps_both_lifelines_straight(recorded) -> None:
    recorder, client = recorded
    client.post("/login", json=CREDENTIALS)
    client.get("/api/profile")
    diagram = recorder.diagram("SESSION")
    lines = diagram.lines
    assert lines[0] == "SESSION"
    assert lines[1].startswith("Client") and lines[1].rstrip().endswith("Server")
    server_column = lines[1].index("Server")
    for line in lines[2:]:
        assert line[0] == "│" and line[server_column] == "│", line
    text = str(diagram)
    assert "│ POST /login ─" in text and "─►│" in text
    assert "│◄─ 200 OK ─" in text
    assert "Set-Cookie: sid=aaaaaaaa…" in text and "Max-Age=86400" not in text, "attributes stay in the log"
    assert "Cookie: sid=aaaaaaaa…" in text


def test_sequence_diagram_shows_store_notes_and_expired_cookies() -> None:
    recorder = Recorder()
    client = recorder.client("http://testserver", transport=httpx.MockTransport(fake_server))
    client.get("/api/profile")
    exchange = recorder.last
    watched = render_sequence([type(exchange)(**{**exchange.__dict__, "store_operations": ("GET session:x",)})])
    assert watched.lines[1].endswith("│ GET session:x")
    unwatched = render_sequence([exchange])
    assert "no store access" not in str(unwatched)
    silent = render_sequence([type(exchange)(**{**exchange.__dict__, "store_operations": ()})])
    assert "│ no store access" in str(silent)
    logout = type(exchange)(
        **{**exchange.__dict__, "response_headers": (("set-cookie", "sid=; Max-Age=0; Path=/"),), "status": 200}
    )
    assert "Set-Cookie: sid=; Max-Age=0" in str(render_sequence([logout]))
    assert '{"error": "Not authenticated"}' in str(unwatched), "a refusal shows its reason"
    client.close()


def test_side_by_side_pads_columns_and_html_does_not_wrap() -> None:
    left = Diagram(("ab", "abcd", "a"))
    right = Diagram(("<x>",))
    both = side_by_side(left, right, gap=2)
    assert both.lines == ("ab    <x>", "abcd", "a")
    html = both._repr_html_()
    assert html.startswith('<pre style="white-space: pre')
    assert "&lt;x&gt;" in html
    assert str(both) == "ab    <x>\nabcd\na"
