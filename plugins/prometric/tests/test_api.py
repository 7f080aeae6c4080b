"""The rules API (shared/api-contract.md) as served for Prometric."""
import pytest

URL = "/api/v1/providers/prometric"


def test_providers_lists_prometric_with_its_catalog(client):
    body = client.get("/api/v1/providers").get_json()
    prometric = next(p for p in body["providers"] if p["id"] == "prometric")
    assert {"code", "name"} <= set(prometric["exams"][0])
    assert prometric["name"]


def test_deadlines_rulebook_example(client):
    r = client.post(f"{URL}/deadlines", json={"exam": "RUBY-SILVER", "exam_start": "2026-12-12T10:00:00+09:00"})
    assert r.status_code == 200
    body = r.get_json()
    assert [d["kind"] for d in body["deadlines"]] == ["change", "cancel"]
    for d in body["deadlines"]:
        assert d["at"] == "2026-12-08T23:59:00+09:00"
        assert d["rule"] == "PRM-DL-1"
        assert "2026-12-08" in d["explanation"]


def test_deadlines_accept_any_offset_and_answer_in_japan_time(client):
    # 2026-12-12 01:00 UTC is 10:00 JST on Saturday the 12th.
    r = client.post(f"{URL}/deadlines", json={"exam_start": "2026-12-12T01:00:00Z"})
    assert r.get_json()["deadlines"][0]["at"] == "2026-12-08T23:59:00+09:00"
    # 2026-12-11 16:00 UTC is already Saturday in Japan.
    r = client.post(f"{URL}/deadlines", json={"exam_start": "2026-12-11T16:00:00+00:00"})
    assert r.get_json()["deadlines"][0]["at"] == "2026-12-08T23:59:00+09:00"


def test_english_explanation_on_request(client):
    r = client.post(f"{URL}/deadlines", json={"exam_start": "2027-01-05T10:00:00+09:00"},
                    headers={"Accept-Language": "en"})
    text = r.get_json()["deadlines"][0]["explanation"]
    assert "business days" in text and "year-end" in text
    r = client.post(f"{URL}/deadlines?lang=en", json={"exam_start": "2027-01-05T10:00:00+09:00"})
    assert "business days" in r.get_json()["deadlines"][0]["explanation"]


def test_policy_answer_shape_and_refund(client):
    r = client.post(f"{URL}/policy", json={
        "exam": "RUBY-SILVER", "exam_start": "2026-12-12T10:00:00+09:00", "at": "2026-11-23T10:00:00+09:00",
        "first_booked_at": "2026-11-01T09:00:00+09:00",
        "payment": {"method": "convenience_store", "paid": True, "amount": 16500}})
    assert r.status_code == 200
    body = r.get_json()
    assert set(body["change"]) >= {"allowed", "until", "requires", "last_selectable_date", "rule", "explanation"}
    assert set(body["cancel"]) >= {"allowed", "until", "refund", "voucher_reusable_at", "rule", "explanation"}
    assert body["change"]["allowed"] is True and body["change"]["until"] == "2026-12-08T23:59:00+09:00"
    assert body["cancel"]["refund"] == 16500 - 314


def test_policy_voucher_lock(client):
    body = client.post(f"{URL}/policy", json={
        "exam": "RUBY-SILVER", "exam_start": "2026-12-12T10:00:00+09:00", "at": "2026-11-23T10:00:00+09:00",
        "first_booked_at": "2026-11-01T09:00:00+09:00", "payment": {"method": "voucher", "paid": True}}).get_json()
    assert body["cancel"]["voucher_reusable_at"] == "2026-11-24T10:00:00+09:00"


def test_policy_reauthorisation(client):
    body = client.post(f"{URL}/policy", json={
        "exam": "RUBY-SILVER", "exam_start": "2026-12-12T10:00:00+09:00", "at": "2026-11-23T10:00:00+09:00",
        "first_booked_at": "2026-10-01T09:00:00+09:00", "payment": {"method": "credit_card", "paid": True}}).get_json()
    assert body["change"]["requires"] == ["card_reauthorization"]


def test_quote_uses_catalog_prices(client):
    body = client.post(f"{URL}/quote", json={"items": [{"exam": "RUBY-SILVER", "count": 2}]}).get_json()
    assert body["lines"][0] == {"label": body["lines"][0]["label"], "unit_price": 16500, "count": 2, "amount": 33000}
    assert body["total"] == 33000 and body["rule"]


def test_retake_has_no_wait(client):
    body = client.post(f"{URL}/retake", json={"exam": "RUBY-SILVER", "attempts": [
        {"start": "2026-11-01T10:00:00+09:00", "end": "2026-11-01T11:30:00+09:00", "outcome": "failed"}]}).get_json()
    assert body["allowed"] is True and body["earliest"] is None and body["rule"]


@pytest.mark.parametrize("path, payload, status, code, field", [
    ("deadlines", {}, 400, "missing_field", "exam_start"),
    ("deadlines", {"exam_start": "next tuesday"}, 400, "invalid_field", "exam_start"),
    ("deadlines", {"exam_start": 20261212}, 400, "invalid_field", "exam_start"),
    ("deadlines", {"exam": "NOPE", "exam_start": "2026-12-12T10:00:00+09:00"}, 404, "unknown_exam", "exam"),
    ("policy", {"exam_start": "2026-12-12T10:00:00+09:00"}, 400, "missing_field", "payment"),
    ("policy", {"exam_start": "2026-12-12T10:00:00+09:00", "payment": {"method": "cash"}}, 400, "invalid_field", "payment.method"),
    ("policy", {"exam_start": "2026-12-12T10:00:00+09:00", "payment": {"method": "credit_card", "paid": "yes"}}, 400, "invalid_field", "payment.paid"),
    ("policy", {"payment": {"method": "credit_card"}}, 400, "missing_field", "exam_start"),
    ("quote", {"items": []}, 400, "invalid_field", "items"),
    ("quote", {"items": [{"exam": "RUBY-SILVER", "count": 0}]}, 400, "invalid_field", "items[0].count"),
    ("quote", {"items": [{"exam": "RUBY-SILVER", "count": "2"}]}, 400, "invalid_field", "items[0].count"),
    ("quote", {"items": [{"exam": "X", "count": 1}]}, 404, "unknown_exam", "items[0].exam"),
    ("retake", {"exam": "RUBY-SILVER", "attempts": [{"start": "x", "outcome": "failed"}]}, 400, "invalid_field", "attempts[0].start"),
    ("retake", {"exam": "RUBY-SILVER", "attempts": [{"start": "2026-11-01T10:00:00+09:00", "outcome": "won"}]}, 400, "invalid_field", "attempts[0].outcome"),
    ("retake", {"attempts": []}, 400, "missing_field", "exam"),
])
def test_bad_input_gets_the_contract_error_body(client, path, payload, status, code, field):
    r = client.post(f"{URL}/{path}", json=payload)
    assert r.status_code == status, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == code and error["field"] == field and error["message"]
