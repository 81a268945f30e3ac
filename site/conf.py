"""Sphinx configuration of the course's website: `python3 dev.py site` builds it into _site/.

The sources are the repository's own notebooks/ and exercises/ (never solutions/), read by myst-nb
with the outputs they store: nothing is executed. `coursesite.py` beside this file fits the
notebooks to a website without editing them. Everything a page loads is in the site itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

project = "Session vs token authentication"
author = "the authcourse authors"
copyright = "the authcourse authors, MIT licence"

# The source folder is the repository (see dev.py); only these notebooks are pages.
root_doc = "notebooks/00-Index"
include_patterns = ["notebooks/*.ipynb", "exercises/*.ipynb"]
exclude_patterns = [".*", "_site", "build", "dist", "site", "solutions", "src", "tests", "tools", "benchmarks", "docs"]

extensions = ["myst_nb", "coursesite"]

nb_execution_mode = "off"  # the stored outputs, as strict nbval keeps them
nb_ipywidgets_js = {"jupyter-widgets/embed.js": {}}  # vendored (tools/vendor_widgets_js.py), no CDN
nb_merge_streams = True
smartquotes = False  # the text as the notebooks have it (and as JupyterLab shows it)
myst_heading_anchors = 3
myst_heading_slug_func = "coursesite.jupyter_anchor"  # the notebooks link to JupyterLab's anchors

html_theme = "sphinx_book_theme"
html_title = "Session vs token authentication, run for real"
html_static_path = ["_static"]
html_favicon = "_static/favicon.svg"  # else a browser asks a web server for /favicon.ico, which is not there
html_css_files = ["course.css"]
html_js_files = ["course.js"]
html_copy_source = False  # each chapter has its own download link to the notebook itself
html_show_sourcelink = False
html_last_updated_fmt = None
html_use_index = False  # no API to index: the search is the way in
html_domain_indices = False
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "navigation_with_keys": False,
    "navbar_persistent": [],  # the sidebar has the search field
}
html_context = {"default_mode": "auto"}  # light or dark as the reader's system prefers; the button switches
pygments_style = "tango"
pygments_dark_style = "monokai"
