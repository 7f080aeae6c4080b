"""Command-line tasks: ``flask --app portal migrate | seed-demo | expire-bookings``."""
from __future__ import annotations

from pathlib import Path

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
        from sqlmodel import select
        from portal.models import Organization
        report = migrate.upgrade(app)
        for revision in report.skipped:
            click.echo(f"warning: revision {revision} belongs to no installed package (a plugin no longer "
                       f"installed?): its branch is skipped, its tables are kept", err=True)
        if report.applied:
            click.echo(f"applied {len(report.applied)} migration(s):")
            for line in report.applied:
                click.echo(f"  {line}")
        else:
            click.echo("schema already up to date: no migration applied")
        with db.transaction() as session:
            organisations = len(session.exec(select(Organization.id)).all())
            seeded = ensure_all_organizations(session)
        if not organisations:
            click.echo("no organisation yet: provider defaults are seeded into each new one (e.g. seed-demo)")
        else:
            click.echo(f"{organisations} organisation(s); provider defaults seeded now: {seeded}")
        click.echo("database is up to date")

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

    @app.cli.command("new-provider")
    @click.argument("provider_id")
    @click.option("--path", "path", required=True, type=click.Path(file_okay=False), help="Folder to write the package into.")
    @click.option("--name-ja", default=None, help="The provider's name in Japanese.")
    @click.option("--name-en", default=None, help="The provider's name in English.")
    def new_provider_command(provider_id, path, name_ja, name_en):
        """Write an installable provider package to start from (passes the conformance kit)."""
        from portal.scaffold import ScaffoldError, new_provider
        if provider_id in app.extensions["exam_portal.providers"]:
            raise click.ClickException(f"provider {provider_id!r} is already installed")
        try:
            written = new_provider(provider_id, Path(path), name_ja, name_en)
        except ScaffoldError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"wrote {len(written)} files to {path}: pip install -e {path}, then pytest {path}")

    @app.cli.command("check-provider")
    @click.argument("provider_id")
    @click.option("-x", "--exitfirst", is_flag=True, help="Stop at the first failure.")
    def check_provider_command(provider_id, exitfirst):
        """Run the conformance kit against one installed provider; non-zero exit on failure."""
        import pytest
        from portal.testing import check
        if provider_id not in app.extensions["exam_portal.providers"]:
            raise click.ClickException(f"no installed provider {provider_id!r}")
        args = [check.__file__, "--exam-portal-provider", provider_id, "-q", "-p", "no:cacheprovider",
                "-o", "addopts=", "--rootdir", str(Path(check.__file__).parent)]
        check.TestProviderConformance.app = app  # the running app, with its plugin selection
        try:
            code = pytest.main(args + (["-x"] if exitfirst else []))
        finally:
            check.TestProviderConformance.app = None
        if code != 0:
            raise click.ClickException(f"provider {provider_id} does not conform (pytest exit code {int(code)})")
        click.echo(f"provider {provider_id} conforms")

    @app.cli.command("seed-demo")
    @click.option("--new-password", is_flag=True, help="Give the demo operator a new password.")
    def seed_demo_command(new_password):
        """Load the demo organisation, an operator (login printed), sessions and bookings.
        The login stays the same on later runs (``make reset-demo`` starts afresh)."""
        from portal.demo import seed_demo
        email, password = seed_demo(new_password)
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
        from portal import reminders
        try:  # after the plugins' work, so that the digests list today's state
            for line in reminders.run(app, now):
                click.echo(f"reminders: {line}")
        except Exception as exc:
            app.logger.exception("reminders failed")
            click.echo(f"reminders: FAILED: {exc!r}", err=True)
            failed.append("reminders")
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
