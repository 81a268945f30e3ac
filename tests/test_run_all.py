"""Run All, then use the widget: every chapter's widget still works after its notebook ran to the end.

A learner runs all cells, then plays with a widget. A clean-up cell at the end that stops the server
(or browser lab) a widget uses breaks the widget; a widget that cannot reach its server must say so
in red, never in green. Each chapter that makes a widget is run top to bottom in a kernel, then a
probe cell uses every widget the kernel holds, as a learner's clicks would.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from conftest import require
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

from authcourse.browserlab.browser import chromium_path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
WIDGETS = ("JWTInspector(", "DecisionGuide(", "CookieExplorer(")

# Uses every widget in the kernel (assigned to a name or only displayed, hence Out) and reports in JSON.
PROBE = '''
import json as _json
from authcourse.widgets.cookie_explorer import CookieExplorer as _CE
from authcourse.widgets.decision_guide import DecisionGuide as _DG
from authcourse.widgets.jwt_inspector import JWTInspector as _JI
_found, _report = {}, []
for _value in [*globals().values(), *Out.values()]:
    if isinstance(_value, (_CE, _DG, _JI)):
        _found[id(_value)] = _value
for _w in _found.values():
    if isinstance(_w, _JI):
        for _label, _token in _w.pick.options[1:]:
            _w.token.value = ""
            _w.pick.value = ""
            _w.pick.value = _token
            _report.append(["inspector", _label, _w.report.server_status, _w.view.value])
    elif isinstance(_w, _DG):
        _before = _w.answer.value
        _w.client.value = "spa-cross-site" if _w.client.value != "spa-cross-site" else "server-rendered"
        _report.append(["guide", "answer changed", _w.answer.value != _before, _w.answer.value])
    elif isinstance(_w, _CE):
        _w.same_site.value = "Strict"
        _report.append(["explorer", "model", "SameSite=Strict" in _w.result.value, _w.result.value])
        if not _w.run.disabled:
            _w.run.click()
            _report.append(["explorer", "Chromium", "failed" not in _w.live.value, _w.live.value])
print(_json.dumps(_report))
'''


def chapters_with_widgets() -> list[object]:
    params = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]*.ipynb")):
        text = path.read_text(encoding="utf-8")
        if not any(constructor in text for constructor in WIDGETS):
            continue
        marks = [pytest.mark.slow]
        if "Browser(" in text or "start_browser(" in text:
            marks.append(pytest.mark.browser)
        params.append(pytest.param(path, id=path.stem, marks=marks))
    return params


def run_all_then_probe(path: Path) -> list[list[object]]:
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(PROBE))
    kernel = KernelManager(kernel_name=CURRENT_ENV_KERNEL_NAME, kernel_spec_manager=NbvalKernelspecManager())
    client = NotebookClient(notebook, kernel, timeout=300, resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    finally:
        if client.kc is not None:  # nbclient leaves the channels of a kernel manager it was given open
            client.kc.stop_channels()
        kernel.shutdown_kernel(now=True)
    output = "".join(out.get("text", "") for out in notebook.cells[-1].outputs if out.get("name") == "stdout")
    return json.loads(output)


@pytest.mark.parametrize("path", chapters_with_widgets())
def test_every_widget_works_after_run_all(path: Path) -> None:
    if "Browser(" in path.read_text(encoding="utf-8"):
        require(chromium_path(), "chromium not installed (apt-get install chromium, or set AUTHCOURSE_CHROMIUM)")
    report = run_all_then_probe(path)
    assert report, f"{path.name} makes a widget, but the kernel holds none after Run All"
    for kind, what, ok, shown in report:
        if kind == "inspector":
            assert ok != 0, f"{path.name}: the inspector's server is gone after Run All ({what}): {shown[:300]}"
            if ok == 200:
                assert "#c62828" not in shown.split(">server<")[1]
        else:
            assert ok, f"{path.name}: the {kind} does not work after Run All ({what}): {shown[:300]}"


def test_the_probe_sees_a_stopped_server(tmp_path: Path) -> None:
    """The test above can fail: a notebook whose last cell stops the inspector's server is caught."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in (
        "from authcourse import CourseServer\nfrom authcourse.widgets.jwt_inspector import JWTInspector\n"
        "import httpx\nserver = CourseServer(mode='token', bcrypt_rounds=4).start()",
        "token = httpx.post(server.url + '/login', json={'email': 'alice@example.com', "
        "'password': 'wonderland'}).json()['token']",
        "JWTInspector({'alice': token}, server_url=server.url)",
        "server.stop()",
    )]
    path = tmp_path / "99-Stops-Its-Server.ipynb"
    nbformat.write(notebook, path)
    [[kind, label, status, shown]] = run_all_then_probe(path)
    assert (kind, label, status) == ("inspector", "alice", 0)
    assert "#c62828" in shown and "Re-run the cell that starts the server" in shown
