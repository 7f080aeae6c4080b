"""``flask --app portal new-provider``: the package it writes installs with pip, is found
through its entry point, and passes its own tests and the conformance kit unchanged."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _new_provider(make_app, *args):
    import tests.sample_provider as sample
    return make_app(plugins=[sample]).test_cli_runner().invoke(args=["new-provider", *args])


def test_the_scaffold_installs_and_passes_the_conformance_kit_unchanged(make_app, tmp_path):
    package = tmp_path / "eiken"
    result = _new_provider(make_app, "eiken_cbt", "--path", str(package), "--name-ja", "英検S-CBT", "--name-en", "Eiken S-CBT")
    assert result.exit_code == 0, result.output
    assert {p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file()} >= {
        "pyproject.toml", "README.md", "eiken_cbt/__init__.py", "eiken_cbt/plugin.py", "eiken_cbt/rules.py",
        "eiken_cbt/data/catalog.json", "eiken_cbt/templates/eiken_cbt/partials/panel.html",
        "eiken_cbt/translations/en/LC_MESSAGES/messages.po", "eiken_cbt/translations/en/LC_MESSAGES/messages.mo",
        "tests/test_rules.py", "tests/test_conformance.py"}
    assert "portal.sdk" in (package / "eiken_cbt" / "plugin.py").read_text()

    site = tmp_path / "site"  # a real pip install, kept out of the project's environment
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(package)],
                         capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stderr
    env = {**os.environ, "PYTHONPATH": str(site), "EXAM_PORTAL_PLUGINS": ""}
    found = subprocess.run([sys.executable, "-c", "from portal import create_app; "
                            "app = create_app({'DATABASE_URL': 'sqlite://', 'SECRET_KEY': 'x'}); "
                            "print(app.extensions['exam_portal.pm'].records['eiken_cbt'].label)"],
                           capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert found.stdout.strip() == "eiken_cbt 0.1.0", found.stderr
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                           capture_output=True, text=True, env=env, cwd=package, timeout=900)
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert "12 passed" in tests.stdout  # its 4 rule tests and the 8 checks of the kit
    check = subprocess.run([sys.executable, "-m", "flask", "--app", "portal", "check-provider", "eiken_cbt"],
                           capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900)
    assert check.returncode == 0 and "provider eiken_cbt conforms" in check.stdout, check.stdout[-3000:]


def test_the_scaffold_refuses_a_bad_id_an_existing_provider_and_a_non_empty_folder(make_app, tmp_path):
    assert "lower-case identifier" in _new_provider(make_app, "Eiken-CBT", "--path", str(tmp_path / "a")).output
    assert "already installed" in _new_provider(make_app, "sample", "--path", str(tmp_path / "b")).output
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "keep.txt").write_text("mine")
    result = _new_provider(make_app, "acme", "--path", str(tmp_path / "c"))
    assert result.exit_code != 0 and "not empty" in result.output
    assert [p.name for p in (tmp_path / "c").iterdir()] == ["keep.txt"]
