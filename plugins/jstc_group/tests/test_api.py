"""The rules API for jstc_group, exactly as shared/api-contract.md describes it."""
from __future__ import annotations

import pytest

API = "/api/v1/providers/jstc_group"


def test_listed_with_its_grades(client):
    providers = {p["id"]: p for p in client.get("/api/v1/providers").get_json()["providers"]}
    assert [e["code"] for e in providers["jstc_group"]["exams"]] == ["professional", "grade1", "grade2", "grade3"]


@pytest.mark.parametrize("total, expense", [
    (10, 3_000), (20, 3_000), (21, 6_000), (40, 6_000), (41, 11_000), (70, 11_000), (71, 17_000), (100, 17_000),
    (101, 30_000), (200, 30_000), (201, 50_000), (300, 50_000), (301, 60_000), (350, 60_000), (351, 70_000),
    (1000, 190_000),
])
def test_quote_tiers(client, total, expense):
    body = client.post(f"{API}/quote", json={"examinees": {"grade3": total}}).get_json()
    assert body["group"] is True
    assert body["fees_total"] == total * 3_500
    assert body["implementation_expense"] == expense
    assert body["total"] == total * 3_500 - expense
    assert sum(line["amount"] for line in body["lines"]) == body["total"]
    assert "JST-PR-2" in body["rule"]


def test_quote_shape_and_fees(client):
    body = client.post(f"{API}/quote", json={"examinees": {"professional": 1, "grade1": 2, "grade2": 3, "grade3": 4}}).get_json()
    assert set(body) >= {"lines", "total", "rule", "explanation", "group", "fees_total", "implementation_expense"}
    assert body["lines"][:4] == [
        {"label": "プロフェッショナル 検定料", "unit_price": 17_000, "count": 1, "amount": 17_000},
        {"label": "1級 検定料", "unit_price": 9_000, "count": 2, "amount": 18_000},
        {"label": "2級 検定料", "unit_price": 6_400, "count": 3, "amount": 19_200},
        {"label": "3級 検定料", "unit_price": 3_500, "count": 4, "amount": 14_000},
    ]
    assert body["total"] == 68_200 - 3_000


def test_quote_below_ten_says_no_group(client):
    body = client.post(f"{API}/quote?lang=en", json={"examinees": {"grade2": 9}}).get_json()
    assert body["group"] is False and body["implementation_expense"] == 0
    assert body["total"] == body["fees_total"] == 9 * 6_900
    assert "not a group" in body["explanation"]


@pytest.mark.parametrize("payload, status, field", [
    ({}, 400, "examinees"),
    ({"examinees": {"grade9": 1}}, 400, "examinees.grade9"),
    ({"examinees": {"grade1": -2}}, 400, "examinees.grade1"),
    ({"examinees": {"grade1": "x"}}, 400, "examinees.grade1"),
    ({"examinees": {"grade1": 0}}, 422, "examinees"),
])
def test_quote_errors(client, payload, status, field):
    response = client.post(f"{API}/quote", json=payload)
    assert response.status_code == status
    assert response.get_json()["error"]["field"] == field


def test_quote_rejects_a_non_object_body(client):
    assert client.post(f"{API}/quote", data="[1]", content_type="application/json").status_code == 400


def test_deadline_of_a_known_session(client):
    body = client.post(f"{API}/deadlines", json={"exam_start": "2020-11-15T10:00:00+09:00"}).get_json()
    assert body == {"deadlines": [{"kind": "application", "at": "2020-10-09T23:59:59+09:00", "rule": "JST-AP-1",
                                   "explanation": body["deadlines"][0]["explanation"]}]}
    assert "第124回" in body["deadlines"][0]["explanation"]


def test_deadline_accepts_any_offset(client):
    body = client.post(f"{API}/deadlines", json={"exam_start": "2020-11-15T01:00:00Z", "exam": "grade2"}).get_json()
    assert body["deadlines"][0]["at"] == "2020-10-09T23:59:59+09:00"


def test_no_deadline_when_the_session_is_unknown(client):
    assert client.post(f"{API}/deadlines", json={"exam_start": "2020-11-16T10:00:00+09:00"}).get_json() == {"deadlines": []}


def test_deadline_errors(client):
    assert client.post(f"{API}/deadlines", json={"exam_start": "2020-11-15T10:00:00+09:00", "exam": "grade9"}).status_code == 404
    assert client.post(f"{API}/deadlines", json={}).status_code == 400


def test_policy_after_upload(client):
    body = client.post(f"{API}/policy", json={"exam_start": "2020-11-15T10:00:00+09:00", "at": "2020-09-10T10:00:00+09:00",
                                              "submitted": True}).get_json()
    assert body["change"]["allowed"] is False and body["cancel"]["allowed"] is False
    assert body["cancel"]["refund"] == 0


def test_policy_before_upload_and_after_the_deadline(client):
    before = client.post(f"{API}/policy", json={"exam_start": "2020-11-15T10:00:00+09:00", "at": "2020-10-09T23:59:00+09:00",
                                                "submitted": False}).get_json()
    assert before["change"]["allowed"] is True and before["change"]["until"] == "2020-10-09T23:59:59+09:00"
    late = client.post(f"{API}/policy", json={"exam_start": "2020-11-15T10:00:00+09:00", "at": "2020-10-10T00:00:00+09:00",
                                              "submitted": False}).get_json()
    assert late["change"]["allowed"] is False


def test_policy_needs_submitted(client):
    response = client.post(f"{API}/policy", json={"exam_start": "2020-11-15T10:00:00+09:00"})
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "submitted"


def test_retake_is_not_offered(client):
    response = client.post(f"{API}/retake", json={"exam": "grade1", "attempts": []})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_offered"
