"""Registering notices and items (登记), and recomputing deadlines when the calendar changes.

Each public function is one transaction: all items of a call are created, or none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from states.audit import iso as _iso
from states.audit import record as _record
from states.calendar import WorkingCalendar
from states.deadlines import compute_due, parse_rule
from states.errors import InvalidInput, NotFound
from states.lifecycle import OPEN_STATES
from states.model import Item, ItemDepartment, ItemEvent, Notice, User
from states.org import department_ids
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
    lead_leader_name: str | None = None
    """The lead leader's name as a list wrote it, when no user has it."""
    standard: str | None = None
    points: float | None = None
    responsible: str | None = None
    proposed_measures: Sequence[str] = ()


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
    ids = add_items(session, env, notice_id, specs, actor, now)
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_(ids)))}
    return [items[i] for i in ids]


def add_items(
    session: Session, env: Env, notice_id: int, specs: Sequence[ItemSpec], actor: Actor, now: dt.datetime
) -> list[int]:
    """Insert items, their departments and ``create`` events set-based, in the caller's transaction.

    Departments and leaders are looked up once for the whole batch, deadlines come from the
    calendar's index, and every table gets one multi-row INSERT: an import of 100,000 rows stays a
    handful of statements.

    Returns:
        The new items' ids, in the order of ``specs``.
    """
    require(actor, "create_item")
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFound("通报", notice_id)
    seq = session.scalar(select(func.coalesce(func.max(Item.seq), 0)).where(Item.notice_id == notice_id)) or 0
    departments = department_ids(
        session, [d for sp in specs for d in (*sp.lead_departments, *sp.cooperating_departments)]
    )
    leaders = _leader_ids(session, {sp.lead_leader for sp in specs if sp.lead_leader})
    rows, links = [], []
    for n, spec in enumerate(specs, start=1):
        row, lead_ids, coop_ids = _item_row(env, notice, spec, seq + n, now, departments, leaders)
        rows.append(row)
        links.append([(d, "lead") for d in lead_ids] + [(d, "cooperating") for d in coop_ids])
    if not rows:
        return []
    ids = list(session.execute(insert(Item).returning(Item.id, sort_by_parameter_order=True), rows).scalars())
    session.execute(insert(ItemDepartment), [{"item_id": i, "department_id": d, "role": r}
                                             for i, pairs in zip(ids, links, strict=True) for d, r in pairs])  # fmt: skip
    session.execute(insert(ItemEvent), [{"item_id": i, "actor_id": actor.id, "at": now, "action": "create",
                                         "to_state": "issued"} for i in ids])  # fmt: skip
    return ids


def _item_row(env: Env, notice: Notice, spec: ItemSpec, seq: int, now: dt.datetime, departments: dict[str, int],
              leaders: dict[str, int]) -> tuple[dict[str, Any], list[int], list[int]]:  # fmt: skip
    for field, value in (("问题", spec.title), ("方面", spec.category)):
        if not value.strip():
            raise InvalidInput(field, value, "不能为空")
    if not spec.lead_departments:
        raise InvalidInput("牵头科室", "", "至少需要一个牵头科室")
    leads = list(dict.fromkeys(departments[n.strip()] for n in spec.lead_departments))
    coops = [
        d
        for d in dict.fromkeys(departments[n.strip()] for n in spec.cooperating_departments)
        if d not in leads
    ]
    start = spec.start_on or notice.received_on
    dues = _dues(spec, start, len(leads) + len(coops), env.calendar)
    row = {
        "notice_id": notice.id, "seq": seq, "category": spec.category.strip(), "title": spec.title.strip(),
        "detail": spec.detail, "start_on": start, "created_at": now, "updated_at": now, "state": "issued", "version": 1,
        "lead_leader_id": leaders.get(spec.lead_leader) if spec.lead_leader else None,
        "lead_leader_name": spec.lead_leader_name, "standard": spec.standard, "points": spec.points,
        "responsible": spec.responsible, "proposed_measures": list(spec.proposed_measures) or None,
        "measures_rule": spec.measures_rule, "completion_rule": spec.completion_rule, **dues,
    }  # fmt: skip
    return row, leads, coops


def _dues(spec: ItemSpec, start: dt.date, involved: int, calendar: WorkingCalendar) -> dict[str, Any]:
    out: dict[str, Any] = {"measures_due": None, "completion_due": None, "provisional": False}
    for target, rule in (("measures_due", spec.measures_rule), ("completion_due", spec.completion_rule)):
        if rule is not None:
            due = compute_due(parse_rule(rule), start, involved, calendar)
            out[target] = due.date
            out["provisional"] |= due.provisional
    return out


def _leader_ids(session: Session, usernames: set[str]) -> dict[str, int]:
    """Lead leaders (牵头领导) by username; each must exist and be a leader."""
    if not usernames:
        return {}
    found = {u.username: u for u in session.scalars(select(User).where(User.username.in_(usernames)))}
    for name in sorted(usernames):
        if name not in found:
            raise NotFound("用户", name)
        if found[name].role != "leader":
            raise InvalidInput("牵头领导", name, "该用户不是院领导（leader）")
    return {name: u.id for name, u in found.items()}


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
