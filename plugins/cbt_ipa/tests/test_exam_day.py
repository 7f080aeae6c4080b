"""Exam-day calculators: late arrival (IPA-DAY-1) and equipment failure (IPA-DAY-2)."""
from datetime import date, timedelta

import pytest

from plugins.cbt_ipa.exam_day import equipment_failure, late_arrival, transfer_valid_until
from plugins.cbt_ipa.plugin import INFO
from plugins.cbt_ipa.tests.helpers import jst

FE = INFO.exam("FE")
SG = INFO.exam("SG")
START = jst(2026, 4, 1, 10)


@pytest.mark.parametrize("minutes_late, admitted", [(0, True), (30, True), (80, True), (80.5, False), (81, False)])
def test_late_arrival_admitted_up_to_80_minutes(minutes_late, admitted):
    r = late_arrival(SG, START, START + timedelta(minutes=minutes_late))
    assert r.admitted is admitted
    assert r.admitted_until == jst(2026, 4, 1, 11, 20)
    assert r.rule == "IPA-DAY-1"


def test_late_arrival_has_no_extension():
    r = late_arrival(FE, START, START + timedelta(minutes=30))
    assert r.exam_end == jst(2026, 4, 1, 13, 20)  # 90 + 10 + 100 min: not moved
    assert r.first_part_minutes_left == 60
    assert "科目A" in r.explanation.ja and "繰り下げません" in r.explanation.ja


def test_too_late_names_no_refund_and_no_other_date():
    r = late_arrival(FE, START, START + timedelta(minutes=81))
    assert not r.admitted
    assert "返還されません" in r.explanation.ja and "not refunded" in r.explanation.en


def test_early_arrival_is_not_late():
    r = late_arrival(SG, START, START - timedelta(minutes=20))
    assert r.admitted and r.minutes_late == 0


@pytest.mark.parametrize("down, outcome", [
    (0, "continue"), (15, "continue"), (15.5, "wait_or_transfer"), (40, "wait_or_transfer"), (41, "transfer")])
def test_equipment_failure_thresholds(down, outcome):
    r = equipment_failure(START, START + timedelta(minutes=down), START + timedelta(minutes=down))
    assert r.outcome == outcome and r.rule == "IPA-DAY-2"


def test_continue_extends_by_the_downtime():
    r = equipment_failure(START, START + timedelta(minutes=12), START + timedelta(minutes=12))
    assert r.extension_minutes == 12 and r.transfer_valid_until is None
    assert "12分延長" in r.explanation.ja


def test_still_down_uses_the_check_time():
    assert equipment_failure(START, None, START + timedelta(minutes=10)).outcome == "waiting"
    assert equipment_failure(START, None, START + timedelta(minutes=20)).outcome == "wait_or_transfer"
    r = equipment_failure(START, None, START + timedelta(minutes=45))
    assert r.outcome == "transfer" and r.transfer_valid_until == date(2027, 4, 1)


def test_transfer_validity_is_one_year_from_the_notice():
    assert transfer_valid_until(date(2026, 4, 1)) == date(2027, 4, 1)
    assert transfer_valid_until(date(2028, 2, 29)) == date(2029, 2, 28)
    r = equipment_failure(START, None, START + timedelta(minutes=50), notice_on=date(2026, 12, 31))
    assert r.transfer_valid_until == date(2027, 12, 31)
    assert "2027-12-31" in r.explanation.ja and "交通費" in r.explanation.ja
