"""Deadline rules: how the due date of an item is derived from its start date.

A rule is stored in the database and typed in the CLI as a short spec string:

========================  =====================================================================
``fixed:2026-12-31``      a fixed date, kept as written even when it is a rest day
``days:30``               30 calendar days after the start; a rest-day end moves to the next
                          working day
``workdays:10``           10 working days after the start
``complaint``             complaint feedback: 5 working days after receipt, 10 when several
                          departments are involved (《医疗机构投诉管理办法》)
========================  =====================================================================

The start day itself is never counted (民法典 第二百零一条).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from states.calendar import Due, WorkingCalendar
from states.errors import InvalidInput

MAX_PERIOD = 3650
COMPLAINT_WORKDAYS = 5
COMPLAINT_WORKDAYS_MULTI = 10

_FIELD = "期限规则"
_ACCEPTED = (
    "可用格式：fixed:YYYY-MM-DD（固定日期）、days:N（N 日）、workdays:N（N 个工作日）、"
    f"complaint（投诉反馈），N 为 1–{MAX_PERIOD} 的整数"
)
_PERIOD = re.compile(r"(days|workdays):([1-9][0-9]*)")
_FIXED = re.compile(r"fixed:(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True, slots=True)
class FixedDate:
    """A date the issuer wrote.

    It is kept as written even when it is a rest day: the rest-day roll of 民法典 第二百零三条
    applies to periods, and a fixed date is not a period.
    """

    on: datetime.date


@dataclass(frozen=True, slots=True)
class CalendarDays:
    """``n`` calendar days after the start; an end on a rest day moves to the next working day."""

    n: int


@dataclass(frozen=True, slots=True)
class WorkingDays:
    """``n`` working days after the start."""

    n: int


@dataclass(frozen=True, slots=True)
class Complaint:
    """Complaint feedback: 5 working days after receipt, 10 if several departments are involved."""


Rule = FixedDate | CalendarDays | WorkingDays | Complaint


def parse_rule(spec: str) -> Rule:
    """Parse a rule spec.

    Args:
        spec: ``fixed:YYYY-MM-DD``, ``days:N``, ``workdays:N`` or ``complaint``; N in 1..3650.

    Returns:
        The rule.

    Raises:
        InvalidInput: (field "期限规则") for anything else, listing the accepted forms.
    """
    if spec == "complaint":
        return Complaint()
    if fixed := _FIXED.fullmatch(spec):
        return FixedDate(_fixed_date(spec, fixed.group(1)))
    if period := _PERIOD.fullmatch(spec):
        n = int(period.group(2))
        if n <= MAX_PERIOD:
            return CalendarDays(n) if period.group(1) == "days" else WorkingDays(n)
    raise InvalidInput(_FIELD, spec, _ACCEPTED)


def format_rule(rule: Rule) -> str:
    """Return the spec of ``rule``; ``parse_rule(format_rule(r)) == r``."""
    match rule:
        case FixedDate(on):
            return f"fixed:{on.isoformat()}"
        case CalendarDays(n):
            return f"days:{n}"
        case WorkingDays(n):
            return f"workdays:{n}"
        case Complaint():
            return "complaint"


def describe_rule(rule: Rule) -> str:
    """Describe ``rule`` in Chinese, e.g. "10个工作日", "30日", "2026-12-31前"."""
    match rule:
        case FixedDate(on):
            return f"{on.isoformat()}前"
        case CalendarDays(n):
            return f"{n}日"
        case WorkingDays(n):
            return f"{n}个工作日"
        case Complaint():
            return f"投诉反馈：{COMPLAINT_WORKDAYS}个工作日（多科室{COMPLAINT_WORKDAYS_MULTI}个工作日）"


def compute_due(
    rule: Rule, start: datetime.date, departments_involved: int, calendar: WorkingCalendar
) -> Due:
    """Compute the due date of a rule.

    Args:
        rule: the rule.
        start: the start day (day of issue or of receipt); it is not counted.
        departments_involved: the number of departments involved; only ``Complaint`` uses it.
        calendar: the working calendar.

    Returns:
        The due date, flagged provisional when it depends on a year without official data.

    Raises:
        InvalidInput: if a date involved is outside the calendar.
    """
    match rule:
        case FixedDate(on):
            return Due(on, calendar.is_provisional(on))
        case CalendarDays(n):
            return calendar.add_days(start, n)
        case WorkingDays(n):
            return calendar.add_workdays(start, n)
        case Complaint():
            return calendar.add_workdays(start, _complaint_workdays(departments_involved))


def _complaint_workdays(departments_involved: int) -> int:
    """5 working days, or 10 when the complaint needs several departments to work it out."""
    return COMPLAINT_WORKDAYS if departments_involved <= 1 else COMPLAINT_WORKDAYS_MULTI


def _fixed_date(spec: str, text: str) -> datetime.date:
    """The date of a ``fixed:`` spec, or InvalidInput if it is not a real date."""
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(_FIELD, spec, f"「{text}」不是有效日期；{_ACCEPTED}") from None
