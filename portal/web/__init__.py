"""The HTMX user interface: blueprints for the brand switcher, calculator and bookings."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from portal.web import admin, bookings, candidates, conflicts, dashboard, feeds, main, org_admin
    for module in (main, dashboard, candidates, bookings, admin, org_admin, feeds):
        app.register_blueprint(module.bp)
    main.register_template_helpers(app)
    app.before_request(main.hide_disabled_providers)
    conflicts.init_app(app)
