"""The weekly bulletin (每周督办简报) for leaders and the office: closure and on-time rates by
department, the most overdue items, and what changed since last week.

Queued into the outbox like any message (one per recipient, channel and ISO week, so queueing it
twice in a week adds nothing) and sent by the dispatcher as a mail of its own.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, func, or_, select
from sqlalchemy.orm import Session

from states.assessment import latest_scorecards, scored_periods
from states.audit import iso
from states.calendar import WorkingCalendar
from states.dashboard import most_overdue
from states.model import Item, ItemEvent, User
from states.outbox import Delivery, enqueue_people, send_slot
from states.permissions import CONSOLE_READER
from states.queries import FINAL_DUE, department_stats, overall_stats

#: Most overdue items listed in the bulletin.
OVERDUE_LISTED = 20
WEEK = dt.timedelta(days=7)
#: Counted changes and the event action behind each.
CHANGE_ACTIONS = {"closed": "close", "reopened": "reopen", "withdrawn": "withdraw", "extended": "approve_extension"}


def changes_since(session: Session, since: dt.datetime, since_day: dt.date) -> dict[str, int]:
    """What happened since ``since``: items registered, closed (and of them late), reopened, withdrawn,
    extensions approved — counted from the append-only events."""
    counts: dict[str, int] = dict(session.execute(  # type: ignore[arg-type]
        select(ItemEvent.action, func.count()).where(ItemEvent.at >= since,
                                                     ItemEvent.action.in_(CHANGE_ACTIONS.values()))
        .group_by(ItemEvent.action)).all())  # fmt: skip
    late = session.scalar(select(func.count(Item.id)).where(Item.state == "closed", Item.closed_on >= since_day,
                                                            FINAL_DUE < Item.closed_on))  # fmt: skip
    new = session.scalar(select(func.count(Item.id)).where(Item.created_at >= since))
    return {"new": new or 0, **{k: counts.get(a, 0) for k, a in CHANGE_ACTIONS.items()}, "closed_late": late or 0}



def bulletin(session: Session, calendar: WorkingCalendar, today: dt.date, now: dt.datetime) -> dict[str, Any]:
    """The bulletin's facts: per-department figures and 合计, the most overdue items, the week's changes."""
    rows = department_stats(session, calendar, CONSOLE_READER, today)
    total = overall_stats(session, calendar, CONSOLE_READER, today)
    overdue = [{"id": v.id, "title": v.title, "leads": "、".join(v.lead_departments), "due": iso(v.pending_due),
                "overdue_workdays": v.overdue_workdays} for v in most_overdue(session, calendar, today, OVERDUE_LISTED)]  # fmt: skip
    year, week, _ = today.isocalendar()
    return {"stats": [r.as_json() for r in [*rows, total]], "week": f"{year}年第{week}周", "overdue": overdue,
            "overdue_total": total.overdue, "changes": changes_since(session, now - WEEK, today - WEEK),
            "scores": latest_scores(session)}  # fmt: skip


def latest_scores(session: Session) -> dict[str, Any] | None:
    """The score line of each department: the newest stored scorecards of the newest scored period."""
    periods = scored_periods(session)
    if not periods:
        return None
    cards = latest_scorecards(session, CONSOLE_READER, periods[0])
    return {"period": periods[0], "rules_version": cards[0].rules_version if cards else "",
            "rows": [{"department": c.department, "total": c.total, "grade": c.grade} for c in cards]}  # fmt: skip



def queue_weekly_digest(conn: Connection, calendar: WorkingCalendar, delivery: Delivery, today: dt.date,
                        now: dt.datetime) -> int:  # fmt: skip
    """Queue this week's bulletin for every leader and office user, in the caller's transaction.

    Returns:
        How many messages were queued (0 when this week's were queued already).
    """
    data = bulletin(Session(bind=conn), calendar, today, now)
    year, week, _ = today.isocalendar()
    return enqueue_people(conn, "weekly", f"weekly:{year}-W{week:02d}", or_(User.role == "leader", User.role == "office"),
                          data, delivery, send_slot(now, calendar, delivery), now)  # fmt: skip
