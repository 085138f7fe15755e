"""The read side: item views, the overdue ledger (台账) and per-department figures.

Everything here takes ``today`` (the office's calendar day, derived from the injected clock at
the edge) and answers in set-based queries; nothing here writes.

Definitions the figures use:

- the *pending target* of an open item is ``measures_due`` until measures are filed (or
  ``completion_due`` when it has no measures target), then ``completion_due``;
- an item is *overdue* when its pending target is before ``today``; its overdue working days
  are the working days in (target, today];
- a closed item was *closed on time* when its closure day is not after its last target
  (``completion_due``, else ``measures_due``; an item without targets is on time);
- withdrawn items (撤销) count in no rate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session, lazyload

from states.calendar import WorkingCalendar
from states.errors import STATE_LABELS
from states.lifecycle import OPEN_STATES
from states.model import Department, Escalation, Item, ItemDepartment, ItemEvent, Notice, User
from states.permissions import ROLES_SEEING_ALL, Actor

BEFORE_MEASURES = ("issued", "assigned")
AFTER_MEASURES = ("measures_filed", "verified")

PENDING_DUE: ColumnElement[dt.date | None] = case(
    (Item.state.in_(BEFORE_MEASURES), func.coalesce(Item.measures_due, Item.completion_due)),
    (Item.state.in_(AFTER_MEASURES), Item.completion_due),
    else_=None,
)
FINAL_DUE = func.coalesce(Item.completion_due, Item.measures_due)
CLOSED_ON_TIME = and_(Item.state == "closed", or_(FINAL_DUE.is_(None), Item.closed_on <= FINAL_DUE))


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemView:
    """One row of the ledger, as every interface shows it."""

    id: int
    notice_id: int
    seq: int
    category: str
    title: str
    state: str
    state_label: str
    lead_departments: list[str]
    cooperating_departments: list[str]
    lead_leader: str | None
    measures_due: dt.date | None
    completion_due: dt.date | None
    provisional: bool
    pending_target: str | None
    pending_due: dt.date | None
    overdue_workdays: int
    closed_on: dt.date | None
    closed_on_time: bool | None
    version: int
    light: str | None
    """Traffic light (红绿灯): ``red`` overdue, ``yellow`` due within 2 working days, ``green`` on track."""

    def as_json(self) -> dict[str, Any]:
        return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in asdict(self).items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class DepartmentStats:
    """Closure figures of one lead department (or of all items, as 合计)."""

    department: str
    total: int
    closed: int
    closed_on_time: int
    overdue: int
    withdrawn: int

    @property
    def closure_rate(self) -> float:
        return round(self.closed / self.total, 4) if self.total else 0.0

    @property
    def on_time_rate(self) -> float:
        """Share of closed items that were closed on time."""
        return round(self.closed_on_time / self.closed, 4) if self.closed else 0.0

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"closure_rate": self.closure_rate, "on_time_rate": self.on_time_rate}


def pending(item: Item) -> tuple[str | None, dt.date | None]:
    """The pending target of an item and its date (``(None, None)`` when done or without targets)."""
    if item.state in BEFORE_MEASURES and item.measures_due is not None:
        return "measures_due", item.measures_due
    if item.state in OPEN_STATES and item.completion_due is not None:
        return "completion_due", item.completion_due
    return None, None


def overdue_workdays(due: dt.date | None, today: dt.date, calendar: WorkingCalendar) -> int:
    """Working days in (due, today], or 0 when nothing is due or the target is not passed."""
    if due is None or today <= due:
        return 0
    return calendar.workdays_between(due, today)


#: Working days before a pending target at which the light turns yellow.
YELLOW_WORKDAYS = 2
LIGHT_LABELS = {"red": "红", "yellow": "黄", "green": "绿"}


def light(due: dt.date | None, overdue: int, today: dt.date, calendar: WorkingCalendar) -> str | None:
    """红 overdue, 黄 due within :data:`YELLOW_WORKDAYS` working days (today included), 绿 on track."""
    if due is None:
        return None
    if overdue > 0:
        return "red"
    return "yellow" if calendar.workdays_between(today, due) <= YELLOW_WORKDAYS else "green"


#: Department names of an item: (lead, cooperating), each in department order.
Names = tuple[list[str], list[str]]


def view(item: Item, today: dt.date, calendar: WorkingCalendar, names: Names | None = None) -> ItemView:
    """The ledger row of ``item``; ``names`` saves loading its departments when a list read them at once."""
    leads, coops = names if names is not None else (item.lead_names, item.cooperating_names)
    target, due = pending(item)
    late = overdue_workdays(due, today, calendar)
    final = item.completion_due or item.measures_due
    on_time = None if item.closed_on is None else (final is None or item.closed_on <= final)
    return ItemView(
        id=item.id,
        notice_id=item.notice_id,
        seq=item.seq,
        category=item.category,
        title=item.title,
        state=item.state,
        state_label=STATE_LABELS[item.state],
        lead_departments=leads,
        cooperating_departments=coops,
        lead_leader=item.lead_leader.name if item.lead_leader else None,
        measures_due=item.measures_due,
        completion_due=item.completion_due,
        provisional=item.provisional,
        pending_target=target,
        pending_due=due,
        overdue_workdays=late,
        closed_on=item.closed_on,
        closed_on_time=on_time,
        version=item.version,
        light=light(due, late, today, calendar),
    )


def _visible(actor: Actor) -> ColumnElement[bool] | None:
    if actor.role in ROLES_SEEING_ALL:
        return None
    mine = select(ItemDepartment.item_id).where(ItemDepartment.department_id == actor.department_id)
    return Item.id.in_(mine)


def list_items(
    session: Session,
    calendar: WorkingCalendar,
    actor: Actor,
    today: dt.date,
    *,
    notice_id: int | None = None,
    department: str | None = None,
    state: str | None = None,
    overdue: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[ItemView]:
    """Items the actor may see, filtered, in notice and sequence order.

    Args:
        department: only items this department leads or helps with.
        state: only items in this state.
        overdue: only open items whose pending target is before ``today``.
        limit: at most this many items (a page); all by default.
        offset: skip this many items first (with ``limit``, the page's start).
    """
    q = select(Item).options(lazyload(Item.departments)).order_by(Item.notice_id, Item.seq)
    q = q.where(*_item_filters(calendar, actor, today, notice_id, department, state, overdue))
    if limit is not None:
        q = q.limit(limit)
    if offset:
        q = q.offset(offset)
    items = list(session.scalars(q))
    names = department_names(session, [i.id for i in items])
    return [view(i, today, calendar, names.get(i.id, ([], []))) for i in items]


#: Ids per ``IN (…)`` when reading a list's department names.
CHUNK = 500


def department_names(session: Session, ids: list[int]) -> dict[int, Names]:
    """Lead and cooperating department names of many items, in two columns read per chunk of ids
    (one plain query instead of building an ORM object per department link)."""
    out: dict[int, Names] = {}
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(ItemDepartment.item_id, ItemDepartment.role, Department.name)
            .join(Department, Department.id == ItemDepartment.department_id)
            .where(ItemDepartment.item_id.in_(ids[start : start + CHUNK]))
            .order_by(ItemDepartment.item_id, ItemDepartment.role.desc(), ItemDepartment.department_id)
        )
        for item_id, role, name in rows:
            leads, coops = out.setdefault(item_id, ([], []))
            (leads if role == "lead" else coops).append(name)
    return out


def count_items(
    session: Session,
    calendar: WorkingCalendar,
    actor: Actor,
    today: dt.date,
    *,
    notice_id: int | None = None,
    department: str | None = None,
    state: str | None = None,
    overdue: bool = False,
) -> int:
    """How many items :func:`list_items` finds with the same filters, without a page."""
    q = select(func.count(Item.id)).where(
        *_item_filters(calendar, actor, today, notice_id, department, state, overdue)
    )
    return int(session.scalar(q) or 0)


def _item_filters(calendar: WorkingCalendar, actor: Actor, today: dt.date, notice_id: int | None,
                  department: str | None, state: str | None, overdue: bool) -> list[ColumnElement[bool]]:  # fmt: skip
    """The conditions of :func:`list_items` and :func:`count_items`."""
    conditions = [
        _visible(actor),
        Item.notice_id == notice_id if notice_id is not None else None,
        Item.state == state if state else None,
        PENDING_DUE < overdue_cutoff(calendar, today) if overdue else None,
    ]
    if department:
        dept_items = select(ItemDepartment.item_id).join(Department).where(Department.name == department)
        conditions.append(Item.id.in_(dept_items))
    return [c for c in conditions if c is not None]


def overdue_cutoff(calendar: WorkingCalendar, today: dt.date) -> dt.date:
    """Pending targets before this date are overdue: at least one working day has passed since.

    It is the last working day on or before ``today``, so a target that fell just before a
    holiday is not overdue during the holiday (0 overdue working days).
    """
    return calendar.workday_at(calendar.ordinal(today))


def _counts(cutoff: dt.date) -> tuple[Any, ...]:
    return (
        func.count(Item.id).filter(Item.state != "withdrawn"),
        func.count(Item.id).filter(Item.state == "closed"),
        func.count(Item.id).filter(CLOSED_ON_TIME),
        func.count(Item.id).filter(PENDING_DUE < cutoff),
        func.count(Item.id).filter(Item.state == "withdrawn"),
    )


def _stats(name: str, row: Any) -> DepartmentStats:
    total, closed, on_time, overdue, withdrawn = row
    return DepartmentStats(
        department=name,
        total=total,
        closed=closed,
        closed_on_time=on_time,
        overdue=overdue,
        withdrawn=withdrawn,
    )


def department_stats(
    session: Session, calendar: WorkingCalendar, actor: Actor, today: dt.date
) -> list[DepartmentStats]:
    """Per lead department: items, closed, closed on time, overdue as of ``today``, withdrawn.

    An item with several lead departments counts for each of them. A department member sees only
    the row of their own department.
    """
    q = (
        select(Department.name, *_counts(overdue_cutoff(calendar, today)))
        .join(ItemDepartment, ItemDepartment.department_id == Department.id)
        .join(Item, Item.id == ItemDepartment.item_id)
        .where(ItemDepartment.role == "lead")
        .group_by(Department.id, Department.name)
        .order_by(Department.id)
    )
    if actor.role not in ROLES_SEEING_ALL:
        q = q.where(Department.id == actor.department_id)
    return [_stats(r[0], r[1:]) for r in session.execute(q)]


def overall_stats(
    session: Session, calendar: WorkingCalendar, actor: Actor, today: dt.date, label: str = "合计"
) -> DepartmentStats:
    """The same figures over every item the actor may see, each item counted once."""
    q = select(*_counts(overdue_cutoff(calendar, today)))
    visible = _visible(actor)
    if visible is not None:
        q = q.where(visible)
    return _stats(label, session.execute(q).one())


def visible(actor: Actor) -> ColumnElement[bool] | None:
    """A filter on items for what ``actor`` may see (``None``: everything)."""
    return _visible(actor)


def notices(session: Session, actor: Actor) -> list[Notice]:
    """Notices the actor may see: all, or for a department those holding one of its items."""
    q = select(Notice).order_by(Notice.id)
    mine = _visible(actor)
    if mine is not None:
        q = q.where(Notice.id.in_(select(Item.notice_id).where(mine)))
    return list(session.scalars(q))


def escalations(session: Session, item_id: int) -> list[Escalation]:
    """The levels the item reached (催办、督办、约谈), oldest first."""
    q = select(Escalation).where(Escalation.item_id == item_id).order_by(Escalation.created_at, Escalation.id)
    return list(session.scalars(q))


def events(session: Session, item_id: int) -> list[tuple[ItemEvent, str | None]]:
    """The item's events, oldest first, with the actor's name."""
    q = (
        select(ItemEvent, User.name)
        .outerjoin(User, User.id == ItemEvent.actor_id)
        .where(ItemEvent.item_id == item_id)
        .order_by(ItemEvent.id)
    )
    return [(e, name) for e, name in session.execute(q).tuples()]
