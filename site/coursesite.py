"""A small Sphinx extension that fits the course's notebooks to a website, without editing them.

At build time, on the text of each notebook as Sphinx reads it (`source-read`):

- the index's course map becomes the site's navigation: hidden toctrees on the home page (one per
  part of the map) and, on a chapter, one for the exercises the map lists under it, so the sidebar
  and the previous/next links follow the course;
- the `< previous | Contents | next >` cells (tools/add_navigation.py) are left out: the theme
  draws its own previous/next links and the sidebar;
- a link to a package folder of the repository (`../src/authcourse/stores/`) points to the folder's
  `__init__.py`, whose docstring describes it (a link to a file becomes a download link, as MyST
  makes it);
- links to notebooks written as HTML (`<a href="NN-Title.ipynb#...">`: in HTML outputs, in the
  saved state of widgets, in HTML inside markdown) point to their pages, as MyST does for markdown
  cells; so do the links of markdown outputs, which MyST leaves as written (`doctree-resolved`);
- nbval's marker comments (`# NBVAL_IGNORE_OUTPUT`...) are left out of the code shown;
- every chapter and exercise gets a note after its title cell: how to run it yourself (the
  README's command) and a link to download the notebook;
- a cell that shows a widget gets a note: the widget is drawn from its saved state, with no
  Python behind it.

Links between notebooks need no rewriting: MyST turns a link to `NN-Title.ipynb` into a link to
its page, and the headings get JupyterLab's anchors (`jupyter_anchor`, set as
`myst_heading_slug_func`), which is what the notebooks' links point to. After the build,
`index.html` at the top of the site sends the reader to the home page, the index notebook. The
images myst-nb extracts from the notebooks are kept with Sphinx's cache, not in the repository.
"""

from __future__ import annotations

import html
import json
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

NAVIGATION_MARK = "<!--NAVIGATION-->"
CONTENTS_MARK = "<!--CONTENTS-->"
NBVAL_MARKER = re.compile(r"^# NBVAL_[A-Z_]+[ \t]*\n?", re.MULTILINE)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MAP_ITEM = re.compile(
    r"^(?P<indent>[ \t]*)(?:\d+\.|[-*])[ \t]+(?P<continued>continued:[ \t]*)?\[[^\]]*\]\((?P<target>[^)#\s]+)\.ipynb\)"
)
FOLDER_LINK = re.compile(r"\]\((?P<target>[^)\s:#]+/)\)")
HTML_NOTEBOOK_LINK = re.compile(r"""href=(?P<quote>["'])(?P<target>[^"'#:]+)\.ipynb(?P<anchor>#[^"']*)?(?P=quote)""")
NOTEBOOK_URI = re.compile(r"^(?P<target>[^#:]+)\.ipynb(?P<anchor>#.*)?$")
RUN_COMMAND = "python3 dev.py lab"
CHAPTER_LEAD = "This page is the notebook with the outputs it stored when it last ran: nothing was run to make it."
EXERCISE_LEAD = "You solve this exercise in the notebook: its check cells run your code against a live mini-server."

RUN_IT_YOURSELF = """\
```{{admonition}} Run it yourself
:class: tip run-it-yourself

{lead} To run it, get the course's repository and, in it, run `{command}` (Python 3.11 or newer;
the first run installs the course into `.venv/`, about a minute), then open `{path}`.
{{download}}`Download this notebook <{name}>`.
```
"""

WIDGET_NOTE = """\
```{note}
:class: saved-widget

The widget below is drawn from the state saved in the notebook, so it shows what it showed when
the chapter last ran. No Python runs behind it here: changing its controls computes nothing. Run
the notebook to use it.
```
"""


def jupyter_anchor(title: str) -> str:
    """JupyterLab's anchor for a heading: its text as rendered, spaces as `-` (as tools/add_navigation.py links)."""
    return title.strip().replace(" ", "-")


@dataclass
class Part:
    """A part of the course map: a caption and its entries, each a page and the exercises under it."""

    caption: str
    entries: list[tuple[str, list[str]]] = field(default_factory=list)


def course_map(contents: str, index_docname: str) -> list[Part]:
    """The parts of the index's course map (its `<!--CONTENTS-->` cell), as docnames.

    A chapter's second notebook (`- continued: [...](02b-...)`) is a page of its own, after the
    chapter; the exercises listed under it follow it.
    """
    folder = posixpath.dirname(index_docname)
    parts: list[Part] = []
    for line in contents.splitlines():
        item = MAP_ITEM.match(line)
        if item is None:
            text = line.strip()
            if text.endswith(":") and not text.startswith("#"):
                parts.append(Part(text.rstrip(":")))
            continue
        docname = posixpath.normpath(posixpath.join(folder, item.group("target")))
        if not parts:
            parts.append(Part("Chapters"))
        if item.group("indent") and parts[-1].entries and not item.group("continued"):
            parts[-1].entries[-1][1].append(docname)
        else:
            parts[-1].entries.append((docname, []))
    return [part for part in parts if part.entries]


def toctree(docnames: list[str], caption: str | None = None) -> str:
    options = ":hidden:\n" + (f":caption: {caption}\n" if caption else "")
    return "```{toctree}\n" + options + "\n" + "".join(f"/{name}\n" for name in docnames) + "```\n"


def markdown_cell(source: str, cell_id: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "id": f"coursesite-{cell_id}", "metadata": {}, "source": source}


def is_navigation(cell: dict[str, Any]) -> bool:
    return cell["cell_type"] == "markdown" and "".join(cell["source"]).startswith(NAVIGATION_MARK)


def shows_widget(cell: dict[str, Any]) -> bool:
    return any(WIDGET_VIEW in output.get("data", {}) for output in cell.get("outputs", []))


