"""Draw recorded exchanges: a sequence diagram, two of them side by side, values shortened.

Long random values (session ids, JWTs, signatures) are shortened on display to their first
characters and `…`, so diagrams stay narrow and stored notebook outputs compare stably.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .recorder import Exchange

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
