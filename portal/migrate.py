"""Alembic, configured from the app: core migrations plus any plugin's ``migrations/``
folder (a plugin's tables stay in its own migration branch, apart from the core's)."""
from __future__ import annotations

from pathlib import Path

import logging

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Flask

log = logging.getLogger("portal.migrate")
CORE_VERSIONS = Path(__file__).parent / "migrations" / "versions"


def alembic_config(app: Flask) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    locations = [CORE_VERSIONS, *app.extensions["exam_portal.providers"].migration_folders()]
    cfg.set_main_option("version_locations", " ".join(str(p) for p in locations))
    cfg.set_main_option("path_separator", "space")
    cfg.attributes["engine"] = app.extensions["exam_portal.engine"]
    return cfg


def upgrade(app: Flask, revision: str = "heads") -> list[str]:
    """Upgrade every installed branch. A revision recorded in the database that no installed
    package provides (a plugin uninstalled after migrating) is skipped with a warning: its
    row is set aside during the upgrade and put back, so its tables stay and its branch
    continues if the plugin comes back. Returns the skipped revisions."""
    cfg = alembic_config(app)
    known = {rev.revision for rev in ScriptDirectory.from_config(cfg).walk_revisions()}
    engine = cfg.attributes["engine"]
    with engine.begin() as connection:
        table = sa.table("alembic_version", sa.column("version_num", sa.String))
        recorded = (connection.execute(sa.select(table.c.version_num)).scalars().all()
                    if sa.inspect(connection).has_table("alembic_version") else [])
        skipped = [rev for rev in recorded if rev not in known]
        for rev in skipped:
            log.warning("migrate: revision %s is recorded in the database but no installed package provides it "
                        "(a plugin no longer installed?); its branch is skipped and its tables are left as they are", rev)
        if skipped:
            connection.execute(table.delete().where(table.c.version_num.in_(skipped)))
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
        if skipped:
            connection.execute(table.insert(), [{"version_num": rev} for rev in skipped])
    return skipped


def revision(app: Flask, message: str, autogenerate: bool = True, branch: str | None = None,
             version_path: Path | None = None) -> None:
    """Write a new migration. For a plugin: ``branch`` is its branch label (its first
    migration also needs ``version_path``, its ``migrations/versions`` folder)."""
    kwargs = {}
    if branch:
        kwargs["head"] = f"{branch}@head" if version_path is None else "base"
        if version_path is not None:
            kwargs.update(branch_label=branch, version_path=str(version_path), depends_on="core")
    command.revision(alembic_config(app), message=message, autogenerate=autogenerate, **kwargs)
