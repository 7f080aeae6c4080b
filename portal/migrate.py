"""Alembic, configured from the app: core migrations plus any plugin's ``migrations/``
folder (a plugin's tables stay in its own migration branch, apart from the core's)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask

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
    """Upgrade every branch; returns the revisions applied ("<rev> <message>"), oldest first."""
    cfg = alembic_config(app)
    before = applied_revisions(cfg)
    command.upgrade(cfg, revision)
    after = applied_revisions(cfg)
    script = ScriptDirectory.from_config(cfg)
    new = [rev for rev in script.walk_revisions() if rev.revision in after - before]
    return [f"{rev.revision} {rev.doc}" for rev in reversed(new)]


def applied_revisions(cfg: Config) -> set[str]:
    """Every revision the database is at or past (the current heads and their ancestors)."""
    script = ScriptDirectory.from_config(cfg)
    with cfg.attributes["engine"].connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return {rev.revision for rev in script.iterate_revisions(heads, "base")} if heads else set()


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
