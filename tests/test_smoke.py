"""The app starts, migrates and serves both the public API and the signed-in UI."""
from conftest import login


def test_public_api_lists_installed_providers(client):
    body = client.get("/api/v1/providers").get_json()
    ids = [p["id"] for p in body["providers"]]
    assert "prometric" in ids
    assert all(p["exams"] for p in body["providers"])


def test_login_then_provider_page(client, org_factory):
    _, _, email, password = org_factory()
    login(client, email, password)
    page = client.get("/providers/prometric")
    assert page.status_code == 200
    assert "PRM" in page.get_data(as_text=True) or "プロメトリック" in page.get_data(as_text=True)
