"""The conformance kit: the core's sample provider passes it; a provider with the faults
outside authors made (a crash on ``{"items": ["x"]}``, an unlabelled kind, a deadline after
the exam, audit labels translated in the core's domain instead of its own) fails it, and ``flask check-provider`` says so
with a non-zero exit."""
from __future__ import annotations

import textwrap

import pytest

import tests.sample_provider as sample
from portal.plugins import hookimpl
from portal.rules import Deadline, Exam, Msg, ProviderInfo, Quote
from portal.testing import ConformanceSuite

pytest_plugins = ["pytester"]


class TestSampleProviderConforms(ConformanceSuite):
    provider_id = "sample"
    plugins = (sample,)


class Sloppy:
    """Everything the kit is there to catch."""

    @hookimpl
    def provider_info(self):
        return ProviderInfo(id="sloppy", name=Msg("いい加減", "Sloppy"), exams=(Exam("X1", "X one"),),
                            deadline_kinds=("apply",), examples={"quote": {"items": [{"exam": "X1"}]}})

    @hookimpl
    def provider_deadlines(self, ctx, query):
        return [Deadline("apply", query.exam_start.replace(hour=23), "sloppy rule", Msg("late", "late"))]

    @hookimpl
    def provider_quote(self, ctx, query):
        items = query.payload.get("items") or []
        return Quote((), sum(item.get("count", 1) for item in items), "SLP-FEE-1", Msg("料金", "fee"))

    @hookimpl
    def portal_audit_labels(self):
        from flask_babel import lazy_gettext  # the core's domain: the plugin's own words stay Japanese
        return {"entities": {"sloppy_record": lazy_gettext("いい加減な記録")}}


def test_the_kit_fails_a_sloppy_provider(pytester):
    pytester.makepyfile(test_sloppy=textwrap.dedent('''
        from portal.testing import ConformanceSuite
        from tests.test_conformance_kit import Sloppy

        class TestSloppy(ConformanceSuite):
            provider_id = "sloppy"
            plugins = (Sloppy(),)
            fuzz_examples = 20
    '''))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-o", "addopts=")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 4, outcomes
    text = result.stdout.str()
    assert "vocabulary lacks a label for 'apply'" in text
    assert "a deadline after the exam start" in text
    assert "provider_error" in text or "502" in text  # {"items": ["x"]} crashed the plugin
    assert "audit entities 'sloppy_record' reads 'いい加減な記録' on an English page" in text


def test_check_provider_exits_non_zero_on_failure_and_zero_on_success(make_app):
    app = make_app(plugins=[Sloppy(), sample])
    runner = app.test_cli_runner()
    bad = runner.invoke(args=["check-provider", "sloppy", "-x"])
    assert bad.exit_code != 0 and "does not conform" in bad.output
    good = runner.invoke(args=["check-provider", "sample"])
    assert good.exit_code == 0, good.output
    assert "provider sample conforms" in good.output
    unknown = runner.invoke(args=["check-provider", "nobody"])
    assert unknown.exit_code != 0 and "no installed provider" in unknown.output


def test_a_decision_needs_rule_ids_and_an_explanation_in_each_language():
    ok_en = {"rule": "ABC-DL-1", "explanation": "Closes on Friday."}
    ConformanceSuite.assert_decision({"rule": "ABC-DL-1", "explanation": "金曜日に締め切ります。"}, ok_en)
    with pytest.raises(AssertionError, match="rule IDs"):
        ConformanceSuite.assert_decision({"rule": "see manual", "explanation": "金曜日"}, {**ok_en, "rule": "see manual"})
    with pytest.raises(AssertionError, match="Japanese explanation"):
        ConformanceSuite.assert_decision({"rule": "ABC-DL-1", "explanation": "Closes on Friday."}, ok_en)
    with pytest.raises(AssertionError, match="English explanation"):
        ConformanceSuite.assert_decision({"rule": "ABC-DL-1", "explanation": "金曜日"}, {**ok_en, "explanation": "金曜日"})
