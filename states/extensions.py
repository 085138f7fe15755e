"""Extensions (延期申请): a lead department asks, a leader or the office decides.

An extension moves one target of an item and never its state; both the request and the decision
are recorded as events. Each public function is one transaction.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from states.audit import flush as _flush
from states.audit import iso as _iso
from states.audit import record as _record
from states.deadlines import FixedDate, format_rule
from states.errors import InvalidInput, InvalidTransition, NotFound
from states.lifecycle import OPEN_STATES
from states.model import Extension, Item
from states.permissions import Actor, leads, require
from states.queries import visible
from states.service import Env, get_item, notify
from states.store import transaction

EXTENSION_LABELS = {"pending": "待审批", "approved": "已批准", "denied": "已驳回"}


def extensions(session: Session, actor: Actor, *, pending_only: bool = False) -> list[Extension]:
    """Extension requests on items the actor may see, newest first."""
    q = select(Extension).order_by(Extension.id.desc())
    if pending_only:
        q = q.where(Extension.status == "pending")
    mine = visible(actor)
    if mine is not None:
        q = q.where(Extension.item_id.in_(select(Item.id).where(mine)))
    return list(session.scalars(q))


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
    require(actor, "request_extension", lead=leads(actor, item))
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
    if item.state not in OPEN_STATES:
        raise InvalidTransition(item.id, item.state, "decide_extension", "事项已办结，延期申请不再审批")
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
    notify(session.connection(), env, item.id, "extension_decided", f"x{ext.id}", now,
           {"approved": approve, "new_due": ext.requested_due.isoformat(), "reason": note})  # fmt: skip
    return ext


def _other_provisional(item: Item, env: Env, target: str) -> bool:
    other = "completion_due" if target == "measures_due" else "measures_due"
    due = getattr(item, other)
    return due is not None and env.calendar.is_provisional(due)
