"""`make run` installs only when pyproject.toml changed (stamp file), on a copy of the
Makefile with a stand-in virtualenv whose pip records its calls."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path):
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "pip").write_text(f"#!/bin/sh\necho \"$@\" >> {tmp_path / 'pip-calls'}\n")
    for tool in ("python", "pip"):
        (bin_dir / tool).chmod(0o755)
    return tmp_path


def _pip_calls(project: Path) -> list[str]:
    calls = project / "pip-calls"
    return calls.read_text().splitlines() if calls.exists() else []


def _make(project: Path, target: str) -> None:
    subprocess.run(["make", "-s", target], cwd=project, check=True, capture_output=True, timeout=60,
                   env={**os.environ, "MAKEFLAGS": ""})


def test_install_runs_pip_only_when_pyproject_changed(project):
    _make(project, "install")
    assert len(_pip_calls(project)) == 1 and "-e ." in _pip_calls(project)[0]
    _make(project, "install")
    assert len(_pip_calls(project)) == 1  # nothing changed: no reinstall
    time.sleep(1.1)
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\nversion = '2'\n")
    _make(project, "install")
    assert len(_pip_calls(project)) == 2


def test_install_test_also_counts_as_installed(project):
    _make(project, "install-test")
    _make(project, "install")
    assert len(_pip_calls(project)) == 1 and ".[test]" in _pip_calls(project)[0]


def test_reset_demo_removes_the_saved_login():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("reset-demo:", 1)[1].split("\n\n", 1)[0]
    assert "instance/demo_login" in recipe and "instance/portal.db" in recipe and "seed-demo" in recipe
