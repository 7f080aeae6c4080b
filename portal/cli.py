"""Command-line tasks: ``flask --app portal migrate | seed-demo | expire-bookings``."""
from __future__ import annotations

import click
from flask import Flask


def init_app(app: Flask) -> None:
    from portal import whatif_cli
    whatif_cli.init_app(app)

    @app.cli.command("migrate")
    def migrate_command():
        """Bring the database schema up to date (Alembic, core and plugin branches)."""
        from portal import migrate
        from portal import db
        from portal.orgs import ensure_all_organizations
        migrate.upgrade(app)
        with db.transaction() as session:
            seeded = ensure_all_organizations(session)
        click.echo(f"database is up to date ({seeded} provider default set(s) seeded)")

    @app.cli.command("make-migration")
    @click.option("-m", "--message", required=True)
    @click.option("--plugin", "plugin_id", default=None, help="A plugin's branch label (its package name).")
    @click.option("--first", is_flag=True, help="The plugin's first migration (creates its branch).")
    def make_migration_command(message, plugin_id, first):
        """Autogenerate a migration for the core or for one plugin's own branch."""
        from portal import migrate
        version_path = None
        if plugin_id and first:
            folders = [f for f in app.extensions["exam_portal.providers"].plugin_folders() if f.name == plugin_id]
            if not folders:
                raise click.ClickException(f"no loaded plugin package named {plugin_id}")
            version_path = folders[0] / "migrations" / "versions"
            version_path.mkdir(parents=True, exist_ok=True)
        migrate.revision(app, message, branch=plugin_id, version_path=version_path)

    @app.cli.command("translations")
    def translations_command():
        """Extract, update and compile the core's and every plugin's English catalog."""
        from pathlib import Path
        from portal import translations_tool
        root = Path(app.root_path).parent
        packages = [Path(app.root_path), *app.extensions["exam_portal.providers"].plugin_folders()]
        for package in packages:
            if package.name == "default_plugins":
                continue
            missing = translations_tool.update(package, root)
            click.echo(f"{package.relative_to(root)}: {len(missing)} untranslated")

    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Load the demo organisation, an operator (login printed), sessions and bookings."""
        from portal.demo import seed_demo
        email, password = seed_demo()
        click.echo(f"demo login: {email} / {password}")

    @app.cli.command("housekeeping")
    def housekeeping_command():
        """Periodic work of the core and every plugin (hook portal_housekeeping); run from cron."""
        from portal import db
        from portal.rules.parse import now_jst
        now = now_jst()
        failed = []
        for impl in app.extensions["exam_portal.pm"].hook.portal_housekeeping.get_hookimpls():
            try:
                with db.transaction():  # each plugin's work commits or rolls back on its own
                    lines = impl.function(now=now) or []
            except Exception as exc:  # report, go on with the others, fail at the end
                app.logger.exception("housekeeping of %s failed", impl.plugin_name)
                click.echo(f"{impl.plugin_name}: FAILED: {exc!r}", err=True)
                failed.append(impl.plugin_name)
                continue
            for line in lines:
                click.echo(f"{impl.plugin_name}: {line}")
        if failed:
            raise click.ClickException(f"housekeeping failed for: {', '.join(failed)}")

    @app.cli.command("expire-bookings")
    def expire_bookings_command():
        """Cancel bookings whose provider says they lapsed (e.g. unpaid past due)."""
        from portal import db
        from portal.bookings import expire_lapsed
        with db.transaction() as session:
            count = expire_lapsed(session)
        click.echo(f"expired {count} booking(s)")
