"""What a saved notebook shows of a widget before its kernel runs: a one-line note and a picture.

A notebook file keeps a widget's output as a view of a model that lives in the kernel. Opened
again before anything runs, JupyterLab (and a code host) shows the output's other forms instead:
by default the widget's Python repr, its whole tree of children. `SavedForm` puts there a
one-line note (`text/plain`) and an HTML picture of what the widget showed (`text/html`).
"""

from __future__ import annotations

import html
from typing import Any

NOTE_STYLE = "color:#666;font-style:italic;margin:2px 0"


class SavedForm:
    """Mix into an ipywidget: define `saved_note()` (one line) and `saved_picture()` (HTML)."""

    def saved_note(self) -> str:
        raise NotImplementedError

    def saved_picture(self) -> str:
        return ""

    def __repr__(self) -> str:
        return self.saved_note()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        note = self.saved_note()
        data["text/plain"] = note
        data["text/html"] = f'<p style="{NOTE_STYLE}">{html.escape(note)}</p>{self.saved_picture()}'
        return bundle
