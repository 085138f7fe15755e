"""The embedded scheduler (APScheduler 3): the daily scan and the minute-by-minute dispatch.

Schedules come from ``config/`` into a memory job store, one per process. Several processes
may run a scheduler against one database: each job first claims its tick with a unique row
(:func:`flows.jobs.claim_tick`), so every tick runs once (a shared APScheduler job store would
run jobs several times; see tech-notes.md). The clock is read once per tick, here.
"""

from __future__ import annotations

import datetime as dt
import logging

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from flows.jobs import claim_tick, run_dispatch, run_scan, run_weekly_digest
from flows.reports import run_reports
from flows.runtime import App
from notifications.dispatch import DispatchResult
from states.escalation import ScanResult

logger = logging.getLogger(__name__)


def scan_tick(app: App) -> ScanResult | None:
    """Run the day's scan if today is a working day and no other process has run it.

    Returns:
        What was queued, or ``None`` when it was a rest day or another process had the tick.
    """
    now = app.clock.now()
    today = app.env.local_date(now)
    if not app.env.calendar.is_workday(today):
        return None
    tick = dt.datetime.combine(today, app.policy.scan_time, tzinfo=app.env.tz).astimezone(dt.UTC)
    if not claim_tick(app.engine, "scan", tick, now):
        return None
    result = run_scan(app, now, today=today)
    logger.info("scan %s queued %s", today, result.queued)
    return result


def dispatch_tick(app: App) -> DispatchResult | None:
    """Write the reports of finished notices, then send what is due, once per minute across all processes."""
    now = app.clock.now()
    if not claim_tick(app.engine, "dispatch", now.replace(second=0, microsecond=0), now):
        return None
    reports = run_reports(app, now)
    if reports.written or reports.failed or reports.retrying:
        logger.info("reports: %s", reports)
    result = run_dispatch(app, now)
    if result.claimed:
        logger.info("dispatch: %s", result)
    return result


def weekly_tick(app: App) -> int | None:
    """Queue the weekly bulletin once per week across all processes."""
    now = app.clock.now()
    year, week, _ = app.env.local_date(now).isocalendar()
    monday = dt.datetime.combine(dt.date.fromisocalendar(year, week, 1), dt.time(0), tzinfo=dt.UTC)
    if not claim_tick(app.engine, "weekly", monday, now):
        return None
    return run_weekly_digest(app, now)


def build_scheduler(app: App, *, blocking: bool = True) -> BaseScheduler:
    """A scheduler with the scan at the policy's time every day and dispatch every minute.

    ``coalesce`` and ``max_instances=1`` keep a slow tick from piling up; a tick missed by less than
    five minutes still runs.
    """
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(
        jobstores={"default": MemoryJobStore()},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        timezone=app.env.tz,
    )
    at = app.policy.scan_time
    scheduler.add_job(scan_tick, CronTrigger(hour=at.hour, minute=at.minute, timezone=app.env.tz), args=[app],
                      id="scan", name="升级督办扫描")  # fmt: skip
    scheduler.add_job(
        dispatch_tick,
        IntervalTrigger(minutes=1, timezone=app.env.tz),
        args=[app],
        id="dispatch",
        name="消息发送",
    )
    scheduler.add_job(weekly_tick, CronTrigger(day_of_week="mon", hour=at.hour, minute=at.minute, timezone=app.env.tz),
                      args=[app], id="weekly", name="每周督办简报")  # fmt: skip
    return scheduler
