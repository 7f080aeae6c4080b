"""The HTMX user interface: blueprints for the brand switcher, calculator and bookings."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from portal.web import admin, bookings, main
    app.register_blueprint(main.bp)
    app.register_blueprint(bookings.bp)
    app.register_blueprint(admin.bp)
    main.register_template_helpers(app)
