"""Alembic, configured from the app: core migrations plus any plugin's ``migrations/``
folder (a plugin's tables stay in its own migration branch, apart from the core's)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
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


def upgrade(app: Flask, revision: str = "heads") -> None:
    command.upgrade(alembic_config(app), revision)


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
