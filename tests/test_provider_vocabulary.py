"""A provider's words and calculator facts come from the provider: its deadline kinds and
payment methods are labelled in both languages (pages, ICS titles), and the calculator asks
its declared facts and shows deadlines, policy, quote and retake."""
from __future__ import annotations

import re

import pytest

from conftest import csrf_token, login

import tests.sample_provider as sample


@pytest.fixture
def sample_client(make_app, org_factory):
    app = make_app(plugins=[sample], EXAM_PORTAL_PLUGINS="no-bundled-plugin")
    client = app.test_client()
    _, _, email, password = org_factory()
    login(client, email, password)
    return app, client


def test_the_calculator_asks_the_providers_facts_and_answers_every_question(sample_client):
    _, client = sample_client
    page = client.get("/providers/sample?lang=en").get_data(as_text=True)
    assert 'name="grade"' in page and "Grade A" in page and 'name="count"' in page and 'name="attempts_start"' in page
    result = client.post("/providers/sample/calculate?lang=en", headers={"X-CSRFToken": csrf_token(client), "HX-Request": "true"},
                         data={"exam": "S1", "exam_start": "2027-01-15T10:00", "at": "2027-01-04T10:00", "grade": "B",
                               "count": "3", "attempts_start": "2026-12-20T10:00", "attempts_outcome": "failed"}
                         ).get_data(as_text=True)
    assert "Essay upload:" in result and "Application deadline:" in result  # the provider's labels
    assert 'data-decision="change"' in result and "SMP-CH-1" in result
    assert re.search(r"data-total>¥15,000<", result) and "SMP-FEE-1" in result
    assert 'data-decision="retake"' in result and "SMP-RT-1" in result and "2027-01-03" in result


def test_a_quote_missing_its_fact_says_so_without_hiding_the_rest(sample_client):
    _, client = sample_client
    result = client.post("/providers/sample/calculate", headers={"X-CSRFToken": csrf_token(client), "HX-Request": "true"},
                         data={"exam": "S1", "exam_start": "2027-01-15T10:00", "grade": "Z"}).get_data(as_text=True)
    assert 'data-field="grade"' in result and "SMP-DL-1" in result


def test_labels_come_from_the_provider_in_both_languages(sample_client):
    app, _ = sample_client
    from portal.labels import deadline_label, payment_label
    with app.test_request_context("/"):
        assert deadline_label("essay", "sample", "en") == "Essay upload"
        assert deadline_label("essay", "sample", "ja") == "小論文提出"
        assert payment_label("bank", None, "en") == "Bank transfer"
        assert deadline_label("unheard_of", "sample", "en") == "unheard_of"
