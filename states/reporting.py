"""The queue of rectification reports (整改报告) to write.

When a notice's last open item is closed or withdrawn, the closing transition queues a request
(:mod:`states.service`, same transaction). The report job — the embedded scheduler every minute,
or the Prefect ``closure-report`` flow — writes the documents and calls :func:`finish`, which
marks the request done and queues a ``report_ready`` message to the office, in one transaction.
A request is finished once: two jobs racing over it write the same files and only one tells
the office.

A request that fails (a full disk, a template error) stays pending and is tried again after a
backoff (1, 2, 4 … minutes, at most an hour); after :data:`MAX_ATTEMPTS` failures it is marked
failed with the last error, and ``rectiflow report`` or the notice page still writes it on demand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, exists, or_, select, update

from states.calendar import WorkingCalendar
from states.lifecycle import OPEN_STATES
from states.model import Item, Notice, ReportRequest, User
from states.outbox import Delivery, enqueue_people, send_slot

READY = "report_ready"
MAX_ATTEMPTS = 5
BASE_BACKOFF = dt.timedelta(minutes=1)
MAX_BACKOFF = dt.timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Pending:
    """A report to write: the request and its notice."""

    request_id: int
    notice_id: int
    title: str
    doc_number: str | None
    still_done: bool
    """No item of the notice has been reopened since the request."""


def pending(conn: Connection, now: dt.datetime, limit: int = 20) -> list[Pending]:
    """The oldest pending requests due at ``now`` (not waiting for a retry), each with whether its
    notice is still finished."""
    reopened = exists().where(Item.notice_id == ReportRequest.notice_id, Item.state.in_(OPEN_STATES))
    q = (
        select(ReportRequest.id, ReportRequest.notice_id, Notice.title, Notice.doc_number, ~reopened)
        .join(Notice, Notice.id == ReportRequest.notice_id)
        .where(
            ReportRequest.status == "pending",
            or_(ReportRequest.retry_at.is_(None), ReportRequest.retry_at <= now),
        )
        .order_by(ReportRequest.id)
        .limit(limit)
    )
    return [Pending(*row) for row in conn.execute(q)]


def finish(conn: Connection, request: Pending, files: list[str], now: dt.datetime, calendar: WorkingCalendar,
           delivery: Delivery | None) -> bool:  # fmt: skip
    """Mark the request done with the files written, and tell the office (in the caller's transaction).

    Returns:
        False when another job finished it first (nothing more is written).
    """
    done = conn.execute(
        update(ReportRequest)
        .where(ReportRequest.id == request.request_id, ReportRequest.status == "pending")
        .values(status="done", done_at=now, files=files)
        .returning(ReportRequest.id)
    ).first()
    if done is None:
        return False
    if delivery is not None and files:
        _tell_office(conn, request, files, now, calendar, delivery)
    return True


def skip(conn: Connection, request: Pending, why: str, now: dt.datetime) -> None:
    """Close a request without a report (an item was reopened before the job ran)."""
    conn.execute(update(ReportRequest).where(ReportRequest.id == request.request_id, ReportRequest.status == "pending")
                 .values(status="done", done_at=now, files=[], error=why))  # fmt: skip


def fail(conn: Connection, request_id: int, error: str, now: dt.datetime) -> bool:
    """Record a failed attempt: retry after a backoff, or mark the request failed at the limit.

    Returns:
        True when the request is given up (failed), False when it will be tried again.
    """
    attempts = (conn.scalar(select(ReportRequest.attempts).where(ReportRequest.id == request_id)) or 0) + 1
    values: dict[str, Any] = {"attempts": attempts, "error": error[:2000]}
    if attempts >= MAX_ATTEMPTS:
        values |= {"status": "failed", "done_at": now, "retry_at": None}
    else:
        values["retry_at"] = now + min(BASE_BACKOFF * 2 ** (attempts - 1), MAX_BACKOFF)
    conn.execute(update(ReportRequest).where(ReportRequest.id == request_id, ReportRequest.status == "pending")
                 .values(**values))  # fmt: skip
    return attempts >= MAX_ATTEMPTS


def _tell_office(conn: Connection, request: Pending, files: list[str], now: dt.datetime,
                 calendar: WorkingCalendar, delivery: Delivery) -> None:  # fmt: skip
    data = {"notice_id": request.notice_id, "notice_title": request.title, "doc_number": request.doc_number,
            "files": files}  # fmt: skip
    enqueue_people(conn, READY, f"{READY}:{request.request_id}", User.role == "office", data, delivery,
                   send_slot(now, calendar, delivery), now)  # fmt: skip
