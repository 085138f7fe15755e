"""Service functions: the one way to change an item (唯一的状态变更入口).

Every function here is one database transaction: it checks permissions and guards, writes the
item (state, version, dates) and an append-only :class:`~states.model.ItemEvent` together, and
commits; on any error it rolls back and nothing is written. CLI, API, web and flows all call
these functions; no other code assigns ``Item.state``.

Concurrency: items carry a version column (SQLAlchemy ``version_id_col``). Each UPDATE says
``WHERE id = :id AND version = :read_version``; when two transitions race on one item, the
second finds no row and raises :class:`~states.errors.Conflict` after rolling back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from states.calendar import WorkingCalendar
from states.deadlines import FixedDate, compute_due, format_rule, parse_rule
from states.errors import Conflict, InvalidInput, InvalidTransition, ItemNotFound, NotFound
from states.lifecycle import ACTIONS, OPEN_STATES, REASON_REQUIRED, next_state
from states.model import Evidence, Extension, Item, ItemDepartment, ItemEvent, Notice
from states.org import department_ids, user_by_name
from states.permissions import Actor, refusal, require
from states.store import transaction

#: Why an action is refused from a state, when the machine has no edge (shown to users).
WHY_NOT: dict[str, str] = {
    "assign": "只有「已下发」的事项可以交办",
    "file_measures": "只有「已交办」的事项可以提交整改措施",
    "verify": "尚未提交整改措施",
    "reject": "只有「已提交措施」的事项可以退回",
    "close": "尚未核验",
    "reopen": "只有「已销号」的事项可以重新打开",
    "withdraw": "事项已办结",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Env:
    """What the services need besides the database: the calendar and the office's time zone."""

    calendar: WorkingCalendar
    tz: ZoneInfo = ZoneInfo("Asia/Shanghai")

    def local_date(self, now: dt.datetime) -> dt.date:
        """The calendar day of ``now`` (aware UTC) in the office's time zone."""
        return now.astimezone(self.tz).date()


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


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceFile:
    """A stored evidence file, as the edge saved it."""

    file_name: str
    size: int
    sha256: str
    stored_path: str


def get_item(session: Session, item_id: int) -> Item:
    """Load an item or raise :class:`ItemNotFound`."""
    item = session.get(Item, item_id)
    if item is None:
        raise ItemNotFound(item_id)
    return item


def _record(
    session: Session, item: Item, actor: Actor | None, now: dt.datetime, action: str, **kw: Any
) -> ItemEvent:
    event = ItemEvent(item_id=item.id, actor_id=actor.id if actor else None, at=now, action=action, **kw)
    session.add(event)
    return event


def _done(session: Session, item: Item, event: ItemEvent) -> Item:
    _flush(session, item.id, event.action)
    return item


def _flush(session: Session, item_id: int, action: str) -> None:
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict(item_id, action) from exc


def _move(
    session: Session,
    item_id: int,
    action: str,
    actor: Actor,
    now: dt.datetime,
    *,
    reason: str | None = None,
    expected_version: int | None = None,
    data: dict[str, Any] | None = None,
) -> tuple[Item, ItemEvent]:
    """Check and apply one lifecycle transition in the session; the caller flushes and commits.

    Raises:
        ItemNotFound: no such item.
        PermissionDenied: the actor may not take this action on this item.
        InvalidTransition: not allowed from the current state, or a required reason is missing.
        Conflict: the item changed since it was read (``expected_version`` or a concurrent write).
    """
    item = get_item(session, item_id)
    require(actor, action, item)
    if expected_version is not None and item.version != expected_version:
        raise Conflict(item_id, action)
    new = next_state(item.state, action)
    if new is None:
        raise InvalidTransition(item_id, item.state, action, WHY_NOT.get(action))
    if action in REASON_REQUIRED and not (reason and reason.strip()):
        raise InvalidTransition(item_id, item.state, action, "必须填写原因")
    old, item.state, item.updated_at = item.state, new, now
    event = _record(session, item, actor, now, action, from_state=old, to_state=new, reason=reason, data=data)
    return item, event


@transaction
def assign(
    session: Session,
    env: Env,
    item_id: int,
    actor: Actor,
    now: dt.datetime,
    *,
    note: str | None = None,
    expected_version: int | None = None,
) -> Item:
    """交办: hand an issued item to its lead departments (office)."""
    return _done(
        session,
        *_move(session, item_id, "assign", actor, now, reason=note, expected_version=expected_version),
    )


