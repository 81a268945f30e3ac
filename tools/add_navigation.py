"""Write the navigation cells of every notebook, and the course map of the index.

Each numbered notebook (`NN-Title.ipynb`) in notebooks/, exercises/ and solutions/ gets a cell
`< previous | Contents | next >` at its top and at its bottom, built from the file names and
the notebooks' own titles (their first `# ` heading). The index, notebooks/00-Index.ipynb,
also gets its course map: one line per planned chapter, a link where the notebook exists,
"coming" where it does not yet, and beside each chapter the exercises numbered like it
(`02-Exercise-Require-Session.ipynb` sits beside chapter 2). A chapter too long for one notebook
continues in `NNb-Title.ipynb` (then `NNc-...`): listed under its chapter, navigated in order.

The index also gets the lesson map: a table from each section of the lesson (1 to 8, and the
three explain-it challenges) to the chapter cells that show it, built from markers in the chapters.

Marking a chapter's cells for the lesson map (for chapter authors and the integrator):

- Give the cell a tag (JupyterLab: the property inspector, "Cell tags"; or the cell's
  `metadata.tags` list) `lesson-N` for section N of the lesson (`lesson-1` ... `lesson-8`), or
  `lesson-explain-K` for the K-th explain-it challenge (1: ten servers behind a load balancer,
  2: instant logout with JWTs, 3: localStorage vs an HttpOnly cookie). A cell may carry several.
- Tag the markdown cell that opens the part showing it, best a heading (`## ...`): the map links to
  that heading (JupyterLab's anchor: the heading's text with spaces turned into `-`). A tagged cell
  without a heading is linked through the nearest heading above it.
- A section's own chapter (section N is chapter N; the challenges are chapter 8) is always listed:
  its tagged headings when it has some, the whole chapter when it has none, "coming" when it does
  not exist yet. So a chapter that lands without markers still appears, and markers only sharpen it.

Never edit those cells by hand: they are recognised by their first line and rewritten.
The script is idempotent: a second run changes nothing.

    python tools/add_navigation.py           # bring every notebook up to date
    python tools/add_navigation.py --check   # only report; exit 1 if something is out of date
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("notebooks", "exercises", "solutions")
INDEX = "00-Index.ipynb"
NAVIGATION_MARK = "<!--NAVIGATION-->"
CONTENTS_MARK = "<!--CONTENTS-->"
LESSON_MAP_MARK = "<!--LESSON-MAP-->"
NUMBERED = re.compile(r"^(\d\d)[a-z]?-[\w.-]+\.ipynb$")  # 02-Sessions.ipynb; a chapter's second part: 02b-...


@dataclass(frozen=True)
class Chapter:
    number: str
    title: str  # used until the notebook exists; then its own heading wins
    summary: str
    beyond_the_lesson: bool = False


COURSE_MAP = (
    Chapter("01", "Two approaches", "one login, one profile call, one logout against a session server and a "
            "token server, side by side, drawn from the real traffic"),
    Chapter("02", "Session-based authentication", "the cookie and its attributes, the signed id, the store "
            "entry it points to, logout that deletes it; the lesson's four session stores, measured"),
    Chapter("03", "Token-based authentication", "sign a JWT, decode its three parts, verify it; missing, "
            "tampered and expired tokens; why the server cannot force a logout"),
    Chapter("04", "The comparison, measured", "every row of the lesson's table backed by a measurement: bytes "
            "on the wire, lookup vs verify, scaling, invalidation, CSRF, XSS, mobile, cross-domain"),
    Chapter("05", "When to use which", "a decision guide to query with your own case"),
    Chapter("06", "Hybrid approaches", "a JWT in an HttpOnly cookie; a denylist in Redis whose entries expire "
            "with the tokens they revoke"),
    Chapter("07", "Cookie security attributes", "every attribute and every SameSite value tried in a real "
            "browser (Chromium), and an explorer that predicts what the browser sends"),
    Chapter("08", "Key takeaways and the explain-it challenges", "ten servers behind a load balancer, instant "
            "logout with JWTs, localStorage vs an HttpOnly cookie under an injected script"),
    Chapter("09", "Session fixation and timeouts", "regenerating the id at login; idle vs absolute timeouts",
            beyond_the_lesson=True),
    Chapter("10", "Refresh tokens", "short access tokens, rotation, and reuse detection", beyond_the_lesson=True),
    Chapter("11", "Attacks on JWTs", "alg none, a weak secret, key confusion: a vulnerable verifier next to "
            "the hardened one, with RFC 8725's rules", beyond_the_lesson=True),
    Chapter("12", "CSRF and cookie prefixes", "a forged cross-site request with and without SameSite; "
            "`__Host-` cookies; OWASP ASVS requirement ids", beyond_the_lesson=True),
    Chapter("13", "Keys and their rotation", "HS256 lets every verifier mint; RS256, ES256 and EdDSA with a key "
            "set, the JWKS endpoint, PyJWKClient's cache, rotation by `kid`, measured", beyond_the_lesson=True),
    Chapter("14", "The session's whole life", "active sessions by device, ended from another one; a password "
            "change that ends every other login; sensitive actions behind the password; what a copy of the "
            "store gives an attacker, ids vs their hashes", beyond_the_lesson=True),
    Chapter("15", "Across origins", "CORS with credentials (`*`, a reflected Origin, an allow-list) measured in "
            "Chromium; a backend-for-frontend; Fetch Metadata and Origin as a CSRF defence with no token; login "
            "CSRF", beyond_the_lesson=True),
)


@dataclass(frozen=True)
class Section:
    tag: str  # the cell tag that marks it
    title: str
    chapter: str  # the chapter that follows this section of the lesson


LESSON_SECTIONS = (
    Section("lesson-1", "1. Two fundamentally different approaches", "01"),
    Section("lesson-2", "2. Session-based authentication (express-session, the store options)", "02"),
    Section("lesson-3", "3. Token-based authentication (sign, verify, Bearer)", "03"),
    Section("lesson-4", "4. Session vs token: the detailed comparison", "04"),
    Section("lesson-5", "5. When to use which", "05"),
    Section("lesson-6", "6. Hybrid approaches (JWT in an HttpOnly cookie; a denylist)", "06"),
    Section("lesson-7", "7. Cookie security attributes", "07"),
    Section("lesson-8", "8. Key takeaways", "08"),
    Section("lesson-explain-1", "Explain it: ten servers behind a load balancer", "08"),
    Section("lesson-explain-2", "Explain it: instant logout of a compromised account with JWTs", "08"),
    Section("lesson-explain-3", "Explain it: a JWT in localStorage vs in an HttpOnly cookie", "08"),
)
HEADING = re.compile(r"^#{1,6} +(.+?) *#*$")


def notebooks_in(folder: Path) -> list[Path]:
    """The numbered notebooks of a folder, in course order."""
    return sorted(path for path in folder.glob("*.ipynb") if NUMBERED.match(path.name))


def is_generated(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "markdown" and cell.source.startswith((NAVIGATION_MARK, CONTENTS_MARK, LESSON_MAP_MARK))


def title_of(path: Path) -> str:
    """A notebook's first level-1 heading, else its file name made readable."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and not is_generated(cell):
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem.split("-", 1)[-1].replace("-", " ")


