"""The rules API for cbt_ipa, answering exactly as shared/api-contract.md says."""
import pytest

API = "/api/v1/providers/cbt_ipa"


def test_listed_with_its_catalog(client):
    body = client.get("/api/v1/providers").get_json()
    ipa = next(p for p in body["providers"] if p["id"] == "cbt_ipa")
    assert {e["code"] for e in ipa["exams"]} == {"FE", "SG"}


def test_change_deadline(client):
    r = client.post(f"{API}/deadlines", json={"exam": "FE", "exam_start": "2026-04-10T10:00:00+09:00"})
    assert r.status_code == 200
    [d] = r.get_json()["deadlines"]
    assert d["kind"] == "change" and d["at"] == "2026-04-07T23:59:59+09:00" and d["rule"] == "IPA-CH-1"
    assert "2026-04-07" in d["explanation"]


def test_deadline_in_english_and_other_offset(client):
    r = client.post(f"{API}/deadlines?lang=en", json={"exam_start": "2027-01-01T16:00:00Z"})  # 01-02 01:00 JST
    [d] = r.get_json()["deadlines"]
    assert d["at"] == "2026-12-30T23:59:59+09:00"
    assert "calendar days" in d["explanation"]


def test_retake_rulebook_example(client):
    r = client.post(f"{API}/retake", json={"exam": "FE", "at": "2026-04-02T09:00:00+09:00", "attempts": [
        {"start": "2026-04-01T10:00:00+09:00", "end": "2026-04-01T13:20:00+09:00", "outcome": "failed"}]})
    assert r.status_code == 200
    # Not now (at 04-02): the first exam may start on 05-02 (the contract's "no retake now").
    assert r.get_json() | {"explanation": None} == {"allowed": False, "earliest": "2026-05-02T00:00:00+09:00",
                                                      "rule": "IPA-RT-1,IPA-RT-2", "explanation": None}
    later = client.post(f"{API}/retake", json={"exam": "FE", "at": "2026-05-02T00:00:00+09:00", "attempts": [
        {"start": "2026-04-01T10:00:00+09:00", "end": "2026-04-01T13:20:00+09:00", "outcome": "failed"}]}).get_json()
    assert later["allowed"] is True and later["earliest"] == "2026-05-02T00:00:00+09:00"


def test_retake_after_absence(client):
    body = client.post(f"{API}/retake", json={"exam": "SG", "attempts": [
        {"start": "2026-04-01T10:00:00+09:00", "end": "2026-04-01T12:00:00+09:00", "outcome": "absent"}]}).get_json()
    assert body["earliest"] == "2026-04-01T12:00:00+09:00" and body["rule"] == "IPA-RT-1"


def test_quote(client):
    body = client.post(f"{API}/quote", json={"items": [{"exam": "FE", "count": 2}, {"exam": "SG", "count": 1}]}).get_json()
    assert body["total"] == 22500
    assert [(l["unit_price"], l["count"], l["amount"]) for l in body["lines"]] == [(7500, 2, 15000), (7500, 1, 7500)]
    assert body["rule"] == "IPA-CATALOG"


def test_policy_answer_shape(client):
    r = client.post(f"{API}/policy", json={
        "exam": "FE", "exam_start": "2026-04-20T10:00:00+09:00", "at": "2026-04-01T09:00:00+09:00",
        "first_booked_at": "2026-03-30T12:00:00+09:00", "payment": {"method": "credit_card", "paid": True, "amount": 7500},
        "target_exam_start": "2026-06-01T10:00:00+09:00"})
    assert r.status_code == 200
    body = r.get_json()
    assert body["change"] | {"explanation": ""} == {
        "allowed": True, "until": "2026-04-17T23:59:59+09:00", "requires": [], "last_selectable_date": "2027-03-30",
        "rule": "IPA-CH-1,IPA-CH-2,IPA-CH-4", "explanation": ""}
    assert body["cancel"] | {"explanation": ""} == {
        "allowed": False, "until": None, "refund": None, "voucher_reusable_at": None, "rule": "IPA-CA", "explanation": ""}
    assert "lapse" not in body


def test_policy_lapse_for_unpaid_convenience_store(client):
    body = client.post(f"{API}/policy", json={
        "exam": "SG", "exam_start": "2026-04-20T10:00:00+09:00", "at": "2026-04-05T09:00:00+09:00",
        "booked_at": "2026-04-01T12:00:00+09:00",
        "payment": {"method": "convenience_store", "paid": False, "due": "2026-04-04T23:59:00+09:00"}}).get_json()
    assert body["lapse"]["lapsed"] is True and body["lapse"]["rule"] == "IPA-PAY"
    assert body["change"]["allowed"] is False


@pytest.mark.parametrize("body, status, field", [
    ({"exam": "FE", "at": "2026-04-01T09:00:00+09:00", "first_booked_at": "2026-03-30T12:00:00+09:00",
      "payment": {"method": "credit_card", "paid": True}}, 400, "exam_start"),
    ({"exam": "FE", "exam_start": "2026-04-20T10:00:00+09:00", "payment": {"method": "voucher", "paid": True}},
     400, "voucher_issued_on"),
    ({"exam": "SG", "exam_start": "2026-04-20T10:00:00+09:00", "first_booked_at": "2026-03-30T12:00:00+09:00",
      "payment": {"method": "credit_card"}, "exemption_valid_until": "2026-09-30"}, 400, "exemption_valid_until"),
    ({"exam": "AP", "exam_start": "2026-04-20T10:00:00+09:00", "first_booked_at": "2026-03-30T12:00:00+09:00",
      "payment": {"method": "credit_card"}}, 404, "exam"),
    ({"exam": "FE", "exam_start": "not a date", "payment": {"method": "credit_card"}}, 400, "exam_start"),
    ({"exam": "FE", "exam_start": "2026-04-20T10:00:00+09:00", "first_booked_at": "2026-03-30T12:00:00+09:00",
      "at": "2026-04-01T09:00:00+09:00", "payment": {"method": "credit_card"},
      "target_exam_start": "2026-05-01T10:00:00+09:00", "target_seat_available": "no"}, 400, "target_seat_available"),
])
def test_policy_errors_name_the_field(client, body, status, field):
    r = client.post(f"{API}/policy", json=body)
    assert r.status_code == status, r.get_json()
    assert r.get_json()["error"]["field"] == field


@pytest.mark.parametrize("path, body, status", [
    ("retake", {"exam": "AP", "attempts": []}, 404),
    ("retake", {"exam": "FE", "attempts": [{"start": "x", "outcome": "failed"}]}, 400),
    ("quote", {"items": [{"exam": "FE", "count": 0}]}, 400),
    ("quote", {"items": []}, 400),
    ("deadlines", {"exam": "XX", "exam_start": "2026-04-20T10:00:00+09:00"}, 404),
    ("deadlines", {}, 400),
])
def test_bad_input_never_500(client, path, body, status):
    r = client.post(f"{API}/{path}", json=body)
    assert r.status_code == status
    assert set(r.get_json()["error"]) == {"code", "message", "field"}
