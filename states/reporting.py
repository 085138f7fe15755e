"""The queue of rectification reports (整改报告) to write.

When a notice's last open item is closed or withdrawn, the closing transition queues a request
(:mod:`states.service`, same transaction). The report job — the embedded scheduler every minute,
or the Prefect ``closure-report`` flow — writes the documents and calls :func:`finish`, which
marks the request done and queues a ``report_ready`` message to the office, in one transaction.
A request is finished once: two jobs racing over it write the same files and only one tells
the office.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, exists, select, update

from states.calendar import WorkingCalendar
from states.lifecycle import OPEN_STATES
from states.model import Item, Notice, ReportRequest, User
from states.outbox import Delivery, enqueue_people, send_slot

READY = "report_ready"


@dataclass(frozen=True, slots=True)
class Pending:
    """A report to write: the request and its notice."""

    request_id: int
    notice_id: int
    title: str
    doc_number: str | None
    still_done: bool
    """No item of the notice has been reopened since the request."""


def pending(conn: Connection, limit: int = 20) -> list[Pending]:
    """The oldest pending requests, each with whether its notice is still finished."""
    reopened = exists().where(Item.notice_id == ReportRequest.notice_id, Item.state.in_(OPEN_STATES))
    q = (
        select(ReportRequest.id, ReportRequest.notice_id, Notice.title, Notice.doc_number, ~reopened)
        .join(Notice, Notice.id == ReportRequest.notice_id)
        .where(ReportRequest.status == "pending")
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


def fail(conn: Connection, request_id: int, error: str, now: dt.datetime) -> None:
    conn.execute(update(ReportRequest).where(ReportRequest.id == request_id)
                 .values(status="failed", done_at=now, error=error[:2000]))  # fmt: skip


def _tell_office(conn: Connection, request: Pending, files: list[str], now: dt.datetime,
                 calendar: WorkingCalendar, delivery: Delivery) -> None:  # fmt: skip
    data = {"notice_id": request.notice_id, "notice_title": request.title, "doc_number": request.doc_number,
            "files": files}  # fmt: skip
    enqueue_people(conn, READY, f"{READY}:{request.request_id}", User.role == "office", data, delivery,
                   send_slot(now, calendar, delivery), now)  # fmt: skip
