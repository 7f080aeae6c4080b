"""The app starts, migrates and serves both the public API and the signed-in UI."""
from conftest import login


def test_public_api_lists_installed_providers(client):
    body = client.get("/api/v1/providers").get_json()
    ids = [p["id"] for p in body["providers"]]
    assert "sample" in ids
    assert all(p["exams"] for p in body["providers"])


def test_login_then_provider_page(client, org_factory):
    _, _, email, password = org_factory()
    login(client, email, password)
    page = client.get("/providers/sample")
    assert page.status_code == 200
    assert "サンプル検定" in page.get_data(as_text=True)


def test_seed_demo_prints_a_working_login_and_asks_every_plugin_for_demo_data(make_app):
    from portal.plugins import hookimpl

    calls = []

    class DemoAware:
        @hookimpl
        def provider_demo_data(self, ctx, organization_id, user_id):
            calls.append(ctx.provider.id)

    app = make_app(plugins=[DemoAware()])
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    email, password = result.output.strip().rsplit(": ", 1)[1].split(" / ")
    client = app.test_client()
    login(client, email, password)
    assert client.get("/dashboard").status_code == 200
    assert sorted(calls) == sorted(app.extensions["exam_portal.providers"].ids())
    with app.app_context():  # the demo operator is reminded of deadlines by e-mail
        from sqlmodel import select
        from portal import db
        from portal.models import ReminderPreference, User
        operator = db.session().exec(select(User).where(User.email == email)).one()
        preference = db.session().exec(select(ReminderPreference).where(ReminderPreference.user_id == operator.id)).one()
        assert preference.enabled and preference.days_ahead == 3
    # Seeding again keeps the data and the login (make run prints the same one each time)…
    again = app.test_cli_runner().invoke(args=["seed-demo"])
    assert again.output == result.output and len(calls) == len(app.extensions["exam_portal.providers"].ids())
    login(app.test_client(), email, password)
    # … until a new password is asked for (make reset-demo starts afresh).
    fresh = app.test_cli_runner().invoke(args=["seed-demo", "--new-password"])
    new_password = fresh.output.strip().rsplit(": ", 1)[1].split(" / ")[1]
    assert new_password != password
    login(app.test_client(), email, new_password)
