"""Alembic, configured from the app: core migrations plus any plugin's ``migrations/``
folder (a plugin's tables stay in its own migration branch, apart from the core's)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from flask import Flask

CORE_VERSIONS = Path(__file__).parent / "migrations" / "versions"


def plugin_version_locations(app: Flask) -> list[Path]:
    locations = []
    for folder in app.extensions["exam_portal.providers"].template_folders():
        versions = folder.parent / "migrations" / "versions"
        if versions.is_dir():
            locations.append(versions)
    return locations


def alembic_config(app: Flask) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    locations = [CORE_VERSIONS, *plugin_version_locations(app)]
    cfg.set_main_option("version_locations", " ".join(str(p) for p in locations))
    cfg.set_main_option("path_separator", "space")
    cfg.attributes["engine"] = app.extensions["exam_portal.engine"]
    return cfg


def upgrade(app: Flask, revision: str = "heads") -> None:
    command.upgrade(alembic_config(app), revision)


def revision(app: Flask, message: str, autogenerate: bool = True) -> None:
    command.revision(alembic_config(app), message=message, autogenerate=autogenerate)
