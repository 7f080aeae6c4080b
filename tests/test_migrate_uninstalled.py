"""`flask migrate` on a database migrated with a plugin that is no longer installed: the
plugin's branch is skipped with a warning (Alembic would otherwise stop: it cannot locate
the revision), its tables are kept, and its branch continues when it comes back."""
from __future__ import annotations

from importlib.metadata import entry_points

import pytest
from sqlalchemy import create_engine, inspect, text

from portal import create_app

WITH_MIGRATIONS = sorted(ep.name for ep in entry_points(group="exam_portal")
                         if (ep.load().__file__ and __import__("pathlib").Path(ep.load().__file__).parent.joinpath(
                             "migrations", "versions").is_dir()))


def _versions(url):
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
        tables = set(inspect(conn).get_table_names())
    engine.dispose()
    return rows, tables


@pytest.mark.parametrize("removed", WITH_MIGRATIONS)
def test_migrate_skips_the_branch_of_a_plugin_no_longer_installed(tmp_path, removed, monkeypatch):
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    everything = create_app({"DATABASE_URL": url, "SECRET_KEY": "x", "EXAM_PORTAL_PLUGINS": None})
    assert everything.test_cli_runner().invoke(args=["migrate"]).exit_code == 0
    before, tables_before = _versions(url)

    others = ",".join(n for n in (ep.name for ep in entry_points(group="exam_portal")) if n != removed)
    without = create_app({"DATABASE_URL": url, "SECRET_KEY": "x", "EXAM_PORTAL_PLUGINS": others or "-"})
    result = without.test_cli_runner().invoke(args=["migrate"])
    assert result.exit_code == 0, result.output
    assert "is skipped" in result.output or "branch is skipped" in result.output
    after, tables_after = _versions(url)
    assert after == before and tables_after == tables_before  # its revision and tables are kept

    again = everything.test_cli_runner().invoke(args=["migrate"])  # the plugin comes back
    assert again.exit_code == 0 and "warning" not in again.output
    assert _versions(url)[0] == before
