"""Lifecycle service functions: the one way to change an item's state (唯一的状态变更入口).

Every function here is one database transaction: it checks the actor's permission and the
machine's table, writes the item (state, version, dates) and an append-only event together, and
commits; on any error it rolls back and nothing is written. CLI, API, web and flows all call
these functions; no other code writes ``items.state``.

The write path is three statements compiled once: read ``state, version``; ``UPDATE items …
WHERE id = :id AND version = :read_version RETURNING version``; ``INSERT`` the event. When two
transitions race on one item, the second UPDATE finds no row (PostgreSQL re-checks the version
after the first commits; SQLite serialises writers) and raises :class:`~states.errors.Conflict`.
``RETURNING`` tells the loser, not ``rowcount`` (which psycopg 3 reports unreliably).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Integer, bindparam, exists, insert, literal, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.util import identity_key

from states.calendar import WorkingCalendar
from states.errors import ACTION_LABELS, Conflict, InvalidInput, InvalidTransition, ItemNotFound
from states.lifecycle import ACTIONS, OPEN_STATES, REASON_REQUIRED, next_state
from states.model import Evidence, Item, ItemDepartment, ItemEvent, ReportRequest, UTCDateTime
from states.outbox import Delivery, Notice, enqueue, send_slot, single_item
from states.permissions import OWN_DEPARTMENT_ACTIONS, Actor, leads, refusal, require
from states.store import transaction

#: Transitions that tell the lead department, and the message kind they queue.
NOTIFY = {"assign": "assigned", "reject": "sent_back", "close": "closed"}

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
#: Why nothing but ``reopen`` is possible once an item is done.
DONE_WHY = {"closed": "事项已销号", "withdrawn": "事项已撤销"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Env:
    """What the services need besides the database: the calendar and the office's time zone."""

    calendar: WorkingCalendar
    tz: ZoneInfo = ZoneInfo("Asia/Shanghai")
    delivery: Delivery | None = None
    """How to notify people of transitions (交办、退回、销号、延期审批); ``None`` queues nothing."""

    def local_date(self, now: dt.datetime) -> dt.date:
        """The calendar day of ``now`` (aware UTC) in the office's time zone."""
        return now.astimezone(self.tz).date()


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceFile:
    """A stored evidence file, as the edge saved it."""

    file_name: str
    size: int
    sha256: str
    stored_path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """What a lifecycle call did: the record of one committed transition."""

    item_id: int
    action: str
    from_state: str
    to_state: str
    version: int
    """The item's version after the transition."""
    event_id: int
    at: dt.datetime


def get_item(session: Session, item_id: int) -> Item:
    """Load an item or raise :class:`ItemNotFound`."""
    item = session.get(Item, item_id)
    if item is None:
        raise ItemNotFound(item_id)
    return item


def available_actions(item: Item, actor: Actor) -> list[str]:
    """The actions ``actor`` may take on ``item`` now: allowed from its state and by role.

    This is what a UI shows as buttons; a service call for any other action is refused.
    """
    lead = leads(actor, item)
    actions = [a for a in ACTIONS if next_state(item.state, a) and refusal(actor, a, lead=lead) is None]
    if item.state in OPEN_STATES and refusal(actor, "request_extension", lead=lead) is None:
        actions.append("request_extension")
    return actions


_READ = select(Item.state, Item.version).where(Item.id == bindparam("b_id"))
_LEADS = select(
    exists().where(
        ItemDepartment.item_id == bindparam("b_id"),
        ItemDepartment.department_id == bindparam("b_dept"),
        ItemDepartment.role == "lead",
    )
)
#: Columns an action writes besides state, version and updated_at.
_EXTRA: dict[str, tuple[str, ...]] = {
    "file_measures": ("measures", "measures_filed_on"),
    "close": ("closed_on",),
    "reopen": ("closed_on",),
}
_UPDATES = {
    action: update(Item)
    .where(Item.id == bindparam("b_id"), Item.version == bindparam("b_version"))
    .values(
        state=bindparam("b_state"),
        version=Item.version + 1,
        updated_at=bindparam("b_now"),
        **{c: bindparam(f"b_{c}") for c in _EXTRA.get(action, ())},
    )
    .returning(Item.version)
    for action in ACTIONS
}
_EVENT = insert(ItemEvent).returning(ItemEvent.id)
#: Actions that may leave a notice with no open item, and so queue its rectification report.
FINISHING = frozenset({"close", "withdraw"})
_OTHER = aliased(Item)
_REPORT = insert(ReportRequest).from_select(
    ["notice_id", "event_id", "requested_at", "status"],
    select(Item.notice_id, bindparam("b_event", type_=Integer), bindparam("b_now", type_=UTCDateTime()),
           literal("pending"))
    .where(Item.id == bindparam("b_id"),
           ~exists().where(_OTHER.notice_id == Item.notice_id, _OTHER.state.in_(OPEN_STATES))),
)  # fmt: skip


