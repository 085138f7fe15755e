"""The leaders' dashboard (督办看板): the figures of :mod:`states.queries` in one answer.

It reuses the ledger's rules (closure rate, on-time rate, overdue) and adds a weekly trend and the
most overdue items. Cost: the per-department GROUP BY of :func:`~states.queries.department_stats`
reads every lead link; the rest reads indexes only:

- the overall figures (:func:`~states.queries.overall_stats`) scan (on SQLite) the covering index
  ``ix_items_state_closed_on``, not the table;
- the trend is one GROUP BY over the items closed since the window's first day (a range of
  ``ix_items_state_closed_on``);
- the overdue list is the ``PENDING_DUE < cutoff`` rule split into ranges of the two due-date
  indexes, each read in due order and cut at the limit, so it costs O(limit) however many items
  are overdue.

The trend's cumulative closure rate at a week's end is the share of today's items (not
withdrawn) that were closed by then and are closed still: the closed items now minus those
closed after that day, over the items now. The last week's rate thus equals today's closure rate
when nothing was closed since that week ended.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, union_all
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload

from states.calendar import WorkingCalendar
from states.errors import PermissionDenied
from states.model import Item
from states.permissions import ROLES_SEEING_ALL, Actor
from states.queries import (
    AFTER_MEASURES,
    BEFORE_MEASURES,
    DepartmentStats,
    ItemView,
    department_stats,
    overall_stats,
    overdue_cutoff,
    view,
)

WEEKS = 12
OVERDUE_LIMIT = 50
WEEK = dt.timedelta(days=7)

#: A pending due date column and the conditions of one overdue range.
OverdueRange = tuple[InstrumentedAttribute[dt.date | None], tuple[ColumnElement[bool], ...]]


@dataclass(frozen=True, slots=True, kw_only=True)
class TrendPoint:
    """One ISO week (Monday to Sunday): items closed in it and the cumulative closure rate at its end."""

    week: str
    """ISO week, e.g. ``2026-W38``."""
    start: dt.date
    end: dt.date
    closed: int
    closed_by_end: int
    closure_rate: float

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass(frozen=True, slots=True, kw_only=True)
class Dashboard:
    """What the leaders see: overall figures, lead departments, the weekly trend, the most overdue items."""

    today: dt.date
    overall: DepartmentStats
    departments: tuple[DepartmentStats, ...]
    trend: tuple[TrendPoint, ...]
    overdue: tuple[ItemView, ...]
    """The most overdue open items (earliest pending target first), at most ``overdue_limit``."""
    overdue_limit: int

    def as_json(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "overall": self.overall.as_json(),
            "departments": [d.as_json() for d in self.departments],
            "trend": [p.as_json() for p in self.trend],
            "overdue": [v.as_json() for v in self.overdue],
            "overdue_limit": self.overdue_limit,
        }


def dashboard(
    session: Session,
    calendar: WorkingCalendar,
    actor: Actor,
    today: dt.date,
    *,
    weeks: int = WEEKS,
    overdue_limit: int = OVERDUE_LIMIT,
) -> Dashboard:
    """The dashboard as of ``today`` (leaders, the office and admins).

    Args:
        weeks: ISO weeks in the trend, the last one being the last week ended on or before ``today``.
        overdue_limit: most overdue items listed (the overdue count covers all of them).

    Raises:
        PermissionDenied: a department member (the dashboard shows every department).
    """
    if actor.role not in ROLES_SEEING_ALL:
        raise PermissionDenied(actor.username, "view_dashboard", "仅院领导、督查办和管理员可以查看")
    overall = overall_stats(session, calendar, actor, today)
    return Dashboard(
        today=today,
        overall=overall,
        departments=tuple(department_stats(session, calendar, actor, today)),
        trend=tuple(trend(session, overall, today, weeks)),
        overdue=tuple(most_overdue(session, calendar, today, overdue_limit)),
        overdue_limit=overdue_limit,
    )


def week_ends(today: dt.date, weeks: int) -> list[dt.date]:
    """The Sundays ending the last ``weeks`` ISO weeks that ended on or before ``today``, oldest first."""
    last = today - dt.timedelta(days=today.isoweekday() % 7)
    return [last - k * WEEK for k in reversed(range(weeks))]


def trend(session: Session, overall: DepartmentStats, today: dt.date, weeks: int) -> list[TrendPoint]:
    """Items closed in each week and the cumulative closure rate at its end (see the module's docstring)."""
    ends = week_ends(today, weeks)
    if not ends:
        return []
    first = ends[0] - dt.timedelta(days=6)
    rows = session.execute(
        select(Item.closed_on, func.count())
        .where(Item.state == "closed", Item.closed_on >= first)
        .group_by(Item.closed_on)
    ).tuples()
    per_day: dict[dt.date, int] = {day: n for day, n in rows if day is not None}
    points = []
    for end in ends:
        start = end - dt.timedelta(days=6)
        # max(): on PostgreSQL a closure committed between the two statements must not go below zero.
        by_end = max(overall.closed - sum(n for day, n in per_day.items() if day > end), 0)
        year, week, _ = end.isocalendar()
        points.append(TrendPoint(
            week=f"{year}-W{week:02d}", start=start, end=end,
            closed=sum(n for day, n in per_day.items() if start <= day <= end),
            closed_by_end=by_end, closure_rate=replace(overall, closed=by_end).closure_rate,
        ))  # fmt: skip
    return points


def overdue_ranges(cutoff: dt.date) -> list[OverdueRange]:
    """``PENDING_DUE < cutoff`` as disjoint (pending due column, conditions) ranges.

    Each is an equality on the state, then (for items without a measures target) ``measures_due IS
    NULL``, then a range on one due date: a prefix of ``ix_items_state_measures_due`` or
    ``ix_items_state_completion_due``, which also yields the rows in due order.
    """
    ranges: list[OverdueRange] = []
    for state in BEFORE_MEASURES:
        ranges.append((Item.measures_due, (Item.state == state, Item.measures_due < cutoff)))
        ranges.append((Item.completion_due, (Item.state == state, Item.measures_due.is_(None),
                                             Item.completion_due < cutoff)))  # fmt: skip
    for state in AFTER_MEASURES:
        ranges.append((Item.completion_due, (Item.state == state, Item.completion_due < cutoff)))
    return ranges


def most_overdue_ids(cutoff: dt.date, limit: int) -> Select[tuple[int]]:
    """Ids of the ``limit`` open items with the earliest pending targets before ``cutoff``."""
    parts = [
        select(Item.id, due.label("due")).where(*conditions).order_by(due, Item.id).limit(limit).subquery()
        for due, conditions in overdue_ranges(cutoff)
    ]
    merged = union_all(*(select(p.c.id, p.c.due) for p in parts)).subquery()
    return select(merged.c.id).order_by(merged.c.due, merged.c.id).limit(limit)


def most_overdue(session: Session, calendar: WorkingCalendar, today: dt.date, limit: int) -> list[ItemView]:
    """The ``limit`` most overdue open items as ledger rows, most overdue first."""
    ids: Sequence[int] = session.scalars(most_overdue_ids(overdue_cutoff(calendar, today), limit)).all()
    if not ids:
        return []
    loaded = session.scalars(select(Item).where(Item.id.in_(ids)).options(joinedload(Item.lead_leader)))
    by_id = {item.id: item for item in loaded}
    return [view(by_id[i], today, calendar) for i in ids]
