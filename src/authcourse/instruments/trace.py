"""Record HTTP exchanges and draw them: an exchange log and a sequence diagram.

A `Recorder` hooks into an `httpx.Client` (event hooks, nothing patched) and keeps, for each
request, the method, the path, the headers that carry credentials, the status and the body.
Give it a `WatchedStore` (the server's store, wrapped) and it also notes what the server did
to its store while answering: the session lookups that token servers never make.

Long random values (session ids, JWTs, signatures) are shortened on display to their first
characters and `…`, so diagrams stay narrow and stored notebook outputs compare stably.
"""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from ..stores import Store, open_store

SHOWN_HEADERS = ("cookie", "authorization", "set-cookie", "www-authenticate")
_LONG_VALUE = re.compile(r"[A-Za-z0-9_\-]{20,}(?:\.[A-Za-z0-9_\-]+)*")  # ids, signatures, whole JWTs
_HEADER_NAMES = {"www-authenticate": "WWW-Authenticate"}


def shorten(text: str, keep: int = 8) -> str:
    """Cut every long random-looking value in `text` to its first `keep` characters and `…`."""
    return _LONG_VALUE.sub(lambda match: match.group()[:keep] + "…", text)


def header_name(name: str) -> str:
    """The usual spelling of a header name: `set-cookie` -> `Set-Cookie`."""
    return _HEADER_NAMES.get(name.lower(), "-".join(part.capitalize() for part in name.split("-")))


def brief_json(text: str) -> str:
    """A one-line summary of a JSON object body: nested values become `{…}` and `[…]`."""
    try:
        data = json.loads(text)
    except ValueError:
        return shorten(text)
    if not isinstance(data, dict):
        return shorten(text)
    parts = []
    for key, value in data.items():
        shown = "{…}" if isinstance(value, dict) else "[…]" if isinstance(value, list) else json.dumps(value)
        parts.append(f"{json.dumps(key)}: {shorten(shown)}")
    return "{" + ", ".join(parts) + "}"


class WatchedStore(Store):
    """A store that notes each operation made on it, Redis-style (`GET session:…`).

    Pass it as a server's store (`CourseServer(store=WatchedStore())`) and to a `Recorder`:
    every exchange then lists what the server read and wrote. `keys()` is not noted: it is
    how the notebook looks inside, not something the server does.
    """

    def __init__(self, inner: Store | str = "fakeredis") -> None:
        self.inner = open_store(inner)
        self.name = self.inner.name
        self._notes: list[str] = []
        self._lock = threading.Lock()

    def _note(self, verb: str, key: str) -> None:
        with self._lock:
            self._notes.append(f"{verb} {key}")

    def drain(self) -> list[str]:
        """The operations noted since the last drain, oldest first."""
        with self._lock:
            notes, self._notes = self._notes, []
        return notes

    def get(self, key: str) -> str | None:
        self._note("GET", key)
        return self.inner.get(key)

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        self._note("SET", key)
        self.inner.set(key, value, ttl)

    def delete(self, *keys: str) -> int:
        self._note("DEL", " ".join(keys))
        return self.inner.delete(*keys)

    def ttl(self, key: str) -> float | None:
        self._note("TTL", key)
        return self.inner.ttl(key)

    def incr(self, key: str) -> int:
        self._note("INCR", key)
        return self.inner.incr(key)

    def add_member(self, key: str, member: str, ttl: float | None = None) -> None:
        self._note("SADD", key)
        self.inner.add_member(key, member, ttl)

    def members(self, key: str) -> set[str]:
        self._note("SMEMBERS", key)
        return self.inner.members(key)

    def remove_member(self, key: str, member: str) -> None:
        self._note("SREM", key)
        self.inner.remove_member(key, member)

    def keys(self, pattern: str = "*") -> list[str]:
        return self.inner.keys(pattern)

    def compare_and_set(self, key: str, expected: str, value: str, ttl: float | None = None) -> bool:
        self._note("CAS", key)
        return self.inner.compare_and_set(key, expected, value, ttl)

    def close(self) -> None:
        self.inner.close()


