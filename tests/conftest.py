"""The core's tests run with the core's own sample provider (tests/sample_provider) and
none of the bundled plugins, so removing any plugin package leaves them green. A test
that wants the installed plugins asks for them: ``make_app(EXAM_PORTAL_PLUGINS=None)``."""
from __future__ import annotations

import pytest

import tests.sample_provider as sample
from portal.testing import (  # noqa: F401  (for `from conftest import login`, whichever conftest that names)
    concurrently, count_statements, csrf_token, csv_rows, login, seed_demo_and_login, xlsx_rows,
)

#: An entry-point name no plugin has: loads none of the installed ones.
NO_INSTALLED_PLUGINS = "-"


@pytest.fixture
def make_app(make_app):
    def factory(plugins=None, **config):
        config.setdefault("EXAM_PORTAL_PLUGINS", NO_INSTALLED_PLUGINS)
        extra = [sample, *(p for p in (plugins or []) if p is not sample)]
        return make_app(plugins=extra, **config)
    return factory
