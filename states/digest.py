"""The weekly bulletin (每周督办简报) for leaders and the office: per-department figures.

Queued into the outbox like any message (one per recipient, channel and ISO week, so queueing it
twice in a week adds nothing) and sent by the dispatcher as a mail of its own.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, String, cast, literal, or_, select
from sqlalchemy.orm import Session

from states.calendar import WorkingCalendar
from states.model import OutboxMessage, User
from states.outbox import Delivery, insert_ignore, send_slot
from states.permissions import CONSOLE_READER
from states.queries import department_stats, overall_stats


def queue_weekly_digest(conn: Connection, calendar: WorkingCalendar, delivery: Delivery, today: dt.date,
                        now: dt.datetime) -> int:  # fmt: skip
    """Queue this week's bulletin for every leader and office user, in the caller's transaction.

    Returns:
        How many messages were queued (0 when this week's were queued already).
    """
    session = Session(bind=conn)
    rows = department_stats(session, calendar, CONSOLE_READER, today)
    total = overall_stats(session, calendar, CONSOLE_READER, today)
    stats = [r.as_json() for r in [*rows, total]]
    year, week, _ = today.isocalendar()
    due_at = send_slot(now, calendar, delivery)
    inserted = 0
    for channel in (c for c in delivery.channels if c != "webhook"):
        address = User.email if channel == "email" else User.username
        recipients = select(
            literal(f"weekly:{year}-W{week:02d}:u") + cast(User.id, String) + f":{channel}",
            literal("weekly"), User.id, User.name, literal(channel), address,
            literal(f"{channel}:") + address + f":weekly:{year}-W{week:02d}",
            literal(due_at, OutboxMessage.due_at.type), literal("pending"), literal(0),
            literal({"stats": stats, "week": f"{year}年第{week}周"}, OutboxMessage.data.type),
            literal(now, OutboxMessage.created_at.type),
        ).where(or_(User.role == "leader", User.role == "office"), address.is_not(None))  # fmt: skip
        columns = ("key", "kind", "recipient_id", "recipient_name", "channel", "address", "digest_key", "due_at",
                   "status", "attempts", "data", "created_at")  # fmt: skip
        stmt = insert_ignore(recipients, columns, conn.dialect.name).returning(OutboxMessage.id)
        inserted += len(conn.execute(stmt).all())
    return inserted
