"""Login defence: failed sign-ins are limited per account and per client address (also across
two app instances sharing Redis, as gunicorn workers do), and the answer costs one password
hash whether the account exists or not."""
import os
import re
import uuid

import pytest

STORAGES = ["memory"] + (["redis"] if os.environ.get("TEST_REDIS_URL") else [])


@pytest.fixture(params=STORAGES)
def limited_apps(request, make_app):
    """Two app instances on one rate-limit storage: in memory they are one instance (its
    storage is per process), on Redis two that share the limit."""
    config = {"LOGIN_LIMIT_PER_ACCOUNT": "5 per 15 minutes", "LOGIN_LIMIT_PER_ADDRESS": "8 per 15 minutes",
              "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    if request.param == "redis":
        config["RATELIMIT_STORAGE_URI"] = os.environ["TEST_REDIS_URL"]
        first = make_app(**config)
        second = make_app(**config)
    else:
        first = second = make_app(**config)
    yield first, second
    if request.param == "redis":
        import redis
        connection = redis.Redis.from_url(os.environ["TEST_REDIS_URL"])
        for key in connection.scan_iter(f"*{config['RATELIMIT_KEY_PREFIX']}*"):
            connection.delete(key)


def _attempt(client, email, password, address="192.0.2.10"):
    page = client.get("/login", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def _user(app, email, password="pw-123456"):
    from portal import db
    from portal.auth import hash_password
    from portal.models import User
    from portal.orgs import create_organization
    with app.app_context():
        with db.transaction() as s:
            org = create_organization(s, f"org {email}")
            s.add(User(organization_id=org.id, email=email, name="担当", role="admin", password_hash=hash_password(password)))
    return email, password


def test_wrong_passwords_lock_the_account_even_for_the_right_one(limited_apps):
    first, second = limited_apps
    email, password = _user(first, "locked@example.jp")
    for i in range(5):
        # alternate instances and addresses: the account's count is shared by both
        app = first if i % 2 else second
        assert _attempt(app.test_client(), email, "wrong", address=f"192.0.2.{i}").status_code == 401
    response = _attempt(second.test_client(), email, password, address="192.0.2.99")
    assert response.status_code == 429
    assert "しばらくログインできません" in response.get_data(as_text=True)


def test_a_correct_login_before_the_limit_clears_the_account_count(limited_apps):
    first, _ = limited_apps
    email, password = _user(first, "ok@example.jp")
    for _ in range(4):
        assert _attempt(first.test_client(), email, "wrong").status_code == 401
    assert _attempt(first.test_client(), email, password).status_code == 302
    for _ in range(4):
        assert _attempt(first.test_client(), email, "wrong", address="192.0.2.50").status_code == 401
    assert _attempt(first.test_client(), email, password, address="192.0.2.50").status_code == 302


def test_one_address_trying_many_accounts_is_limited(limited_apps):
    first, second = limited_apps
    email, password = _user(first, "victim@example.jp")
    for i in range(8):
        app = first if i % 2 else second
        assert _attempt(app.test_client(), f"guess{i}@example.jp", "wrong", address="198.51.100.7").status_code == 401
    assert _attempt(second.test_client(), email, password, address="198.51.100.7").status_code == 429
    # another address is not affected
    assert _attempt(first.test_client(), email, password, address="198.51.100.8").status_code == 302


def test_an_unknown_account_costs_the_same_password_hash(app, client, org_factory, monkeypatch):
    """No timing oracle: a password hash is checked whether the account exists or not."""
    from portal import login_limits
    _, _, email, _ = org_factory()
    checked = []
    real = login_limits.check_password_hash
    monkeypatch.setattr(login_limits, "check_password_hash", lambda h, p: checked.append(h.split("$")[0]) or real(h, p))
    assert _attempt(client, email, "wrong").status_code == 401
    assert _attempt(client, "nobody@example.jp", "wrong").status_code == 401
    assert len(checked) == 2 and checked[0] == checked[1]  # the same hashing method both times