def link_folders_to_init(text: str, folder: Path) -> str:
    """Point links to package folders (relative to `folder`) at their `__init__.py`."""

    def replace(match: re.Match[str]) -> str:
        target = match.group("target")
        init = folder / target / "__init__.py"
        return f"]({target}__init__.py)" if init.is_file() else match.group(0)

    return FOLDER_LINK.sub(replace, text)


def page_uri(app: Sphinx, docname: str, target: str, anchor: str | None) -> str | None:
    """The URI, from `docname`'s page, of notebook `target`'s page (`target` relative, no suffix); None if none."""
    page = posixpath.normpath(posixpath.join(posixpath.dirname(docname), target))
    if page not in app.env.found_docs:
        return None
    return app.builder.get_relative_uri(docname, page) + (anchor or "")


def link_html_to_pages(app: Sphinx, docname: str, value: Any) -> Any:
    """`value` (a string, or lists and dicts of them) with HTML links to notebooks of the site sent to their pages."""
    if isinstance(value, list):
        return [link_html_to_pages(app, docname, item) for item in value]
    if isinstance(value, dict):
        return {key: link_html_to_pages(app, docname, item) for key, item in value.items()}
    if not isinstance(value, str) or ".ipynb" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        uri = page_uri(app, docname, match.group("target"), match.group("anchor"))
        return match.group(0) if uri is None else f"href={match.group('quote')}{uri}{match.group('quote')}"

    return HTML_NOTEBOOK_LINK.sub(replace, value)


def link_outputs_to_pages(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Links to notebooks in markdown outputs (which MyST leaves as they are) sent to their pages."""
    for reference in doctree.findall(nodes.reference):
        link = NOTEBOOK_URI.match(reference.get("refuri", ""))
        uri = link and page_uri(app, docname, link.group("target"), link.group("anchor"))
        if uri:
            reference["refuri"] = uri


def read_course_map(app: Sphinx) -> list[Part]:
    path = Path(app.env.doc2path(app.config.root_doc))
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and source.startswith(CONTENTS_MARK):
            return course_map(source, app.config.root_doc)
    return []


def adapt_notebook(app: Sphinx, docname: str, source: list[str]) -> None:
    """Rewrite the notebook's text as read for the site (see the module's docstring)."""
    path = Path(app.env.doc2path(docname))
    if path.suffix != ".ipynb":
        return
    root = app.config.root_doc
    app.env.note_dependency(str(app.env.doc2path(root)))  # the course map lives in the index
    parts = read_course_map(app)
    notebook = json.loads(source[0])
    cells = []
    for cell in notebook["cells"]:
        if is_navigation(cell):
            continue
        if cell["cell_type"] == "markdown":
            text = link_folders_to_init("".join(cell["source"]), path.parent)
            cell["source"] = link_html_to_pages(app, docname, text)
        for output in cell.get("outputs", []):
            if "text/html" in output.get("data", {}):
                output["data"]["text/html"] = link_html_to_pages(app, docname, output["data"]["text/html"])
        if cell["cell_type"] == "code":
            cell["source"] = NBVAL_MARKER.sub("", "".join(cell["source"]))
            if shows_widget(cell):
                cells.append(markdown_cell(WIDGET_NOTE, f"widget-note-{len(cells)}"))
        cells.append(cell)
    if docname == root:
        cells += [markdown_cell(toctree([name for name, _ in part.entries], part.caption), f"toctree-{number}")
                  for number, part in enumerate(parts)]
    else:
        title = next((i for i, cell in enumerate(cells) if cell["cell_type"] == "markdown"
                      and re.search(r"^# ", "".join(cell["source"]), re.MULTILINE)), 0)
        where = path.relative_to(app.srcdir).as_posix()
        lead = EXERCISE_LEAD if where.startswith("exercises/") else CHAPTER_LEAD
        note = RUN_IT_YOURSELF.format(lead=lead, command=RUN_COMMAND, name=path.name, path=where)
        cells.insert(title + 1, markdown_cell(note, "run-it-yourself"))
        exercises = [exercise for part in parts for name, under in part.entries if name == docname
                     for exercise in under]
        if exercises:
            cells.append(markdown_cell(toctree(exercises), "exercises-toctree"))
    notebook["cells"] = cells
    if "widgets" in notebook["metadata"]:
        notebook["metadata"]["widgets"] = link_html_to_pages(app, docname, notebook["metadata"]["widgets"])
    source[0] = json.dumps(notebook)


def keep_outputs_with_the_cache(app: Sphinx) -> None:
    """myst-nb writes the notebooks' images beside the output folder (the repository, for _site/); use the cache."""
    folder = Path(app.doctreedir) / "jupyter_execute"
    app.env.mystnb_config = app.env.mystnb_config.copy(output_folder=str(folder))


def write_home_redirect(app: Sphinx, exception: Exception | None) -> None:
    """`index.html` at the top of the site: the home page is the index notebook's page."""
    if exception is not None or app.builder.format != "html" or app.config.root_doc == "index":
        return
    target, title = html.escape(app.builder.get_target_uri(app.config.root_doc)), html.escape(app.config.html_title)
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="refresh" content="0; url={target}">\n'
        f"<title>{title}</title></head>\n"
        f'<body><p><a href="{target}">{title}</a></p></body></html>\n'
    )
    Path(app.outdir, "index.html").write_text(page, encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", keep_outputs_with_the_cache, priority=600)  # after myst-nb's own
    app.connect("source-read", adapt_notebook)
    app.connect("doctree-resolved", link_outputs_to_pages)
    app.connect("build-finished", write_home_redirect)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
