"""Deadline rules: parsing, formatting, descriptions and due dates (chinese_calendar 1.11.0 data)."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from states.calendar import Due, WorkingCalendar
from states.deadlines import (
    CalendarDays,
    Complaint,
    FixedDate,
    Rule,
    WorkingDays,
    compute_due,
    describe_rule,
    format_rule,
    parse_rule,
)
from states.errors import InvalidInput

D = datetime.date


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar.official()


@pytest.mark.parametrize(
    ("spec", "rule", "description"),
    [
        ("fixed:2026-12-31", FixedDate(D(2026, 12, 31)), "2026-12-31前"),
        ("days:30", CalendarDays(30), "30日"),
        ("days:1", CalendarDays(1), "1日"),
        ("workdays:10", WorkingDays(10), "10个工作日"),
        ("workdays:3650", WorkingDays(3650), "3650个工作日"),
        ("complaint", Complaint(), "投诉反馈：5个工作日（多科室10个工作日）"),
    ],
    ids=["fixed", "days", "days-min", "workdays", "workdays-max", "complaint"],
)
def test_parse_format_describe(spec: str, rule: Rule, description: str) -> None:
    assert parse_rule(spec) == rule
    assert format_rule(rule) == spec
    assert describe_rule(rule) == description


rules = st.one_of(
    st.builds(FixedDate, st.dates(D(2004, 1, 1), D(2035, 12, 31))),
    st.builds(CalendarDays, st.integers(1, 3650)),
    st.builds(WorkingDays, st.integers(1, 3650)),
    st.just(Complaint()),
)


@given(rules)
def test_format_parse_round_trip(rule: Rule) -> None:
    assert parse_rule(format_rule(rule)) == rule


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "days:0",
        "days:3651",
        "days:-5",
        "days:030",
        "days:",
        "workdays:ten",
        "Days:30",
        " days:30",
        "days:30 ",
        "fixed:2026-02-30",
        "fixed:20261231",
        "fixed:",
        "complaint:5",
        "hours:24",
    ],
    ids=[
        "empty",
        "zero",
        "too-long",
        "negative",
        "leading-zero",
        "no-number",
        "word-number",
        "uppercase",
        "leading-space",
        "trailing-space",
        "impossible-date",
        "compact-date",
        "no-date",
        "complaint-with-arg",
        "unknown-kind",
    ],
)
def test_parse_rule_refuses(spec: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_rule(spec)
    assert err.value.field == "期限规则"
    assert err.value.value == spec
    assert "workdays:N" in str(err.value)


@pytest.mark.parametrize(
    ("departments", "due"),
    [(0, D(2025, 2, 10)), (1, D(2025, 2, 10)), (2, D(2025, 2, 17)), (5, D(2025, 2, 17))],
    ids=["unknown-departments", "one-department", "two-departments", "many-departments"],
)
def test_complaint_5_or_10_working_days(cal: WorkingCalendar, departments: int, due: datetime.date) -> None:
    # Received 2025-01-27, the eve of 春节: the span 01-28..02-04 is skipped, 02-08 (Sat) counts.
    assert compute_due(Complaint(), D(2025, 1, 27), departments, cal) == Due(due, provisional=False)


@pytest.mark.parametrize(
    ("rule", "start", "due"),
    [
        (WorkingDays(5), D(2025, 1, 27), Due(D(2025, 2, 10), False)),
        (CalendarDays(30), D(2025, 9, 8), Due(D(2025, 10, 9), False)),
        (CalendarDays(30), D(2025, 1, 30), Due(D(2025, 3, 3), False)),
        (FixedDate(D(2025, 10, 1)), D(2025, 1, 1), Due(D(2025, 10, 1), False)),
        (FixedDate(D(2025, 3, 1)), D(2025, 1, 1), Due(D(2025, 3, 1), False)),
        (FixedDate(D(2027, 3, 1)), D(2026, 1, 1), Due(D(2027, 3, 1), True)),
        (WorkingDays(10), D(2026, 12, 24), Due(D(2027, 1, 7), True)),
        (CalendarDays(40), D(2026, 12, 1), Due(D(2027, 1, 11), True)),
    ],
    ids=[
        "workdays-across-spring",
        "days-ending-in-national-rolls",
        "days-ending-saturday-rolls",
        "fixed-on-holiday-kept",
        "fixed-on-saturday-kept",
        "fixed-in-2027-provisional",
        "workdays-into-2027-provisional",
        "days-into-2027-provisional",
    ],
)
def test_compute_due(cal: WorkingCalendar, rule: Rule, start: datetime.date, due: Due) -> None:
    assert compute_due(rule, start, 1, cal) == due


def test_fixed_date_ignores_start_and_departments(cal: WorkingCalendar) -> None:
    rule = FixedDate(D(2026, 12, 31))
    assert compute_due(rule, D(2030, 1, 1), 9, cal) == Due(D(2026, 12, 31), False)