def chapters_in(folder: Path) -> dict[str, list[Path]]:
    """Each chapter number with its notebooks: the chapter itself, then its parts (02b, 02c...)."""
    found: dict[str, list[Path]] = {}
    for path in notebooks_in(folder):
        found.setdefault(path.name[:2], []).append(path)
    return found


def link(title: str, target: str) -> str:
    return f"[{title}]({target})"


def navigation(previous: Path | None, contents: str, following: Path | None) -> str:
    parts = []
    if previous is not None:
        parts.append(link(title_of(previous), previous.name))
    parts.append(link("Contents", contents))
    if following is not None:
        parts.append(link(title_of(following), following.name))
    return f"{NAVIGATION_MARK}\n< " + " | ".join(parts) + " >"


def lab_level(path: Path) -> str:
    """` (practitioner, about 20 min)` after an attack lab's link: its difficulty and a learner's time."""
    lab_id = nbformat.read(path, as_version=4).metadata.get("authcourse", {}).get("lab")
    if not lab_id:
        return ""
    from authcourse.vulnerable.browserlabs import VULNERABLE_BROWSER_LABS  # tools may import the labs
    from authcourse.vulnerable.labs import VULNERABLE_JWT_LABS

    lab = VULNERABLE_JWT_LABS.get(lab_id) or VULNERABLE_BROWSER_LABS.get(lab_id)
    return f" ({lab.difficulty}, about {lab.minutes} min)" if lab else ""


def course_map(folder: Path) -> str:
    """The index's table of contents: every planned chapter, linked when its notebook exists."""
    parts = chapters_in(folder)
    existing = {number: paths[0] for number, paths in parts.items()}
    planned = {chapter.number for chapter in COURSE_MAP}
    unplanned = [Chapter(number, "", "") for number in sorted(existing) if number not in planned and number != "00"]

    by_chapter: dict[str, list[Path]] = {}
    for path in notebooks_in(folder.parent / "exercises"):
        by_chapter.setdefault(path.name[:2], []).append(path)

    def exercise_link(path: Path) -> str:
        return link(title_of(path), f"../exercises/{path.name}") + lab_level(path)

    def line(chapter: Chapter) -> str:
        path = existing.get(chapter.number)
        name = link(title_of(path), path.name) if path else f"{chapter.title} *(coming)*"
        text = f"{int(chapter.number)}. {name}" + (f": {chapter.summary}" if chapter.summary else "")
        text += "".join(f"\n    - continued: {link(title_of(part), part.name)}" for part in parts.get(chapter.number, [])[1:])
        beside = by_chapter.get(chapter.number, [])
        return text + "".join(f"\n    - {exercise_link(exercise)}" for exercise in beside)

    lesson = [line(chapter) for chapter in COURSE_MAP if not chapter.beyond_the_lesson]
    beyond = [line(chapter) for chapter in COURSE_MAP if chapter.beyond_the_lesson] + [line(c) for c in unplanned]
    chapters = {chapter.number for chapter in COURSE_MAP} | {c.number for c in unplanned}
    exercises = [f"- {exercise_link(path)}" for number, paths in by_chapter.items() if number not in chapters for path in paths]
    return "\n".join(
        [CONTENTS_MARK, "## Course map", "", "Following the lesson, section by section:", "", *lesson, "",
         "Beyond the lesson:", "", *beyond, "",
         "Exercises and attack labs sit under their chapters; each has check cells that say what passed, "
         "and `authcourse grade` grades both (see the README).",
         *(["", "Other exercises:", "", *exercises] if exercises else [])]
    )