def _move(
    session: Session,
    env: Env,
    item_id: int,
    action: str,
    actor: Actor,
    now: dt.datetime,
    *,
    reason: str | None = None,
    expected_version: int | None = None,
    data: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Transition:
    """Check and write one lifecycle transition; the caller's transaction commits it.

    Raises:
        ItemNotFound: no such item.
        PermissionDenied: the actor may not take this action on this item.
        InvalidTransition: not allowed from the current state.
        InvalidInput: a required reason (or the measures text) is missing.
        Conflict: the item changed since it was read (``expected_version`` or a concurrent write).
    """
    # Core execution on the session's connection: same transaction, none of the ORM's per-call cost.
    conn = session.connection()
    row = conn.execute(_READ, {"b_id": item_id}).first()
    if row is None:
        raise ItemNotFound(item_id)
    state, version = row
    require(actor, action, lead=_leads(conn, actor, item_id, action))
    if expected_version is not None and version != expected_version:
        raise Conflict(item_id, action)
    new = next_state(state, action)
    if new is None:
        raise InvalidTransition(item_id, state, action, DONE_WHY.get(state) or WHY_NOT.get(action))
    if action in REASON_REQUIRED and not (reason and reason.strip()):
        raise InvalidInput("原因", reason or "", f"「{ACTION_LABELS[action]}」必须填写原因")
    if action == "file_measures" and not (extra or {}).get("measures"):
        raise InvalidInput("整改措施", "", "必须填写整改措施")
    params = {"b_id": item_id, "b_version": version, "b_state": new, "b_now": now}
    params |= {f"b_{k}": v for k, v in (extra or {}).items()}
    written = conn.execute(_UPDATES[action], params).first()
    if written is None:
        raise Conflict(item_id, action)
    event_id = conn.execute(_EVENT, {
        "item_id": item_id, "actor_id": actor.id, "at": now, "action": action,
        "from_state": state, "to_state": new, "reason": reason, "data": data,
    }).scalar_one()  # fmt: skip
    if env.delivery is not None and action in NOTIFY:
        notify(conn, env, item_id, NOTIFY[action], f"e{event_id}", now, {"reason": reason})
    if action in FINISHING:  # the notice's last open item: queue the report (written by the report job)
        conn.execute(_REPORT, {"b_id": item_id, "b_event": event_id, "b_now": now})
    _expire_loaded(session, item_id)
    return Transition(item_id=item_id, action=action, from_state=state, to_state=new, version=written[0],
                      event_id=event_id, at=now)  # fmt: skip


def notify(conn: Connection, env: Env, item_id: int, kind: str, occasion: str, now: dt.datetime,
           data: dict[str, Any] | None = None) -> int:  # fmt: skip
    """Queue a ``kind`` message about one item to its lead department, in the caller's transaction.

    Args:
        occasion: unique per item and kind (the event id), so the message is queued once.
    """
    if env.delivery is None:
        return 0
    notice = Notice(kind=kind, roles=("department",), key_prefix=literal(f"{item_id}:{kind}:{occasion}"),
                    items=single_item(item_id))  # fmt: skip
    return enqueue(conn, notice, env.delivery, send_slot(now, env.calendar, env.delivery), now, data)


def _leads(conn: Connection, actor: Actor, item_id: int, action: str) -> bool:
    """Whether the actor's department leads the item; asked only when the action depends on it."""
    if action not in OWN_DEPARTMENT_ACTIONS or actor.department_id is None:
        return False
    return bool(conn.execute(_LEADS, {"b_id": item_id, "b_dept": actor.department_id}).scalar())


def _expire_loaded(session: Session, item_id: int) -> None:
    """An item object already loaded in this session must not show the state before the write."""
    loaded = session.identity_map.get(identity_key(Item, item_id))
    if loaded is not None:
        session.expire(loaded)


@transaction
def assign(session: Session, env: Env, item_id: int, actor: Actor, now: dt.datetime, *,
           note: str | None = None, expected_version: int | None = None) -> Transition:  # fmt: skip
    """交办: hand an issued item to its lead departments (office)."""
    return _move(session, env, item_id, "assign", actor, now, reason=note, expected_version=expected_version)


@transaction
def file_measures(session: Session, env: Env, item_id: int, actor: Actor, now: dt.datetime, *, measures: str,
                  evidence: Sequence[EvidenceFile] = (), expected_version: int | None = None) -> Transition:  # fmt: skip
    """提交整改措施: a lead department files what it did, with evidence files.

    Raises:
        InvalidInput: the measures text is empty.
        InvalidTransition: the item is not assigned.
    """
    files = [{"file_name": f.file_name, "sha256": f.sha256, "size": f.size} for f in evidence]
    done = _move(session, env, item_id, "file_measures", actor, now, expected_version=expected_version,
                 data={"measures": measures, "evidence": files},
                 extra={"measures": measures.strip(), "measures_filed_on": env.local_date(now)})  # fmt: skip
    session.add_all(
        Evidence(item_id=item_id, event_id=done.event_id, file_name=f.file_name, size=f.size, sha256=f.sha256,
                 stored_path=f.stored_path, uploaded_by=actor.id, uploaded_at=now)
        for f in evidence
    )  # fmt: skip
    session.flush()
    return done


@transaction
def verify(session: Session, env: Env, item_id: int, actor: Actor, now: dt.datetime, *,
           note: str | None = None, expected_version: int | None = None) -> Transition:  # fmt: skip
    """核验通过: the office accepts the filed measures."""
    return _move(session, env, item_id, "verify", actor, now, reason=note, expected_version=expected_version)


@transaction
def reject(session: Session, env: Env, item_id: int, actor: Actor, now: dt.datetime, *,
           reason: str, expected_version: int | None = None) -> Transition:  # fmt: skip
    """退回: send filed measures back to the department, with the reason."""
    return _move(
        session, env, item_id, "reject", actor, now, reason=reason, expected_version=expected_version
    )


@transaction
def close(session: Session, env: Env, item_id: int, actor: Actor, now: dt.datetime, *,
          note: str | None = None, expected_version: int | None = None) -> Transition:  # fmt: skip
    """销号: close a verified item; the closure day decides whether it was on time."""
    return _move(session, env, item_id, "close", actor, now, reason=note, expected_version=expected_version,
                 extra={"closed_on": env.local_date(now)})  # fmt: skip


@transaction
def reopen(session: Session, env: Env, item_id: int, actor: Actor, now: dt.datetime, *,
           reason: str, expected_version: int | None = None) -> Transition:  # fmt: skip
    """重新打开: a re-check (回头看) found a relapse; the item goes back to its department."""
    return _move(session, env, item_id, "reopen", actor, now, reason=reason, expected_version=expected_version,
                 extra={"closed_on": None})  # fmt: skip


@transaction
def withdraw(session: Session, env: Env, item_id: int, actor: Actor, now: dt.datetime, *,
             reason: str, expected_version: int | None = None) -> Transition:  # fmt: skip
    """撤销: withdraw an open item (terminal), with the reason."""
    return _move(
        session, env, item_id, "withdraw", actor, now, reason=reason, expected_version=expected_version
    )


LIFECYCLE: dict[str, Callable[..., Transition]] = {
    "assign": assign, "file_measures": file_measures, "verify": verify, "reject": reject,
    "close": close, "reopen": reopen, "withdraw": withdraw,
}  # fmt: skip