@transaction
def file_measures(
    session: Session,
    env: Env,
    item_id: int,
    actor: Actor,
    now: dt.datetime,
    *,
    measures: str,
    evidence: Sequence[EvidenceFile] = (),
    expected_version: int | None = None,
) -> Item:
    """提交整改措施: a lead department files what it did, with evidence files.

    Raises:
        InvalidTransition: the measures text is empty, or the item is not assigned.
    """
    if not measures.strip():
        raise InvalidTransition(
            item_id, get_item(session, item_id).state, "file_measures", "必须填写整改措施"
        )
    files = [{"file_name": f.file_name, "sha256": f.sha256, "size": f.size} for f in evidence]
    item, event = _move(
        session,
        item_id,
        "file_measures",
        actor,
        now,
        expected_version=expected_version,
        data={"measures": measures, "evidence": files},
    )
    item.measures, item.measures_filed_on = measures.strip(), env.local_date(now)
    _flush(session, item_id, "file_measures")
    for f in evidence:
        session.add(
            Evidence(
                item_id=item.id,
                event_id=event.id,
                file_name=f.file_name,
                size=f.size,
                sha256=f.sha256,
                stored_path=f.stored_path,
                uploaded_by=actor.id,
                uploaded_at=now,
            )
        )
    session.flush()
    return item


@transaction
def verify(
    session: Session,
    env: Env,
    item_id: int,
    actor: Actor,
    now: dt.datetime,
    *,
    note: str | None = None,
    expected_version: int | None = None,
) -> Item:
    """核验通过: the office accepts the filed measures."""
    return _done(
        session,
        *_move(session, item_id, "verify", actor, now, reason=note, expected_version=expected_version),
    )


@transaction
def reject(
    session: Session,
    env: Env,
    item_id: int,
    actor: Actor,
    now: dt.datetime,
    *,
    reason: str,
    expected_version: int | None = None,
) -> Item:
    """退回: send filed measures back to the department, with the reason."""
    return _done(
        session,
        *_move(session, item_id, "reject", actor, now, reason=reason, expected_version=expected_version),
    )


@transaction
def close(
    session: Session,
    env: Env,
    item_id: int,
    actor: Actor,
    now: dt.datetime,
    *,
    note: str | None = None,
    expected_version: int | None = None,
) -> Item:
    """销号: close a verified item; the closure day decides whether it was on time."""
    item = _move(session, item_id, "close", actor, now, reason=note, expected_version=expected_version)[0]
    item.closed_on = env.local_date(now)
    _flush(session, item_id, "close")
    return item


@transaction
def reopen(
    session: Session,
    env: Env,
    item_id: int,
    actor: Actor,
    now: dt.datetime,
    *,
    reason: str,
    expected_version: int | None = None,
) -> Item:
    """重新打开: a re-check (回头看) found a relapse; the item goes back to its department."""
    item = _move(session, item_id, "reopen", actor, now, reason=reason, expected_version=expected_version)[0]
    item.closed_on = None
    _flush(session, item_id, "reopen")
    return item


@transaction
def withdraw(
    session: Session,
    env: Env,
    item_id: int,
    actor: Actor,
    now: dt.datetime,
    *,
    reason: str,
    expected_version: int | None = None,
) -> Item:
    """撤销: withdraw an open item (terminal), with the reason."""
    return _done(
        session,
        *_move(session, item_id, "withdraw", actor, now, reason=reason, expected_version=expected_version),
    )


#: Past-tense labels of the actions, for confirmations (事项 3 已交办).
ACTION_DONE = {
    "assign": "交办",
    "file_measures": "提交整改措施",
    "verify": "核验通过",
    "reject": "退回",
    "close": "销号",
    "reopen": "重新打开",
    "withdraw": "撤销",
}

EXTENSION_LABELS = {"pending": "待审批", "approved": "已批准", "denied": "已驳回"}


def available_actions(item: Item, actor: Actor) -> list[str]:
    """The actions ``actor`` may take on ``item`` now: allowed from its state and by role.

    This is what a UI shows as buttons; a service call for any other action is refused.
    """
    actions = [a for a in ACTIONS if next_state(item.state, a) and refusal(actor, a, item) is None]
    if item.state in OPEN_STATES and refusal(actor, "request_extension", item) is None:
        actions.append("request_extension")
    return actions


def extensions(session: Session, *, pending_only: bool = False) -> list[Extension]:
    """Extension requests, newest first."""
    q = select(Extension).order_by(Extension.id.desc())
    if pending_only:
        q = q.where(Extension.status == "pending")
    return list(session.scalars(q))