def anchor(heading: str) -> str:
    """JupyterLab's anchor for a heading: its text as rendered (no backticks or stars), spaces as `-`."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # [text](link) renders as text
    return re.sub(r"[`*]", "", text).strip().replace(" ", "-")


def marked_headings(path: Path) -> dict[str, list[str]]:
    """For each lesson tag in the notebook, the headings (in order, no repeats) of the cells it marks."""
    found: dict[str, list[str]] = {}
    heading = ""
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown" and not is_generated(cell):
            for line in cell.source.splitlines():
                match = HEADING.match(line)
                if match:
                    heading = match.group(1)
                    break
        for tag in cell.metadata.get("tags", []):
            if tag.startswith("lesson-") and heading and heading not in found.setdefault(tag, []):
                found[tag].append(heading)
    return found


def lesson_map(folder: Path) -> str:
    """The index's table from each lesson section to the chapter cells that show it."""
    parts = chapters_in(folder)
    existing = {number: paths[0] for number, paths in parts.items()}
    marks = {path: marked_headings(path) for number, paths in parts.items() if number != "00" for path in paths}

    def places(section: Section) -> str:
        links = []
        own = existing.get(section.chapter)
        if own is None:
            links.append(f"chapter {int(section.chapter)} *(coming)*")
        elif not any(marks[path].get(section.tag) for path in parts[section.chapter]):
            links.append(f"chapter {int(section.chapter)}, {link('the whole chapter', own.name)}")
        for path, found in marks.items():
            for heading in found.get(section.tag, []):
                target = f"{path.name}#{anchor(heading)}"
                links.append(f"chapter {int(path.name[:2])}, {link(heading.replace('|', '/'), target)}")
        return "<br>".join(links)

    rows = [f"| {section.title} | {places(section)} |" for section in LESSON_SECTIONS]
    return "\n".join(
        [LESSON_MAP_MARK, "## The lesson, section by section", "",
         "Where each section of the lesson, and each of its explain-it challenges, is shown running:", "",
         "| the lesson | shown in |", "|---|---|", *rows]
    )


def markdown(cell_id: str, source: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(source)
    cell.id = cell_id  # fixed ids: a rerun must not produce a different file
    return cell


def updated(path: Path, previous: Path | None, following: Path | None, contents: str) -> str:
    """The notebook's text with its generated cells rewritten."""
    notebook = nbformat.read(path, as_version=4)
    nav = navigation(previous, contents, following)
    cells = [cell for cell in notebook.cells if not is_generated(cell)]
    top = [markdown("navigation-top", nav)]
    if path.name == INDEX and path.parent.name == "notebooks":
        # The course map goes right after the index's introduction (its first cell).
        generated = [markdown("course-map", course_map(path.parent)), markdown("lesson-map", lesson_map(path.parent))]
        cells = cells[:1] + generated + cells[1:]
    notebook.cells = top + cells + [markdown("navigation-bottom", nav)]
    return nbformat.writes(notebook) + "\n"


def update(root: Path = ROOT, *, check: bool = False) -> list[Path]:
    """Rewrite the generated cells under `root`; return the notebooks that changed (or would)."""
    changed = []
    index = root / "notebooks" / INDEX
    for folder in (root / name for name in FOLDERS):
        paths = notebooks_in(folder)
        contents = INDEX if (folder / INDEX).exists() or not index.exists() else f"../notebooks/{INDEX}"
        for position, path in enumerate(paths):
            previous = paths[position - 1] if position > 0 else None
            following = paths[position + 1] if position + 1 < len(paths) else None
            text = updated(path, previous, following, contents)
            if text != path.read_text(encoding="utf-8"):
                changed.append(path)
                if not check:
                    path.write_text(text, encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook is out of date")
    parser.add_argument("--root", type=Path, default=ROOT, help="the project root (default: this repository)")
    args = parser.parse_args(argv)
    changed = update(args.root, check=args.check)
    for path in changed:
        print(f"{'out of date' if args.check else 'updated'}: {path.relative_to(args.root)}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
