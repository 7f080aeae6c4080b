"""Sign-in with an unknown e-mail against a wrong password for a known account: a ratio near
1× means the answer's time does not tell whether an account exists (issue 11).
Run: ``python bench/login_bench.py``."""
from __future__ import annotations

import re

from _common import backends, fresh_database, interleaved, make_app, row


def main() -> None:
    from portal import db
    from portal.auth import hash_password
    from portal.models import User
    from portal.orgs import create_organization
    for backend in backends():
        app = make_app(fresh_database(backend, "login"))
        app.config.update(LOGIN_LIMIT_PER_ACCOUNT="1000000 per second", LOGIN_LIMIT_PER_ADDRESS="1000000 per second")
        with app.app_context():
            with db.transaction() as s:
                org = create_organization(s, "bench")
                s.add(User(organization_id=org.id, email="known@example.jp", name="b", role="admin",
                           password_hash=hash_password("right password")))
        client = app.test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)

        def attempt(email):
            return lambda: client.post("/login", data={"email": email, "password": "wrong", "csrf_token": token})
        m = interleaved(attempt("known@example.jp"), attempt("nobody@example.jp"), calls=3, rounds=5)
        row(backend, "POST /login, unknown account", "-", "known account", m, f"{m.ratio:.2f}×", "≈ 1×",
            0.8 < m.ratio < 1.25)


if __name__ == "__main__":
    main()
