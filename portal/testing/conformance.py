"""The conformance suite: one provider checked against the rules API contract
(``shared/api-contract.md``) and the plugin contract (``docs/plugins.md``).

Subclass :class:`ConformanceSuite` with ``provider_id`` (and ``plugins`` for plugin objects
not installed through the entry point); pytest collects its tests. What it checks:

- the provider describes itself in both languages, and labels every word it uses;
- every deadline answer has the contract's shape, known kinds, rule IDs and a bilingual
  explanation, falls at or before the exam ("in order": a deadline never after what it closes),
  and on a business day for the kinds the provider says (``business_day_kinds``) — over
  exam starts on weekends, national holidays, 振替休日, 年末年始 and month ends;
- every catalog code is usable in every question the provider answers;
- the provider's example bodies answer with the contract's shapes (quote, policy, retake),
  each decision with rule IDs and a bilingual explanation;
- malformed input gets the contract's error body; fuzzed bodies never give a 500;
- the words the provider's plugin gives the audit log read in English on English pages.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar

import pytest

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+(,[A-Z][A-Z0-9]*(-[A-Z0-9]+)+)*$")
ENDPOINTS = ("deadlines", "retake", "quote", "policy")
ERROR_STATUSES = (400, 404, 422)
NASTY_BODIES = (
    {}, {"items": ["x"]}, {"items": [None]}, {"items": [{}]}, {"items": {"exam": 1}}, {"items": "x"},
    {"items": [{"count": -1}]}, {"items": [{"count": 10**30}]}, {"exam": ["x"]}, {"exam": {}}, {"exam": 7},
    {"exam_start": "2026-02-30T10:00:00+09:00"}, {"exam_start": "10:00"}, {"exam_start": 20261212},
    {"exam_start": "9999-12-31T23:59:59+09:00"}, {"exam_start": "0001-01-01T00:00:00+00:00"},
    {"attempts": "x"}, {"attempts": [1]}, {"attempts": [{"start": "x"}]}, {"attempts": [{"outcome": "passed"}]},
    {"payment": []}, {"payment": {"method": 1}}, {"payment": {"method": "credit_card", "paid": "yes"}},
    {"at": None, "exam_start": None}, {"count": "1e9"}, {"examinees": {"grade1": "many"}}, {"examinees": []},
    {"submitted": "no"}, {"booked_at": "2026-12-12"}, {"voucher_issued_on": "2026-13-01"},
)


def exam_starts(today: date | None = None) -> list[datetime]:
    """Exam starts at 10:00 JST on the days where business-day rules go wrong: every
    weekend day and national holiday (incl. 振替休日 / 国民の休日) of the coming year,
    年末年始, and the first and last day of every month."""
    import jpholiday

    from portal.rules import JST
    today = today or date.today()
    days: set[date] = set()
    for month in range(0, 14):
        first = date(today.year + (today.month - 1 + month) // 12, (today.month - 1 + month) % 12 + 1, 1)
        days.add(first)
        days.add((first + timedelta(days=32)).replace(day=1) - timedelta(days=1))
    for year in (today.year, today.year + 1):
        days.update(d for d, _ in jpholiday.year_holidays(year))
        days.update(date(year, 12, 28) + timedelta(days=i) for i in range(8))
    days.update(today + timedelta(days=i) for i in range(30, 44))  # two weeks of weekdays and weekends
    return sorted(datetime.combine(d, time(10, 0), JST) for d in days if d > today + timedelta(days=20))


class ConformanceSuite:
    """Subclass with ``provider_id = "acme"``; pytest runs the checks below."""

    provider_id: ClassVar[str | None] = None
    #: Plugin objects to register besides the installed entry points (a package under test).
    plugins: ClassVar[tuple[object, ...]] = ()
    #: An app to check instead of a new one (``flask check-provider`` passes the running app).
    app: ClassVar[Any] = None
    #: How many fuzzed bodies per endpoint (hypothesis examples).
    fuzz_examples: ClassVar[int] = 150

    # ------------------------------------------------------------------ fixtures
    @pytest.fixture(scope="class")
    @classmethod
    def provider(cls, request) -> str:
        provider_id = cls.provider_id or next(iter(request.config.getoption("exam_portal_providers", [])), None)
        if not provider_id:
            pytest.fail("ConformanceSuite needs provider_id (or --exam-portal-provider ID)")
        return provider_id

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_app(cls, provider):
        from portal import create_app
        app = cls.app or create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "conformance", "TESTING": True},
                         plugins=list(cls.plugins))
        if provider not in app.extensions["exam_portal.providers"]:
            pytest.fail(f"provider {provider!r} is not installed (entry point group exam_portal)")
        return app

    @pytest.fixture(scope="class")
    @classmethod
    def api(cls, conformance_app):
        return conformance_app.test_client()

    @pytest.fixture(scope="class")
    @classmethod
    def info(cls, conformance_app, provider):
        return conformance_app.extensions["exam_portal.providers"].info(provider)

    @staticmethod
    def ask(api, provider: str, endpoint: str, body: Any, lang: str = "ja"):
        return api.post(f"/api/v1/providers/{provider}/{endpoint}?lang={lang}", json=body)

    def ask_both(self, api, provider, endpoint, body):
        ja, en = self.ask(api, provider, endpoint, body, "ja"), self.ask(api, provider, endpoint, body, "en")
        assert ja.status_code == en.status_code, (endpoint, body)
        return ja, en

    @staticmethod
    def assert_error_body(response, context=None):
        assert response.status_code in ERROR_STATUSES, (context, response.status_code, response.get_data(as_text=True)[:500])
        payload = response.get_json()
        assert isinstance(payload, dict) and set(payload) == {"error"}, (context, payload)
        error = payload["error"]
        assert set(error) == {"code", "message", "field"}, (context, error)
        assert re.fullmatch(r"[a-z][a-z0-9_]*", error["code"]), (context, error)
        assert isinstance(error["message"], str) and error["message"].strip(), (context, error)
        assert error["field"] is None or isinstance(error["field"], str), (context, error)

    @staticmethod
    def assert_decision(ja: dict, en: dict, context=None):
        """Rule IDs and a bilingual explanation on one decision."""
        assert RULE_ID.match(ja.get("rule") or ""), (context, "rule IDs like ABC-DL-1[,ABC-FEE-2]", ja.get("rule"))
        assert ja["rule"] == en["rule"], context
        assert JAPANESE.search(ja.get("explanation") or ""), (context, "Japanese explanation", ja.get("explanation"))
        assert re.search(r"[A-Za-z]{3}", en.get("explanation") or ""), (context, "English explanation", en.get("explanation"))
        assert ja["explanation"] != en["explanation"], (context, "the English explanation is a translation")

    @staticmethod
    def exam_codes(info) -> list[str | None]:
        return [e.code for e in info.exams] or [None]

    # ------------------------------------------------------------------ description
    def test_describes_itself_in_both_languages(self, api, info, provider):
        listed = {p["id"]: p for p in api.get("/api/v1/providers?lang=en").get_json()["providers"]}
        assert provider in listed
        assert [e["code"] for e in listed[provider]["exams"]] == [e.code for e in info.exams]
        assert info.name.ja.strip() and info.name.en.strip() and info.name.ja != info.name.en or info.name.en.isascii()
        assert re.fullmatch(r"[a-z][a-z0-9_]*", provider), "provider ids are lower-case identifiers (URLs, plugin names)"
        for word in (*info.deadline_kinds, *info.payment_methods):
            label = info.label(word)
            assert label is not None and label.ja.strip() and label.en.strip(), f"vocabulary lacks a label for {word!r}"
        assert set(info.business_day_kinds) <= set(info.deadline_kinds)
        for fact in info.facts:
            assert fact.label.ja.strip() and fact.label.en.strip(), fact.name
        for setting in info.settings:
            assert setting.label.ja.strip() and setting.label.en.strip(), setting.key

    def test_audit_labels_read_in_both_languages(self, conformance_app, provider):
        """The words the provider's plugin gives the audit log (hook ``portal_audit_labels``)
        are translated in the plugin's own domain (``plugin_translator(__name__).lazy_gettext``):
        on an English page none of them is left in Japanese."""
        pm = conformance_app.extensions["exam_portal.pm"]
        plugin = conformance_app.extensions["exam_portal.providers"].plugin_of(provider)
        impls = [impl for impl in pm.hook.portal_audit_labels.get_hookimpls() if impl.plugin is plugin]
        for lang in ("ja", "en"):
            with conformance_app.test_request_context(f"/?lang={lang}"):
                for impl in impls:
                    labels = impl.function() or {}
                    for group in ("entities", "actions", "fields"):
                        for key, label in labels.get(group, {}).items():
                            text = str(label)  # as the audit page and its export show it
                            assert text.strip(), (group, key, "an empty label")
                            assert lang == "ja" or not JAPANESE.search(text), (
                                f"audit {group} {key!r} reads {text!r} on an English page: translate it in the "
                                "plugin's own domain (plugin_translator(__name__).lazy_gettext) and its .po file")

    # ------------------------------------------------------------------ deadlines
    def test_deadlines_have_the_contract_shape_and_fall_in_order(self, api, info, provider):
        from portal.business_days import BusinessCalendar
        calendar = BusinessCalendar(info.closure_defaults)
        answered = 0
        for exam in self.exam_codes(info)[:4]:
            for start in exam_starts():
                body = {"exam": exam, "exam_start": start.isoformat()}
                ja, en = self.ask_both(api, provider, "deadlines", body)
                if ja.status_code != 200:
                    self.assert_error_body(ja, body)
                    continue
                answered += 1
                ja_list, en_list = ja.get_json()["deadlines"], en.get_json()["deadlines"]
                assert isinstance(ja_list, list) and len(ja_list) == len(en_list), body
                for d, d_en in zip(ja_list, en_list):
                    context = (body, d)
                    assert set(d) >= {"kind", "at", "rule", "explanation"}, context
                    assert d["kind"] in info.deadline_kinds, (context, "kind not declared in deadline_kinds")
                    at = datetime.fromisoformat(d["at"])
                    assert at.utcoffset() == timedelta(hours=9), (context, "answers use +09:00")
                    assert at <= start, (context, "a deadline after the exam start")
                    self.assert_decision(d, d_en, context)
                    if d["kind"] in info.business_day_kinds:
                        assert calendar.is_business_day(at.date()), (context, "not a business day")
        if info.deadline_kinds:
            assert answered, "the provider declares deadline kinds but answered no deadline question"

    # ------------------------------------------------------------------ catalog
    def test_every_catalog_code_is_usable(self, api, info, provider):
        start = exam_starts()[0].isoformat()
        for code in [e.code for e in info.exams]:
            for endpoint, body in (("deadlines", {"exam": code, "exam_start": start}),
                                   ("retake", {"exam": code, "attempts": []})):
                response = self.ask(api, provider, endpoint, body)
                if response.status_code != 200:
                    self.assert_error_body(response, body)
                    assert response.get_json()["error"]["code"] != "unknown_exam", (endpoint, code)
        unknown = self.ask(api, provider, "deadlines", {"exam": "NO-SUCH-EXAM-CODE", "exam_start": start})
        if info.exams and unknown.status_code != 200:
            self.assert_error_body(unknown)
            assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "unknown_exam"

    # ------------------------------------------------------------------ examples
    def test_example_bodies_answer_with_the_contract_shapes(self, api, info, provider):
        assert set(info.examples) <= set(ENDPOINTS), "examples are keyed by endpoint"
        for endpoint, body in info.examples.items():
            ja, en = self.ask_both(api, provider, endpoint, dict(body))
            assert ja.status_code == 200, (endpoint, body, ja.get_json())
            getattr(self, f"check_{endpoint}_answer")(ja.get_json(), en.get_json(), body)

    def check_deadlines_answer(self, ja, en, body):
        assert isinstance(ja["deadlines"], list)

    def check_quote_answer(self, ja, en, body):
        assert isinstance(ja.get("total"), int) and not isinstance(ja["total"], bool), ja
        assert isinstance(ja.get("lines"), list), ja
        for line in ja["lines"]:
            assert isinstance(line, dict) and line.get("label"), line
        self.assert_decision(ja, en, ("quote", body))

    def check_retake_answer(self, ja, en, body):
        assert isinstance(ja.get("allowed"), bool), ja
        assert ja.get("earliest") is None or datetime.fromisoformat(ja["earliest"]).utcoffset() == timedelta(hours=9)
        self.assert_decision(ja, en, ("retake", body))

    def check_policy_answer(self, ja, en, body):
        for part in ("change", "cancel"):
            assert isinstance(ja[part].get("allowed"), bool), ja
            until = ja[part].get("until")
            assert until is None or datetime.fromisoformat(until).utcoffset() == timedelta(hours=9), ja
            self.assert_decision(ja[part], en[part], ("policy", part, body))
        if "lapse" in ja:
            assert isinstance(ja["lapse"]["lapsed"], bool)
            self.assert_decision(ja["lapse"], en["lapse"], ("policy", "lapse", body))

    # ------------------------------------------------------------------ errors and fuzz
    def test_malformed_input_gets_the_contract_error_body(self, api, provider):
        for endpoint in ENDPOINTS:
            raw = api.post(f"/api/v1/providers/{provider}/{endpoint}", data="{not json", content_type="application/json")
            self.assert_error_body(raw, endpoint)
            assert raw.status_code == 400
            listed = self.ask(api, provider, endpoint, ["a", "list"])
            self.assert_error_body(listed, endpoint)
        bad_date = self.ask(api, provider, "deadlines", {"exam_start": "next tuesday"})
        self.assert_error_body(bad_date)
        assert bad_date.status_code == 400 and bad_date.get_json()["error"]["field"] in ("exam_start", "exam")

    def test_nasty_bodies_never_give_a_500(self, api, info, provider):
        exam = self.exam_codes(info)[0]
        for endpoint in ENDPOINTS:
            for body in (*NASTY_BODIES, *({**b, "exam": exam} for b in NASTY_BODIES)):
                response = self.ask(api, provider, endpoint, body)
                if response.status_code != 200:
                    self.assert_error_body(response, (endpoint, body))

    def test_fuzzed_bodies_never_give_a_500(self, api, info, provider):
        from hypothesis import HealthCheck, given, settings
        from hypothesis import strategies as st

        keys = sorted({"exam", "exam_start", "at", "booked_at", "first_booked_at", "payment", "attempts", "items",
                       "count", "submitted", *(f.name for f in info.facts),
                       *(k for body in info.examples.values() for k in body)})
        codes = [e.code for e in info.exams][:5]
        scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=False),
                            st.text(max_size=20), st.sampled_from([*codes, "2026-12-12T10:00:00+09:00", "2026-02-29",
                                                                   "credit_card", "failed", "x"]))
        values = st.recursive(scalars, lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(keys), inner, max_size=4)), max_leaves=10)
        examples = [dict(b) for b in info.examples.values()] or [{}]

        @settings(max_examples=self.fuzz_examples, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(endpoint=st.sampled_from(ENDPOINTS), base=st.sampled_from(examples),
               changes=st.dictionaries(st.sampled_from(keys), values, max_size=3))
        def run(endpoint, base, changes):
            body = {**base, **changes}
            response = self.ask(api, provider, endpoint, body)
            if response.status_code != 200:
                self.assert_error_body(response, (endpoint, body))

        run()
