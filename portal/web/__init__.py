"""The HTMX user interface: blueprints for the brand switcher, calculator and bookings."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from portal import notify
    from portal.web import admin, booking_bulk, bookings, candidates, dashboard, feeds, main, org_admin, refund_account, reminders
    for module in (main, dashboard, candidates, bookings, booking_bulk, admin, org_admin, feeds, reminders, refund_account):
        app.register_blueprint(module.bp)
    main.register_template_helpers(app)
    notify.init_app(app)
    app.add_template_global(notify.pending, "success_messages")
    app.before_request(main.hide_disabled_providers)