LIFECYCLE: dict[str, Callable[..., Item]] = {
    "assign": assign,
    "file_measures": file_measures,
    "verify": verify,
    "reject": reject,
    "close": close,
    "reopen": reopen,
    "withdraw": withdraw,
}


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
    if not spec.title.strip():
        raise InvalidInput("问题", spec.title, "不能为空")
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
    if not username:
        return None
    return user_by_name(session, username).id


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
def request_extension(
    session: Session,
    env: Env,
    item_id: int,
    actor: Actor,
    now: dt.datetime,
    *,
    target: str,
    new_due: dt.date,
    reason: str,
) -> Extension:
    """延期申请: a lead department asks to move one target to a later date.

    Raises:
        InvalidInput: unknown target, no reason, a date not after the current one.
        InvalidTransition: the item is closed or withdrawn, or a request is already pending.
    """
    item = get_item(session, item_id)
    require(actor, "request_extension", item)
    current = _check_extension_request(session, item, target, new_due, reason)
    ext = Extension(
        item_id=item.id,
        target=target,
        current_due=current,
        requested_due=new_due,
        reason=reason.strip(),
        requested_by=actor.id,
        requested_at=now,
    )
    session.add(ext)
    _record(
        session,
        item,
        actor,
        now,
        "request_extension",
        from_state=item.state,
        to_state=item.state,
        reason=reason,
        data={"target": target, "from": _iso(current), "to": new_due.isoformat()},
    )
    session.flush()
    return ext


def _check_extension_request(
    session: Session, item: Item, target: str, new_due: dt.date, reason: str
) -> dt.date:
    if target not in ("measures_due", "completion_due"):
        raise InvalidInput("期限类型", target, "应为 measures_due（整改措施）或 completion_due（整改完成）")
    if item.state not in OPEN_STATES:
        raise InvalidTransition(item.id, item.state, "request_extension", "事项已办结")
    current = getattr(item, target)
    if current is None:
        raise InvalidInput("期限类型", target, "该事项没有这项期限")
    if new_due <= current:
        raise InvalidInput("延期至", new_due.isoformat(), f"须晚于当前期限 {current.isoformat()}")
    if not reason.strip():
        raise InvalidInput("延期理由", reason, "不能为空")
    pending = select(Extension.id).where(
        Extension.item_id == item.id, Extension.target == target, Extension.status == "pending"
    )
    if session.scalar(pending) is not None:
        raise InvalidTransition(item.id, item.state, "request_extension", "已有待审批的延期申请")
    return current


@transaction
def decide_extension(
    session: Session,
    env: Env,
    extension_id: int,
    actor: Actor,
    now: dt.datetime,
    *,
    approve: bool,
    note: str | None = None,
) -> Extension:
    """审批延期: a leader or the office approves (the target moves) or denies a pending request.

    An approved date becomes the target's rule (a fixed date), so a later recomputation keeps it.
    """
    require(actor, "decide_extension")
    ext = session.get(Extension, extension_id)
    if ext is None:
        raise NotFound("延期申请", extension_id)
    item = get_item(session, ext.item_id)
    if ext.status != "pending":
        raise InvalidTransition(item.id, item.state, "decide_extension", "该申请已审批")
    ext.status, ext.decided_by, ext.decided_at, ext.decision_note = (
        "approved" if approve else "denied",
        actor.id,
        now,
        note,
    )
    if approve:
        setattr(item, ext.target, ext.requested_due)
        setattr(item, ext.target.replace("_due", "_rule"), format_rule(FixedDate(ext.requested_due)))
        item.provisional = env.calendar.is_provisional(ext.requested_due) or _other_provisional(
            item, env, ext.target
        )
        item.updated_at = now
    _record(
        session,
        item,
        actor,
        now,
        "approve_extension" if approve else "deny_extension",
        from_state=item.state,
        to_state=item.state,
        reason=note,
        data={
            "extension_id": ext.id,
            "target": ext.target,
            "from": _iso(ext.current_due),
            "to": ext.requested_due.isoformat(),
        },
    )
    _flush(session, item.id, "decide_extension")
    return ext


def _other_provisional(item: Item, env: Env, target: str) -> bool:
    other = "completion_due" if target == "measures_due" else "measures_due"
    due = getattr(item, other)
    return due is not None and env.calendar.is_provisional(due)


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


def _iso(d: dt.date | None) -> str | None:
    return None if d is None else d.isoformat()
