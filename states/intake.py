"""Registering notices and items (登记), and recomputing deadlines when the calendar changes.

Each public function is one transaction: all items of a call are created, or none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from states.audit import iso as _iso
from states.audit import record as _record
from states.calendar import WorkingCalendar
from states.deadlines import compute_due, parse_rule
from states.errors import InvalidInput, NotFound
from states.lifecycle import OPEN_STATES
from states.model import Item, ItemDepartment, Notice
from states.org import department_ids, user_by_name
from states.permissions import Actor, require
from states.service import Env
from states.store import transaction


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemSpec:
    """What an office registers for one problem (one item)."""

    category: str
    """Area (方面), e.g. 医疗方面."""
    title: str
    detail: str | None = None
    lead_departments: Sequence[str]
    """牵头科室: one or more department names."""
    cooperating_departments: Sequence[str] = ()
    lead_leader: str | None = None
    """Username of the accountable leader (牵头领导)."""
    measures_rule: str | None = None
    """Deadline rule of the measures target, e.g. ``workdays:10`` (see :mod:`states.deadlines`)."""
    completion_rule: str | None = None
    start_on: dt.date | None = None
    """Day the period starts from (not counted); the notice's received date by default."""


@transaction
def create_notice(
    session: Session,
    env: Env,
    actor: Actor,
    now: dt.datetime,
    *,
    title: str,
    issuer: str,
    received_on: dt.date,
    doc_number: str | None = None,
) -> Notice:
    """登记通报: register a notice (office)."""
    require(actor, "create_notice")
    for field, value in (("标题", title), ("发文单位", issuer)):
        if not value.strip():
            raise InvalidInput(field, value, "不能为空")
    if not env.calendar.first <= received_on <= env.calendar.last:
        raise InvalidInput(
            "收文日期", received_on, f"超出工作日历范围（{env.calendar.first} 至 {env.calendar.last}）"
        )
    notice = Notice(
        title=title.strip(),
        issuer=issuer.strip(),
        doc_number=doc_number,
        received_on=received_on,
        created_at=now,
        created_by=actor.id,
    )
    session.add(notice)
    session.flush()
    return notice


@transaction
def create_items(
    session: Session, env: Env, notice_id: int, specs: Sequence[ItemSpec], actor: Actor, now: dt.datetime
) -> list[Item]:
    """登记事项: add items to a notice, all or none, each with its deadlines computed.

    Raises:
        NotFound: the notice, a department or the lead leader does not exist.
        InvalidInput: no lead department, an unknown deadline rule, an empty title.
    """
    require(actor, "create_item")
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFound("通报", notice_id)
    seq = session.scalar(select(func.coalesce(func.max(Item.seq), 0)).where(Item.notice_id == notice_id)) or 0
    items = [_new_item(session, env, notice, spec, seq + n, now) for n, spec in enumerate(specs, start=1)]
    session.flush()
    for item in items:
        _record(session, item, actor, now, "create", to_state=item.state)
    session.flush()
    return items


def _new_item(session: Session, env: Env, notice: Notice, spec: ItemSpec, seq: int, now: dt.datetime) -> Item:
    for field, value in (("问题", spec.title), ("方面", spec.category)):
        if not value.strip():
            raise InvalidInput(field, value, "不能为空")
    if not spec.lead_departments:
        raise InvalidInput("牵头科室", "", "至少需要一个牵头科室")
    ids = department_ids(session, [*spec.lead_departments, *spec.cooperating_departments])
    leads = {n: ids[n.strip()] for n in spec.lead_departments}
    coops = {n: ids[n.strip()] for n in spec.cooperating_departments if n not in leads}
    item = Item(
        notice_id=notice.id,
        seq=seq,
        category=spec.category.strip(),
        title=spec.title.strip(),
        detail=spec.detail,
        start_on=spec.start_on or notice.received_on,
        created_at=now,
        updated_at=now,
        lead_leader_id=_leader_id(session, spec.lead_leader),
        measures_rule=spec.measures_rule,
        completion_rule=spec.completion_rule,
    )
    item.departments = [ItemDepartment(department_id=i, role="lead") for i in leads.values()] + [
        ItemDepartment(department_id=i, role="cooperating") for i in coops.values()
    ]
    _apply_rules(item, env.calendar, len(leads) + len(coops))
    session.add(item)
    return item


def _leader_id(session: Session, username: str | None) -> int | None:
    """The lead leader (牵头领导) must be a leader."""
    if not username:
        return None
    user = user_by_name(session, username)
    if user.role != "leader":
        raise InvalidInput("牵头领导", username, "该用户不是院领导（leader）")
    return user.id


def _apply_rules(item: Item, calendar: WorkingCalendar, departments_involved: int) -> bool:
    """Compute both targets from their rules; return True when a date changed."""
    provisional, changed = False, False
    for target in ("measures_due", "completion_due"):
        spec = getattr(item, target.replace("_due", "_rule"))
        if spec is None:
            continue
        due = compute_due(parse_rule(spec), item.start_on, departments_involved, calendar)
        changed |= getattr(item, target) != due.date
        setattr(item, target, due.date)
        provisional |= due.provisional
    item.provisional = provisional
    return changed


@transaction
def recompute_deadlines(session: Session, env: Env, actor: Actor, now: dt.datetime) -> list[int]:
    """Recompute the targets of open provisional items after new calendar data arrived.

    Each changed item gets a ``recompute_deadlines`` event with the old and new dates.

    Returns:
        The ids of the items whose dates changed.
    """
    require(actor, "recompute_deadlines")
    rows = session.scalars(select(Item).where(Item.provisional.is_(True), Item.state.in_(OPEN_STATES))).all()
    changed = []
    for item in rows:
        before = {"measures_due": _iso(item.measures_due), "completion_due": _iso(item.completion_due)}
        if _apply_rules(item, env.calendar, len(item.departments)):
            item.updated_at = now
            after = {"measures_due": _iso(item.measures_due), "completion_due": _iso(item.completion_due)}
            _record(
                session,
                item,
                actor,
                now,
                "recompute_deadlines",
                from_state=item.state,
                to_state=item.state,
                data={"before": before, "after": after},
            )
            changed.append(item.id)
    session.flush()
    return changed
