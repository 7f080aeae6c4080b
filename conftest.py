"""The repository's tests use the fixtures of the pytest plugin ``portal.testing.plugin``
(registered under ``pytest11``, so an outside plugin package gets the same ones). The
helpers are re-exported here for the existing ``from conftest import login`` imports."""
from portal.testing import count_statements, csrf_token, csv_rows, login, seed_demo_and_login, xlsx_rows  # noqa: F401
