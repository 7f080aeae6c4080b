"""Command-line tasks: ``flask --app portal migrate | seed-demo | expire-bookings``."""
from __future__ import annotations

import click
from flask import Flask


def init_app(app: Flask) -> None:
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

    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Load the demo organisation, an operator (login printed), sessions and bookings."""
        from portal.demo import seed_demo
        email, password = seed_demo()
        click.echo(f"demo login: {email} / {password}")

    @app.cli.command("expire-bookings")
    def expire_bookings_command():
        """Cancel bookings whose provider says they lapsed (e.g. unpaid past due)."""
        from portal import db
        from portal.bookings import expire_lapsed
        with db.transaction() as session:
            count = expire_lapsed(session)
        click.echo(f"expired {count} booking(s)")
