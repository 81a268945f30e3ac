"""Record HTTP exchanges: what each request carried and what came back.

A `Recorder` hooks into an `httpx.Client` (event hooks, nothing patched) and keeps, for each
request, the method, the path, the headers that carry credentials, the status and the body.
Give it a `WatchedStore` (the server's store, wrapped) and it also notes what the server did
to its store while answering. `recorder.diagram()` draws it all (`sequence.render_sequence`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from .sequence import Diagram, header_name, render_sequence, shorten
from .watchedstore import WatchedStore

SHOWN_HEADERS = ("cookie", "authorization", "set-cookie", "www-authenticate")


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
