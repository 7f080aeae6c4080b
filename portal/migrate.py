"""Alembic, configured from the app: core migrations plus any plugin's ``migrations/``
folder (a plugin's tables stay in its own migration branch, apart from the core's)."""
from __future__ import annotations

from dataclasses import dataclass
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


def upgrade(app: Flask, revision: str = "heads") -> "UpgradeReport":
    """Upgrade every installed branch and report what was applied (``"<rev> <message>"``,
    oldest first) and what was skipped.

    A revision recorded in the database that no installed package provides (a plugin
    uninstalled after migrating) is skipped with a warning: its row is set aside during
    the upgrade and put back, so its tables stay and its branch continues if the plugin
    comes back."""
    cfg = alembic_config(app)
    script = ScriptDirectory.from_config(cfg)
    known = {rev.revision for rev in script.walk_revisions()}
    engine = cfg.attributes["engine"]
    with engine.begin() as connection:
        table = sa.table("alembic_version", sa.column("version_num", sa.String))
        recorded = (connection.execute(sa.select(table.c.version_num)).scalars().all()
                    if sa.inspect(connection).has_table("alembic_version") else [])
        skipped = [rev for rev in recorded if rev not in known]
        for rev in skipped:
            log.warning("migrate: revision %s is recorded in the database but no installed package provides it "
                        "(a plugin no longer installed?); its branch is skipped and its tables are left as they are", rev)
        implied = _implied_core_head(script, [rev for rev in recorded if rev in known]) if skipped else None
        if skipped:
            connection.execute(table.delete().where(table.c.version_num.in_(skipped)))
            if implied is not None:  # the skipped head depended on the core: keep the core's position
                log.warning("migrate: the core's position was recorded only through %s; taking the core as at %s",
                            ", ".join(skipped), implied)
                connection.execute(table.insert(), [{"version_num": implied}])
        before = _covered(script, [rev for rev in recorded if rev in known] + ([implied] if implied else []))
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
        after = _covered(script, connection.execute(sa.select(table.c.version_num)).scalars().all())
        if skipped:
            if implied is not None:
                connection.execute(table.delete().where(table.c.version_num == implied))
            connection.execute(table.insert(), [{"version_num": rev} for rev in skipped])
    new = [rev for rev in script.walk_revisions() if rev.revision in after - before]
    return UpgradeReport([f"{rev.revision} {rev.doc}" for rev in reversed(new)], skipped)


@dataclass(frozen=True)
class UpgradeReport:
    applied: list[str]
    skipped: list[str]


def _covered(script: ScriptDirectory, heads: list[str]) -> set[str]:
    """Every revision at or below ``heads`` (Alembic records heads only)."""
    return {r.revision for head in heads for r in script.iterate_revisions(head, "base")}


def _implied_core_head(script: ScriptDirectory, recorded_known: list[str]) -> str | None:
    """The core's head when no recorded revision covers it: a plugin head that depended on
    the core recorded the core's position implicitly (Alembic keeps heads only). That
    database was fully migrated then, so the core is taken as at its head (logged);
    ``None`` when a recorded revision already covers the core's head."""
    core_ids = {rev.revision for rev in script.walk_revisions() if CORE_VERSIONS in Path(rev.path).parents}
    heads = [h for h in script.get_heads() if h in core_ids]
    if not heads:
        return None
    return None if heads[0] in _covered(script, recorded_known) else heads[0]


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
