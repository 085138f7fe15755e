"""Writing messages into the outbox (发件箱), set-based, in the caller's transaction.

The core only *records* that someone must be told; :mod:`notifications` renders and delivers.
Every row has a unique ``key``; rows are inserted with ``ON CONFLICT (key) DO NOTHING``, so
writing the same message twice (a scan run twice, two schedulers) adds nothing.

Recipients are named by role:

- ``department``: the members of the item's lead departments (e-mail, console) or the lead
  department itself (webhook: one group robot per department);
- ``lead_leader``: the item's lead leader (牵头领导);
- ``office``: every user of the supervision office (督查办);
- ``top_leader``: the users named in the policy (约谈 is the top leader's list).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Select,
    String,
    cast,
    false,
    literal,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite

from states.calendar import WorkingCalendar
from states.model import Department, Item, ItemDepartment, OutboxMessage, User

RECIPIENT_ROLES = ("department", "lead_leader", "office", "top_leader")
CHANNELS = ("email", "webhook", "console")


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """How messages go out: the channels, the time of day, and who the top leaders are."""

    channels: tuple[str, ...] = ("email",)
    send_time: dt.time = dt.time(9, 0)
    """Messages wait for this time of the next working day (none on rest days)."""
    top_leaders: tuple[str, ...] = ()
    """Usernames who receive the 约谈 list."""
    tz: ZoneInfo = ZoneInfo("Asia/Shanghai")


def send_slot(now: dt.datetime, calendar: WorkingCalendar, delivery: Delivery) -> dt.datetime:
    """The first send time at or after ``now`` that falls on a working day (aware UTC).

    A message queued on a working day before the send time goes out that morning; anything later,
    or on a rest day, waits for the next working-day morning.
    """
    local = now.astimezone(delivery.tz)
    day = local.date()
    if not (calendar.is_workday(day) and local.time() <= delivery.send_time):
        day = calendar.add_workdays(day, 1).date
    return dt.datetime.combine(day, delivery.send_time, tzinfo=delivery.tz).astimezone(dt.UTC)


def _text(value: Any) -> ColumnElement[str]:
    return cast(value, String)


def _recipients(role: str, channel: str, top_leaders: Sequence[str]) -> Select[Any] | None:
    """``(item_id, recipient_id, recipient_name, address, who)`` rows for one role and channel.

    ``who`` identifies the recipient inside the message key (a user id, or a department for
    webhooks). ``None`` when the channel cannot reach that role (a webhook reaches departments).
    """
    if channel == "webhook":
        if role != "department":
            return None
        return (
            select(ItemDepartment.item_id.label("item_id"), literal(None, User.id.type).label("rid"),
                   Department.name.label("rname"), Department.name.label("address"),
                   (literal("d") + _text(Department.id)).label("who"))
            .join(Department, Department.id == ItemDepartment.department_id)
            .where(ItemDepartment.role == "lead")
        )  # fmt: skip
    address = User.email if channel == "email" else User.username
    name = User.name
    cols = (
        User.id.label("rid"),
        name.label("rname"),
        address.label("address"),
        (literal("u") + _text(User.id)).label("who"),
    )
    if role == "department":
        q = (
            select(ItemDepartment.item_id.label("item_id"), *cols)
            .join(User, User.department_id == ItemDepartment.department_id)
            .where(ItemDepartment.role == "lead", User.role == "department")
        )
    elif role == "lead_leader":
        q = select(Item.id.label("item_id"), *cols).join(User, User.id == Item.lead_leader_id)
    elif role == "office":
        q = select(Item.id.label("item_id"), *cols).join(User, User.role == "office")
    else:  # top_leader
        q = select(Item.id.label("item_id"), *cols).join(
            User, User.username.in_(top_leaders) if top_leaders else false()
        )
    return q.where(address.is_not(None))


def insert_ignoring(
    conn: Connection,
    model: Any,
    columns: Sequence[str],
    rows: Select[Any] | CompoundSelect[Any],
    keys: Sequence[str],
) -> int:
    """``INSERT INTO model (columns) SELECT … ON CONFLICT (keys) DO NOTHING`` for the connection's
    dialect.

    Returns:
        How many rows were inserted (existing keys are skipped).
    """
    mod = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = (
        mod.insert(model).from_select(list(columns), rows).on_conflict_do_nothing(index_elements=list(keys))
    )
    if conn.dialect.name == "sqlite":
        return conn.execute(stmt).rowcount  # exact on SQLite; no need to fetch every new id
    # psycopg 3 reports rowcount -1 for ON CONFLICT DO NOTHING: count what RETURNING gives back
    return len(conn.execute(stmt.returning(*model.__table__.primary_key.columns)).all())


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """One message kind for some items, before recipients are known."""

    kind: str
    roles: tuple[str, ...]
    key_prefix: ColumnElement[str]
    """SQL expression unique per item and occasion; the recipient and channel are appended."""
    items: Any
    """A selectable with ``id`` (and ``target``, ``due`` when the message is about a target)."""


def enqueue(conn: Connection, notice: Notice, delivery: Delivery, due_at: dt.datetime, now: dt.datetime,
            data: dict[str, Any] | None = None) -> int:  # fmt: skip
    """Queue ``notice`` for every recipient and channel in one statement.

    Returns:
        How many rows were inserted (existing keys are skipped).
    """
    day = due_at.astimezone(delivery.tz).date().isoformat()
    parts = []
    for role in notice.roles:
        for channel in delivery.channels:
            rec = _recipients(role, channel, delivery.top_leaders)
            if rec is None:
                continue
            r = rec.subquery()
            items = notice.items
            parts.append(
                select(
                    notice.key_prefix + ":" + r.c.who + ":" + channel,
                    literal(notice.kind), items.c.id, items.c.target, items.c.due,
                    r.c.rid, r.c.rname, literal(channel), r.c.address,
                    literal(channel) + ":" + r.c.address + ":" + day,
                    literal(due_at, OutboxMessage.due_at.type), literal("pending"), literal(0),
                    literal(data, OutboxMessage.data.type), literal(now, OutboxMessage.created_at.type),
                ).join(r, r.c.item_id == items.c.id)
            )  # fmt: skip
    if not parts:
        return 0
    columns = ("key", "kind", "item_id", "target", "due", "recipient_id", "recipient_name", "channel", "address",
               "digest_key", "due_at", "status", "attempts", "data", "created_at")  # fmt: skip
    return insert_ignoring(conn, OutboxMessage, columns, union_all(*parts), ["key"])


def single_item(item_id: int) -> Any:
    """The selectable for a message about one item (no target)."""
    return select(Item.id, literal(None, String).label("target"), literal(None, Item.measures_due.type)
                  .label("due")).where(Item.id == item_id).subquery()  # fmt: skip


def enqueue_people(conn: Connection, kind: str, key: str, who: ColumnElement[bool], data: dict[str, Any],
                   delivery: Delivery, due_at: dt.datetime, now: dt.datetime) -> int:  # fmt: skip
    """Queue a message that is about no single item (a bulletin, a report) to the users ``who`` selects.

    One message per user and channel (webhooks reach departments, not people: skipped), each sent
    as a mail of its own; ``key`` makes queueing it twice add nothing.

    Returns:
        How many messages were queued.
    """
    inserted = 0
    for channel in (c for c in delivery.channels if c != "webhook"):
        address = User.email if channel == "email" else User.username
        rows = select(
            literal(f"{key}:u") + _text(User.id) + f":{channel}", literal(kind), User.id, User.name,
            literal(channel), address, literal(f"{channel}:") + address + f":{key}",
            literal(due_at, OutboxMessage.due_at.type), literal("pending"), literal(0),
            literal(data, OutboxMessage.data.type), literal(now, OutboxMessage.created_at.type),
        ).where(who, address.is_not(None))  # fmt: skip
        columns = ("key", "kind", "recipient_id", "recipient_name", "channel", "address", "digest_key", "due_at",
                   "status", "attempts", "data", "created_at")  # fmt: skip
        inserted += insert_ignoring(conn, OutboxMessage, columns, rows, ["key"])
    return inserted
