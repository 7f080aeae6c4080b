"""ODY-RT: every family of the retake table (manual 2.4.5) through the rules API."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings, strategies as st

from portal.rules import JST, AttemptFact

from plugins.odyssey import retake
from plugins.odyssey.catalog import FAMILIES, load_subjects


def iso(dt: datetime) -> str:
    return dt.isoformat()


T0 = datetime(2024, 4, 1, 10, 0, tzinfo=JST)  # start of the first attempt
DUR = timedelta(minutes=50)


def attempts(*outcomes: str, gap: timedelta = timedelta(days=30)):
    """Attempts of the same subject, ``gap`` apart, each lasting 50 minutes."""
    return [{"start": iso(T0 + i * gap), "end": iso(T0 + i * gap + DUR), "outcome": o} for i, o in enumerate(outcomes)]


def ask(post, exam, atts, at=None, lang="ja"):
    body = {"exam": exam, "attempts": atts}
    if at is not None:
        body["at"] = iso(at)
    status, answer = post("retake", body, lang)
    assert status == 200, answer
    assert answer["rule"] == "ODY-RT"
    return answer


def earliest(answer):
    return datetime.fromisoformat(answer["earliest"]) if answer["earliest"] else None


GAP = timedelta(days=30)
LAST1 = T0                 # start of the only attempt
LAST2 = T0 + GAP           # start of the second attempt


# family, outcomes, expected earliest (None = no wait), measured note
TABLE = [
    # Compass after a failure: from the previous START
    ("MOS", ["failed"], LAST1 + timedelta(hours=24)),
    ("MOS", ["failed", "failed"], LAST2 + timedelta(hours=48)),
    ("IC3", ["failed"], LAST1 + timedelta(hours=24)),
    ("IC3", ["failed", "failed"], LAST2 + timedelta(hours=48)),
    ("CCST", ["failed"], LAST1 + timedelta(hours=24)),
    ("CCST", ["failed", "failed"], LAST2 + timedelta(hours=48)),
    ("ACPRO", ["failed"], LAST1 + timedelta(hours=24)),
    ("ACPRO", ["failed", "failed"], LAST2 + timedelta(hours=120)),
    ("SWIFT", ["failed"], LAST1 + timedelta(hours=24)),
    ("SWIFT", ["failed", "failed"], LAST2 + timedelta(hours=120)),
    ("ITS", ["failed"], LAST1 + timedelta(hours=24)),
    ("ITS", ["failed", "failed"], LAST2 + timedelta(hours=168)),
    ("MCE", ["failed"], LAST1 + timedelta(hours=24)),
    ("MCE", ["failed", "failed"], LAST2 + timedelta(hours=336)),
    ("MSFUND", ["failed"], LAST1 + timedelta(hours=24)),
    ("MSFUND", ["failed", "failed"], LAST2 + timedelta(hours=336)),
    # Compass after a pass: free
    ("MOS", ["failed", "passed"], None), ("IC3", ["passed"], None), ("ACPRO", ["passed"], None), ("CCST", ["passed"], None),
    # Odyssey CBT, pass or fail: from the previous END
    ("BIZSTATS", ["passed"], LAST1 + DUR + timedelta(hours=24)),
    ("BIZSTATS", ["failed", "passed"], LAST2 + DUR + timedelta(hours=48)),
    ("GLOBAL_LITERACY", ["failed"], LAST1 + DUR + timedelta(hours=24)),
    ("GLOBAL_LITERACY", ["failed", "failed"], LAST2 + DUR + timedelta(hours=48)),
    ("VBA", ["failed"], None),
    ("VBA", ["failed", "passed"], LAST2 + DUR + timedelta(hours=168)),
    ("RAILS", ["passed"], None), ("RAILS", ["failed", "failed"], LAST2 + DUR + timedelta(hours=168)),
    ("PYTHON", ["failed"], None), ("PYTHON", ["failed", "failed"], LAST2 + DUR + timedelta(hours=168)),
    ("PHP", ["failed"], None), ("PHP", ["failed", "failed"], LAST2 + DUR + timedelta(hours=168)),
    ("WEBSEC", ["failed"], None), ("WEBSEC", ["failed", "failed"], LAST2 + DUR + timedelta(hours=168)),
    ("KUSANAGI", ["failed"], None), ("KUSANAGI", ["failed", "failed"], LAST2 + DUR + timedelta(hours=168)),
    ("CEXAM", ["failed"], None),
    ("CEXAM", ["failed", "failed"], LAST2 + DUR + timedelta(days=180)),
    ("CBAS", ["failed"], LAST1 + DUR + timedelta(hours=336)),
    ("CBAS", ["failed", "passed"], LAST2 + DUR + timedelta(hours=336)),
    ("STATKENTEI", ["passed"], LAST1 + DUR + timedelta(hours=168)),
    ("STATKENTEI", ["failed", "failed"], LAST2 + DUR + timedelta(hours=168)),
    ("YCNE", ["failed"], LAST1 + DUR + timedelta(hours=168)),
    ("YCNE", ["failed", "failed"], LAST2 + DUR + timedelta(hours=168)),
    ("DAA", ["failed"], None), ("DAA", ["failed", "failed"], None),
]


@pytest.mark.parametrize("family, outcomes, expected", TABLE)
def test_retake_table(post, family, outcomes, expected):
    answer = ask(post, family, attempts(*outcomes), at=T0 + timedelta(days=400))
    assert earliest(answer) == expected
    assert answer["allowed"] is True  # long after every wait


@pytest.mark.parametrize("family", ["MOS", "ITS", "VBA", "CBAS", "CONKEN"])
def test_before_the_wait_is_not_allowed_yet_earliest_is_still_given(post, family):
    outcomes = ["failed", "failed"]
    first = ask(post, family, attempts(*outcomes), at=T0 + timedelta(days=400))
    e = earliest(first)
    assert ask(post, family, attempts(*outcomes), at=e - timedelta(seconds=1))["allowed"] is False
    on_time = ask(post, family, attempts(*outcomes), at=e)
    assert on_time["allowed"] is True and earliest(on_time) == e


def test_manual_style_example_mos(post):
    a = ask(post, "MOS", attempts("failed"), at=datetime(2024, 4, 2, 9, 59, tzinfo=JST))
    assert a["earliest"] == "2024-04-02T10:00:00+09:00" and a["allowed"] is False
    assert "開始時刻" in a["explanation"] and "24時間" in a["explanation"]


@pytest.mark.parametrize("family", ["MCE", "MSFUND", "SWIFT", "ITS"])
def test_after_a_pass_ask_the_provider(post, family):
    a = ask(post, family, attempts("failed", "passed"))
    assert a["allowed"] is False and a["earliest"] is None
    assert "問い合わせ" in a["explanation"]
    assert "customer service" in ask(post, family, attempts("passed"), lang="en")["explanation"]


@pytest.mark.parametrize("family", ["REUSE", "LYMPHEDEMA", "WASHING"])
def test_no_retake_within_the_offering_period(post, family):
    a = ask(post, family, attempts("failed"), at=T0 + timedelta(days=1000))
    assert a["allowed"] is False and a["earliest"] is None
    assert "開催期間" in a["explanation"]


def test_conken_counts_the_exam_date_as_day_one(post):
    a = ask(post, "CONKEN", [{"start": "2024-04-01T15:00:00+09:00", "end": "2024-04-01T16:00:00+09:00", "outcome": "passed"}])
    assert a["earliest"] == "2024-04-15T00:00:00+09:00"


def test_absences_never_count(post):
    # absent, failed, absent: one counted attempt → 2nd-attempt rule from the failure's start.
    atts = attempts("absent", "failed", "absent", gap=timedelta(hours=1))
    a = ask(post, "MOS", atts)
    assert earliest(a) == T0 + timedelta(hours=1) + timedelta(hours=24)
    assert "欠席2回" in a["explanation"]
    only_absent = ask(post, "MCE", attempts("absent", "absent"))
    assert only_absent["allowed"] is True and only_absent["earliest"] is None


def test_first_attempt_has_no_wait(post):
    for family in FAMILIES:
        a = ask(post, family, [])
        assert a["allowed"] is True and a["earliest"] is None


@pytest.mark.parametrize("family", ["ITS", "MCE", "MSFUND"])
def test_five_in_twelve_months(post, family):
    # Five failures a month apart (2024-04-01 … 2024-08-01): 12 months from the first date.
    a = ask(post, family, attempts(*["failed"] * 5), at=datetime(2025, 3, 31, 23, 0, tzinfo=JST))
    assert a["earliest"] == "2025-04-01T00:00:00+09:00"
    assert a["allowed"] is False
    assert "5回" in a["explanation"]
    # Absences do not count towards the five.
    b = ask(post, family, attempts("failed", "absent", "failed", "failed", "failed"), at=T0 + timedelta(days=400))
    assert earliest(b) < datetime(2025, 1, 1, tzinfo=JST)


def test_five_in_twelve_months_on_29_february(post):
    atts = [{"start": f"2024-02-{d:02d}T10:00:00+09:00", "end": f"2024-02-{d:02d}T11:00:00+09:00", "outcome": "failed"}
            for d in (29,)] + [{"start": f"2024-03-{d:02d}T10:00:00+09:00", "end": f"2024-03-{d:02d}T11:00:00+09:00",
                                "outcome": "failed"} for d in (1, 8, 15, 29)]
    a = ask(post, "ITS", atts)
    assert a["earliest"] == "2025-02-28T00:00:00+09:00"


def test_five_spread_over_more_than_a_year_only_waits_normally(post):
    a = ask(post, "ITS", attempts(*["failed"] * 5, gap=timedelta(days=100)))
    last = T0 + 4 * timedelta(days=100)
    assert earliest(a) == last + timedelta(hours=168)


def test_subject_code_maps_to_its_family(post):
    vba = ask(post, "VBA-EXCEL-BASIC", attempts("failed", "failed"))
    assert earliest(vba) == LAST2 + DUR + timedelta(hours=168)
    mos = ask(post, "MOS-WORD-2016", attempts("failed"))
    assert earliest(mos) == LAST1 + timedelta(hours=24)


def test_catalog_has_an_entry_per_family():
    assert {s.family for s in load_subjects()} == set(FAMILIES)


@pytest.mark.parametrize("body, status, field", [
    ({"exam": "NOPE", "attempts": []}, 404, "exam"),
    ({"attempts": []}, 400, "exam"),
    ({"exam": "MOS", "attempts": [{"start": "x", "outcome": "failed"}]}, 400, "attempts[0].start"),
    ({"exam": "MOS", "attempts": [{"start": "2024-01-01T10:00:00+09:00", "outcome": "maybe"}]}, 400, "attempts[0].outcome"),
    ({"exam": "MOS", "attempts": "no"}, 400, "attempts"),
])
def test_bad_input(post, body, status, field):
    code, answer = post("retake", body)
    assert code == status and answer["error"]["field"] == field


outcome = st.sampled_from(["passed", "failed", "absent"])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(FAMILIES), st.lists(st.tuples(st.integers(0, 400 * 24), outcome), max_size=7))
def test_invariants(family, raw):
    """Earliest is never before the last counted attempt; absences change nothing."""
    atts = [AttemptFact(T0 + timedelta(hours=h), T0 + timedelta(hours=h) + DUR, o) for h, o in raw]
    decision = retake.retake(family, atts, T0)
    counted = [a for a in atts if a.outcome != "absent"]
    without_absences = retake.retake(family, counted, T0)
    assert (decision.allowed, decision.earliest) == (without_absences.allowed, without_absences.earliest)
    if decision.earliest is not None and counted:
        assert decision.earliest > max(a.start for a in counted)
    assert decision.explanation.ja and decision.explanation.en
