"""Tests for dev.py: the set-up prints a few lines, not pip's; JupyterLab opens on the index, without news."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
assert _spec is not None and _spec.loader is not None
dev = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dev)


class FakeRun:
    """Stands in for subprocess.run: records each command and answers with pip-sized output."""

    def __init__(self, fail_on: str = "") -> None:
        self.commands: list[list[str]] = []
        self.fail_on = fail_on

    def __call__(self, command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.commands.append(command)
        failing = bool(self.fail_on) and self.fail_on in " ".join(command)
        output = "".join(f"Collecting package-{n}\n" for n in range(300)) + ("ERROR: no such thing\n" if failing else "")
        if kwargs.get("stdout") is None:  # not captured: it goes to the learner's terminal
            print(output, end="")
        return subprocess.CompletedProcess(command, 1 if failing else 0, output if kwargs.get("stdout") else None)


@pytest.fixture
def fresh_venv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    venv = tmp_path / ".venv"
    python = venv / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.touch()  # as if `venv.create` had run: only the install steps are left
    monkeypatch.setattr(dev, "VENV", venv)
    return venv


def test_the_first_set_up_prints_a_few_lines_not_pips(fresh_venv: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeRun()
    monkeypatch.setattr(dev.subprocess, "run", fake)
    dev.ensure_installed("lab,test")
    out = capsys.readouterr().out
    assert len(out.splitlines()) <= 3, out[:500]
    assert "installing authcourse[lab,test]" in out and "installed in" in out
    assert any(dev.NEWS_PLUGIN in command and "disable" in command for command in fake.commands), fake.commands


def test_a_failed_install_shows_pips_output_and_stops(fresh_venv: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(dev.subprocess, "run", FakeRun(fail_on="-e"))
    with pytest.raises(SystemExit) as stopped:
        dev.ensure_installed("test")
    assert "installing authcourse[test] failed" in str(stopped.value)
    assert "ERROR: no such thing" in capsys.readouterr().err
    assert not list(fresh_venv.glob(".installed-*")), "a failed install must not be stamped as done"


def test_the_test_set_up_leaves_jupyterlab_alone(fresh_venv: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeRun()
    monkeypatch.setattr(dev.subprocess, "run", fake)
    dev.ensure_installed("test")
    assert not any("labextension" in command for command in fake.commands)


def test_jupyterlab_opens_on_the_index_not_the_launcher() -> None:
    options = dev.lab_arguments(as_root=False)
    [default_url] = [option for option in options if option.startswith("--LabApp.default_url=")]
    page = default_url.split("=", 1)[1]
    assert page.startswith("/lab/tree/"), page
    assert (ROOT / page.removeprefix("/lab/tree/")).is_file(), page
    assert "--allow-root" not in options and "--allow-root" in dev.lab_arguments(as_root=True)
