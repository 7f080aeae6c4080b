"""Contract-level behaviour of the rules API that does not depend on a provider."""
import pytest


def test_unknown_provider_is_404_with_error_body(client):
    r = client.post("/api/v1/providers/nope/deadlines", json={"exam_start": "2026-12-12T10:00:00+09:00"})
    assert r.status_code == 404
    assert r.get_json()["error"]["code"] == "unknown_provider"


@pytest.mark.parametrize("data, content_type", [
    ("not json", "application/json"), ("[1, 2]", "application/json"), ("", "application/json"),
    ("exam_start=2026", "application/x-www-form-urlencoded"), ("\xff\xfe", "application/json"),
])
def test_malformed_bodies_are_400_never_500(client, data, content_type):
    provider = client.get("/api/v1/providers").get_json()["providers"][0]["id"]
    for path in ("deadlines", "policy", "quote", "retake"):
        r = client.post(f"/api/v1/providers/{provider}/{path}", data=data, content_type=content_type)
        assert r.status_code == 400, (path, r.get_data(as_text=True))
        assert r.get_json()["error"]["code"] == "invalid_json"


def test_error_messages_follow_the_language(client):
    provider = client.get("/api/v1/providers").get_json()["providers"][0]["id"]
    ja = client.post(f"/api/v1/providers/{provider}/deadlines", json={}).get_json()["error"]["message"]
    en = client.post(f"/api/v1/providers/{provider}/deadlines", json={}, headers={"Accept-Language": "en"}).get_json()["error"]["message"]
    assert "必要" in ja and "required" in en


def test_api_needs_no_csrf_and_reads_no_session(client):
    provider = client.get("/api/v1/providers").get_json()["providers"][0]["id"]
    r = client.post(f"/api/v1/providers/{provider}/deadlines", json={"exam_start": "2026-12-14T10:00:00+09:00"})
    assert r.status_code == 200
    assert "Set-Cookie" not in r.headers and "Cookie" not in r.headers.get("Vary", "")


def test_unknown_api_route_and_method_answer_json(client):
    r = client.get("/api/v1/providers/x/deadlines")
    assert r.status_code in (404, 405) and "error" in r.get_json()


def test_the_answer_language_is_the_query_then_accept_language_then_japanese(client):
    provider = client.get("/api/v1/providers").get_json()["providers"][0]["id"]
    body = {"exam_start": "2026-12-14T10:00:00+09:00"}
    url = f"/api/v1/providers/{provider}/deadlines"

    def explanation(query: str = "", **headers) -> str:
        answer = client.post(url + query, json=body, headers=headers).get_json()
        return " ".join(d["explanation"] for d in answer["deadlines"])

    japanese, english = explanation(), explanation(**{"Accept-Language": "en-US,en;q=0.9"})
    assert japanese != english and japanese.isascii() is False and english.isascii()
    assert explanation("?lang=ja", **{"Accept-Language": "en"}) == japanese
    assert explanation("?lang=en") == english
    assert explanation("?lang=fr", **{"Accept-Language": "fr, en;q=0.5"}) == english
    assert explanation("?lang=fr", **{"Accept-Language": "fr"}) == japanese
