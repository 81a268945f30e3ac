"""Vendor the JavaScript that renders saved widget state on the course's website.

    python3 tools/vendor_widgets_js.py            # the version pinned below
    python3 tools/vendor_widgets_js.py 1.0.16     # another release of @jupyter-widgets/html-manager

Fetches `@jupyter-widgets/html-manager` with `npm pack` (the npm registry; npm checks the
tarball's integrity) and copies its standalone bundle `dist/embed.js` (the base widgets, the
controls and the output widget, with no require.js), its license notice and the WOFF2 files of
the icon font it refers to into site/_static/jupyter-widgets/. The website then loads nothing
from a CDN. Rerun after upgrading ipywidgets to a new major version, rebuild and run the site's
test (`tests/test_site.py`).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "@jupyter-widgets/html-manager"
VERSION = "1.0.15"  # for ipywidgets 8 (widget protocol 2)
DEST = ROOT / "site" / "_static" / "jupyter-widgets"


def vendor(version: str = VERSION, dest: Path = DEST) -> list[Path]:
    """Copy the bundle, its license and its WOFF2 fonts of `version` into `dest`; return the files written."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm not found (apt-get install npm)")
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([npm, "pack", "--json", f"{PACKAGE}@{version}"], cwd=tmp, check=True,
                             capture_output=True, text=True).stdout
        packed = json.loads(out)[0]
        with tarfile.open(Path(tmp) / packed["filename"]) as tar:
            tar.extractall(tmp, filter="data")
        dist = Path(tmp) / "package" / "dist"
        bundle = (dist / "embed.js").read_text(encoding="utf-8")
        fonts = sorted(set(re.findall(r'"([0-9a-f]{20}\.woff2)"', bundle)))
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        written = []
        for name in ["embed.js", "embed.js.LICENSE.txt", *fonts]:
            shutil.copyfile(dist / name, dest / name)
            written.append(dest / name)
        (dest / "VERSION").write_text(f"{PACKAGE}@{packed['version']} {packed['integrity']}\n", encoding="utf-8")
        written.append(dest / "VERSION")
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    for path in vendor(*args[:1]):
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size:>9} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
