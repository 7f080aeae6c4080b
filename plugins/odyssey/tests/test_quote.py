"""ODY-PR-1/2/3: the remittance quote, with the manual's 19,030-yen example."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from plugins.odyssey import quote
from plugins.odyssey.catalog import PRICE_KINDS, Subject, offered_kinds

WORD = "MOS-WORD-2016"
VBA = "VBA-EXCEL-BASIC"


def test_manual_example_19030(post):
    status, body = post("quote", {"items": [{"exam": WORD, "count": 1, "price": "student", "school": "オデッセイ高校"},
                                            {"exam": VBA, "count": 1, "price": "general"}]})
    assert status == 200, body
    assert body["total"] == 19030
    assert body["fees_total"] == 8580 + 13200
    assert body["commission_total"] == 1100 + 1650
    assert [(l["label"], l["unit_price"], l["count"], l["amount"]) for l in body["lines"]] == [
        ("(学割)Office Word 2016", 7480, 1, 7480), ("Excel VBA Basic", 11550, 1, 11550)]
    assert sum(l["amount"] for l in body["lines"]) == body["total"]
    assert "ODY-PR-1" in body["rule"] and "ODY-PR-3" in body["rule"]
    assert "19,030円" in body["explanation"]
    assert body["requires"] == []


def test_the_example_without_the_school_name_still_prices_but_says_what_is_missing(post):
    status, body = post("quote", {"items": [{"exam": WORD, "count": 1, "price": "student"},
                                            {"exam": VBA, "count": 1, "price": "general"}]})
    assert status == 200 and body["total"] == 19030
    assert body["requires"] == [{"item": 0, "fact": "school"}]
    assert "学校名" in body["explanation"]


def test_counts_multiply(post):
    _, body = post("quote", {"items": [{"exam": VBA, "count": 3, "price": "general"}]})
    assert body["total"] == 3 * 11550 and body["lines"][0]["count"] == 3


def test_same_subject_and_kind_are_grouped(post):
    _, body = post("quote", {"items": [{"exam": VBA, "count": 1}, {"exam": VBA, "count": 2}]})
    assert len(body["lines"]) == 1 and body["lines"][0]["count"] == 3


def test_vouchers_remit_nothing(post):
    status, body = post("quote", {"items": [{"exam": "MOS-WORD-2019", "count": 2, "price": "voucher"},
                                            {"exam": VBA, "count": 1, "price": "general"}]})
    assert status == 200
    assert body["total"] == 11550
    assert body["fees_total"] == 13200 and body["commission_total"] == 1650
    voucher = body["lines"][0]
    assert voucher["unit_price"] == 0 and voucher["amount"] == 0 and voucher["count"] == 2
    assert body["voucher_tests"] == 2 and body["voucher_commission_total"] == 2200
    assert "ODY-PR-2" in body["rule"] and "翌月末" in body["explanation"]


def test_voucher_works_even_without_catalog_prices(post):
    status, body = post("quote", {"items": [{"exam": "IC3", "count": 1, "price": "voucher"}]})
    assert status == 200 and body["total"] == 0 and body["voucher_commission_total"] is None


@pytest.mark.parametrize("exam, kind", [(VBA, "student"), (WORD, "member"), (WORD, "certificate_holder"),
                                        ("CCST", "student"), ("CONKEN", "student")])
def test_discount_not_offered_by_the_family_is_refused(post, exam, kind):
    status, body = post("quote", {"items": [{"exam": exam, "count": 1, "price": kind}]})
    assert status == 422
    assert body["error"]["code"] == "price_not_offered" and body["error"]["field"] == "items[0].price"
    assert "ODY-PR-3" in body["error"]["message"]


def test_a_price_missing_from_the_catalog_is_refused_not_invented(post):
    status, body = post("quote", {"items": [{"exam": WORD, "count": 1, "price": "general"}]})
    assert status == 422 and body["error"]["code"] == "price_unknown"


@pytest.mark.parametrize("body, status, field", [
    ({}, 400, "items"),
    ({"items": []}, 400, "items"),
    ({"items": [{"count": 1}]}, 400, "items[0].exam"),
    ({"items": [{"exam": "NOPE", "count": 1}]}, 404, "items[0].exam"),
    ({"items": [{"exam": VBA, "count": 0}]}, 400, "items[0].count"),
    ({"items": [{"exam": VBA, "count": "2"}]}, 400, "items[0].count"),
    ({"items": [{"exam": VBA, "count": 1, "price": "cheap"}]}, 400, "items[0].price"),
    ({"items": [{"exam": VBA, "count": 1, "price": 3}]}, 400, "items[0].price"),
    ({"items": [{"exam": 12, "count": 1}]}, 404, "items[0].exam"),
])
def test_bad_input(post, body, status, field):
    code, answer = post("quote", body)
    assert code == status and answer["error"]["field"] == field


def test_required_facts_per_discount():
    assert [n for n, _ in quote.needed_facts("MOS", "student")] == ["school"]
    assert [n for n, _ in quote.needed_facts("CONKEN", "member")] == ["employer"]
    assert [n for n, _ in quote.needed_facts("REUSE", "member")] == ["employer", "kentei_code"]
    assert [n for n, _ in quote.needed_facts("VBA", "certificate_holder")] == ["certificate"]
    assert quote.needed_facts("VBA", "general") == ()


def test_student_or_teacher_price_is_the_student_kind_for_its():
    its = Subject("ITS-X", "ITS X", "ITS", {"general": 10000, "student": None, "student_or_teacher": 7000}, 1000, 500)
    assert quote.price(its, "student").fee == 7000
    assert set(offered_kinds("ITS")) == {"general", "student", "voucher"}
    assert set(offered_kinds("CEXAM")) == {"general", "student", "member", "voucher"}
    assert set(offered_kinds("BIZSTATS")) == {"general", "student", "certificate_holder", "voucher"}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1000, 50000), st.integers(0, 999), st.integers(1, 20),
                          st.sampled_from(["general", "voucher"])), min_size=1, max_size=6))
def test_remittance_invariants(rows):
    priced = []
    for i, (fee, commission, count, kind) in enumerate(rows):
        s = Subject(f"S{i}", f"S{i}", "VBA", {"general": fee}, commission, 100)
        priced.append((quote.price(s, kind), count))
    r = quote.group(priced)
    assert r.total == r.fees_total - r.commission_total
    assert r.total == sum(p.remit * c for p, c in r.rows)
    assert r.total == sum((f - c) * n for f, c, n, k in rows if k != "voucher")
    assert r.tests == sum(n for *_, n, _k in rows)
    assert set(PRICE_KINDS) >= {p.kind for p, _ in r.rows}


def test_providers_list_has_the_manual_subjects(api):
    body = api.get("/api/v1/providers").get_json()
    odyssey = next(p for p in body["providers"] if p["id"] == "odyssey")
    names = {e["name"] for e in odyssey["exams"]}
    assert {"Office Word 2016", "Excel VBA Basic"} <= names
