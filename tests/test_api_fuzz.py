"""Never a 500 for any input: random bodies against every provider and endpoint."""
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

KEYS = ["exam", "exam_start", "at", "booked_at", "first_booked_at", "payment", "voucher_issued_on",
        "exemption_valid_until", "target_exam_start", "submitted", "attempts", "items", "examinees",
        "method", "paid", "amount", "count", "price", "start", "end", "outcome", "professional", "grade1", "grade2", "grade3"]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**12, max_value=10**12), st.floats(allow_nan=False),
    st.text(max_size=30), st.sampled_from(["2026-12-12T10:00:00+09:00", "2026-02-29", "2024-02-29", "FE", "SG", "MOS",
                                           "RUBY-SILVER", "MOS-WORD-2016", "student", "voucher", "credit_card",
                                           "convenience_store", "failed", "passed", "absent", "9999-12-31T23:59:59Z",
                                           "0001-01-01T00:00:00+00:00", "2026-13-40"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=6)), max_leaves=12)
bodies = st.dictionaries(st.sampled_from(KEYS), values, max_size=8)


@pytest.fixture(scope="module")
def api_client():
    from portal import create_app
    return create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "fuzz", "TESTING": True}).test_client()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, endpoint=st.sampled_from(["deadlines", "retake", "quote", "policy"]), data=st.data())
def test_no_input_gives_a_500(api_client, body, endpoint, data):
    providers = [p["id"] for p in api_client.get("/api/v1/providers").get_json()["providers"]]
    provider = data.draw(st.sampled_from(providers))
    r = api_client.post(f"/api/v1/providers/{provider}/{endpoint}", json=body)
    assert r.status_code in (200, 400, 404, 422), (provider, endpoint, body, r.get_data(as_text=True)[:500])
    payload = r.get_json()
    if r.status_code != 200:
        assert set(payload["error"]) == {"code", "message", "field"}


VALID = {
    "deadlines": {"exam_start": "2026-12-12T10:00:00+09:00"},
    "retake": {"exam": None, "at": "2026-12-01T10:00:00+09:00", "attempts": [
        {"start": "2026-11-01T10:00:00+09:00", "end": "2026-11-01T11:00:00+09:00", "outcome": "failed"}]},
    "quote": {"items": [{"exam": None, "count": 2, "price": "general"}],
              "examinees": {"professional": 1, "grade1": 2, "grade2": 5, "grade3": 5}},
    "policy": {"exam": None, "exam_start": "2026-12-12T10:00:00+09:00", "at": "2026-11-23T10:00:00+09:00",
               "booked_at": "2026-11-01T10:00:00+09:00", "first_booked_at": "2026-11-01T10:00:00+09:00",
               "payment": {"method": "credit_card", "paid": True, "amount": 7500}, "submitted": False,
               "voucher_issued_on": "2026-10-01", "target_exam_start": "2026-12-20T10:00:00+09:00"},
}


def _with_exam(body, exam):
    body = {k: ([{**i, "exam": exam} for i in v] if k == "items" else v) for k, v in body.items()}
    return {**body, "exam": exam} if "exam" in body else body


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(endpoint=st.sampled_from(sorted(VALID)), data=st.data())
def test_valid_bodies_with_one_field_broken_never_give_a_500(api_client, endpoint, data):
    providers = api_client.get("/api/v1/providers").get_json()["providers"]
    provider = data.draw(st.sampled_from(providers))
    exam = data.draw(st.sampled_from([e["code"] for e in provider["exams"]]))
    body = _with_exam(VALID[endpoint], exam)
    key = data.draw(st.sampled_from(sorted(body) + ["attempts", "payment"]))
    body[key] = data.draw(values)
    r = api_client.post(f"/api/v1/providers/{provider['id']}/{endpoint}", json=body)
    assert r.status_code in (200, 400, 404, 422), (provider["id"], endpoint, body, r.get_data(as_text=True)[:800])


@pytest.mark.parametrize("endpoint", sorted(VALID))
def test_every_provider_answers_a_valid_body(api_client, endpoint):
    """The fuzzing above starts from bodies every provider accepts (or refuses on purpose)."""
    for provider in api_client.get("/api/v1/providers").get_json()["providers"]:
        body = _with_exam(VALID[endpoint], provider["exams"][0]["code"])
        r = api_client.post(f"/api/v1/providers/{provider['id']}/{endpoint}", json=body)
        assert r.status_code in (200, 404, 422), (provider["id"], endpoint, r.get_json())