@dataclass(frozen=True)
class Exchange:
    """One request and its response, as recorded (values in full; shortened only on display)."""

    method: str
    path: str
    request_headers: tuple[tuple[str, str], ...]
    request_body: str
    status: int
    reason: str
    response_headers: tuple[tuple[str, str], ...]
    response_body: str
    store_operations: tuple[str, ...] | None = None  # None: the store was not watched

    def render(self, body_limit: int = 160) -> str:
        """The exchange as text: request, what the server did to its store, response."""
        lines = [f"→ {self.method} {self.path}"]
        lines += [f"    {header_name(name)}: {shorten(value)}" for name, value in self.request_headers]
        if self.request_body:
            lines.append("    " + _clip(shorten(self.request_body), body_limit))
        if self.store_operations is not None:
            done = ", ".join(shorten(op) for op in self.store_operations) or "not touched"
            lines.append(f"  [server store] {done}")
        lines.append(f"← {self.status} {self.reason}")
        lines += [f"    {header_name(name)}: {shorten(value)}" for name, value in self.response_headers]
        if self.response_body:
            lines.append("    " + _clip(shorten(self.response_body), body_limit))
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.render())


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Recorder:
    """Records every exchange of the httpx clients it is attached to."""

    def __init__(self, *, watch: WatchedStore | None = None, headers: Iterable[str] = SHOWN_HEADERS) -> None:
        self.watch = watch
        self.headers = tuple(name.lower() for name in headers)
        self.exchanges: list[Exchange] = []

    def client(self, base_url: str, **kwargs: Any) -> httpx.Client:
        """A new `httpx.Client` for `base_url`, recorded by this recorder."""
        return self.attach(httpx.Client(base_url=base_url, **kwargs))

    def attach(self, client: httpx.Client) -> httpx.Client:
        """Record an existing client's exchanges too; returns the client."""
        hooks = client.event_hooks
        hooks["request"].append(self._on_request)
        hooks["response"].append(self._on_response)
        client.event_hooks = hooks
        return client

    def _selected(self, headers: httpx.Headers) -> tuple[tuple[str, str], ...]:
        return tuple((name, value) for name in self.headers for value in headers.get_list(name))

    def _on_request(self, request: httpx.Request) -> None:
        if self.watch is not None:
            self.watch.drain()  # whatever happened before this request is not its doing

    def _on_response(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        try:
            request_body = request.content.decode("utf-8", "replace")
        except httpx.RequestNotRead:
            request_body = "<streamed body>"
        self.exchanges.append(
            Exchange(
                method=request.method,
                path=request.url.raw_path.decode("ascii", "replace"),
                request_headers=self._selected(request.headers),
                request_body=request_body,
                status=response.status_code,
                reason=response.reason_phrase,
                response_headers=self._selected(response.headers),
                response_body=response.text,
                store_operations=None if self.watch is None else tuple(self.watch.drain()),
            )
        )

    @property
    def last(self) -> Exchange:
        """The most recent exchange."""
        if not self.exchanges:
            raise LookupError("nothing recorded yet")
        return self.exchanges[-1]

    def log(self) -> str:
        """Every exchange as text, separated by blank lines."""
        return "\n\n".join(exchange.render() for exchange in self.exchanges)

    def diagram(self, title: str = "") -> Diagram:
        """A sequence diagram of every exchange recorded so far."""
        return render_sequence(self.exchanges, title=title)

    def clear(self) -> None:
        self.exchanges.clear()


@dataclass(frozen=True)
class Diagram:
    """Monospaced text; shown in notebooks as a `<pre>` that scrolls instead of wrapping."""

    lines: tuple[str, ...]

    @property
    def width(self) -> int:
        return max((len(line) for line in self.lines), default=0)

    def __str__(self) -> str:
        return "\n".join(self.lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        return f'<pre style="white-space: pre; overflow-x: auto">{html.escape(str(self), quote=False)}</pre>'


def _response_labels(exchange: Exchange) -> list[str]:
    labels = []
    for name, value in exchange.response_headers:
        if name == "set-cookie":
            pair, _, attributes = value.partition(";")
            value = pair + ("; Max-Age=0" if "max-age=0" in attributes.lower().replace(" ", "") else "")
        labels.append(f"{header_name(name)}: {shorten(value)}")
    if exchange.response_body and (not labels or exchange.status >= 400):
        labels.append(brief_json(exchange.response_body))
    return labels


def render_sequence(
    exchanges: Sequence[Exchange], *, title: str = "", client: str = "Client", server: str = "Server"
) -> Diagram:
    """Client and server lifelines with one arrow per request and per response.

    Labels are the credentials each message carries; notes right of the server are its store
    operations (when the store was watched).
    """
    # Each row: (arrow, label, server note); arrow is "→", "←" or "" for a text row.
    rows: list[tuple[str, str, str]] = []
    for exchange in exchanges:
        request_rows = [("→", f"{exchange.method} {exchange.path}")]
        request_rows += [("", f"  {header_name(n)}: {shorten(v)}") for n, v in exchange.request_headers]
        if exchange.store_operations is None:
            notes: list[str] = []
        else:
            notes = [shorten(op) for op in exchange.store_operations] or ["no store access"]
        request_rows += [("", "")] * (len(notes) - len(request_rows))
        notes += [""] * (len(request_rows) - len(notes))
        rows += [(arrow, label, note) for (arrow, label), note in zip(request_rows, notes)]
        rows.append(("←", f"{exchange.status} {exchange.reason}", ""))
        rows += [("", f"  {label}", "") for label in _response_labels(exchange)]
        rows.append(("", "", ""))
    gap = max([len(label) + 5 for _, label, _ in rows] + [len(client) + len(server) + 2, 20])

    lines = [title] if title else []
    lines.append(client.ljust(gap + 1) + server)
    for arrow, label, note in rows:
        if arrow == "→":
            middle = f" {label} ".ljust(gap - 1, "─") + "►"
        elif arrow == "←":
            middle = "◄─" + f" {label} ".ljust(gap - 2, "─")
        else:
            middle = f" {label}".ljust(gap)
        lines.append(f"│{middle}│ {note}".rstrip())
    return Diagram(tuple(lines))


def side_by_side(*diagrams: Diagram, gap: int = 4) -> Diagram:
    """Diagrams next to each other, top-aligned (the lesson's two columns)."""
    height = max(len(diagram.lines) for diagram in diagrams)
    widths = [diagram.width for diagram in diagrams]
    lines = []
    for row in range(height):
        cells = [d.lines[row] if row < len(d.lines) else "" for d in diagrams]
        lines.append((" " * gap).join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip())
    return Diagram(tuple(lines))


__all__ = [
    "Diagram",
    "Exchange",
    "Recorder",
    "SHOWN_HEADERS",
    "WatchedStore",
    "brief_json",
    "header_name",
    "render_sequence",
    "shorten",
    "side_by_side",
]
