"""`ResultTable`: an experiment's result as a table, in plain text (print, saved notebooks) and in HTML (Jupyter).

A cell that ends with a `ResultTable` shows the HTML table; `print(result)` writes the same rows as
aligned text. A caption above says what was measured and under which browser setting; notes below
say what the reader should look at.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ResultTable:
    """Rows of cells under named columns, with an optional caption line and note lines."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    notes: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, columns: Sequence[str], rows: Sequence[Sequence[Any]], caption: str = "",
           notes: Sequence[str] = ()) -> ResultTable:
        return cls(tuple(columns), tuple(tuple(str(cell) for cell in row) for row in rows), caption, tuple(notes))

    def __str__(self) -> str:
        widths = [max([len(name)] + [len(row[i]) for row in self.rows if i < len(row)])
                  for i, name in enumerate(self.columns)]
        lines = [self.caption] if self.caption else []
        for row in (self.columns, *self.rows):
            lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        lines += list(self.notes)
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython's text/plain form
        printer.text(str(self))

    def _repr_html_(self) -> str:
        escape = html.escape
        head = "".join(f"<th style='text-align:left'>{escape(name)}</th>" for name in self.columns)
        body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{escape(cell)}</td>" for cell in row) + "</tr>"
                       for row in self.rows)
        caption = f"<caption style='text-align:left'>{escape(self.caption)}</caption>" if self.caption else ""
        notes = "".join(f"<br>{escape(note)}" for note in self.notes)
        return f"<table>{caption}<tr>{head}</tr>{body}</table>{notes}"
