"""The jobs every mode runs (embedded scheduler, Prefect flows, CLI): scan and dispatch.

Each job is a plain function of the app and ``now``; the clock is read by the caller.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import replace

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite

from flows.runtime import App
from notifications.dispatch import DispatchResult
from states.digest import queue_weekly_digest
from states.escalation import ScanResult, fan_out, scan
from states.model import Tick


def run_scan(
    app: App, now: dt.datetime, *, today: dt.date | None = None, dry_run: bool = False
) -> ScanResult:
    """Record the day's escalations (one transaction), then write their messages (the fan-out,
    a second one); with ``dry_run`` do both in one transaction and roll it back.

    A crash between the two loses nothing: the next dispatch pass fans out what is left.

    Args:
        app: the runtime.
        now: the time of the scan (aware UTC).
        today: the day to scan for; the office's calendar day of ``now`` by default.
        dry_run: count what would be queued and write nothing.
    """
    day = today or app.env.local_date(now)
    if dry_run:
        with app.engine.connect() as conn, conn.begin() as tx:
            result = scan(conn, app.policy, app.env.calendar, day, now)
            result = replace(result, messages=fan_out(conn, app.policy, now))
            tx.rollback()
            return result
    with app.engine.begin() as conn:
        result = scan(conn, app.policy, app.env.calendar, day, now)
    with app.engine.begin() as conn:
        return replace(result, messages=fan_out(conn, app.policy, now))


def run_dispatch(app: App, now: dt.datetime) -> DispatchResult:
    """Send every message due at ``now`` (all batches)."""
    return app.dispatcher().run(now)


def run_weekly_digest(app: App, now: dt.datetime) -> int:
    """Queue this week's bulletin for leaders and the office; returns how many messages."""
    with app.engine.begin() as conn:
        return queue_weekly_digest(conn, app.env.calendar, app.policy.delivery, app.env.local_date(now), now)


def claim_tick(engine: Engine, job: str, tick: dt.datetime, now: dt.datetime) -> bool:
    """Claim one tick of a scheduled job; False when another process already has it.

    ``INSERT … ON CONFLICT DO NOTHING RETURNING``: exactly one process gets the row back, however
    many schedulers share the database.
    """
    mod = postgresql if engine.dialect.name == "postgresql" else sqlite
    stmt = (
        mod.insert(Tick)
        .values(job=job, tick=tick, claimed_at=now, claimed_by=f"{socket.gethostname()}:{os.getpid()}")
        .on_conflict_do_nothing(index_elements=["job", "tick"])
        .returning(Tick.job)
    )
    with engine.begin() as conn:
        return conn.execute(stmt).first() is not None
