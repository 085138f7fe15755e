"""Prefect flows for the scaled-out mode: thin wrappers around the same jobs the embedded
scheduler runs (no task per item: one flow run does a whole scan or dispatch pass).

Deployments and schedules are in ``prefect.yaml``; see the README for the server, work pool and
worker. Durable retries belong to the outbox, so the flows themselves do not retry.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from flows.jobs import run_dispatch, run_scan, run_weekly_digest
from flows.reports import run_reports, write_closure_report
from flows.runtime import bootstrap


def _app(database_url: str | None, today: str | None) -> Any:
    return bootstrap(database_url=database_url, today=dt.date.fromisoformat(today) if today else None)


@flow(name="rectiflow-scan", log_prints=False)
def scan_flow(
    database_url: str | None = None, today: str | None = None, dry_run: bool = False
) -> dict[str, Any]:
    """升级督办扫描: queue the day's escalation messages (skipped on rest days)."""
    app = _app(database_url, today)
    try:
        now = app.clock.now()
        day = app.env.local_date(now)
        if not app.env.calendar.is_workday(day):
            get_run_logger().info("%s 为休息日，不扫描", day)
            return {"day": day.isoformat(), "queued": {}, "skipped": True}
        result = run_scan(app, now, dry_run=dry_run)
        get_run_logger().info("%s 扫描：升级 %s，消息 %s", day, result.queued, result.messages)
        return {
            "day": day.isoformat(),
            "queued": result.queued,
            "messages": result.messages,
            "skipped": False,
        }
    finally:
        app.engine.dispose()


@flow(name="rectiflow-dispatch", log_prints=False)
def dispatch_flow(database_url: str | None = None, today: str | None = None) -> dict[str, int]:
    """消息发送: send every due message (digests per recipient and day)."""
    app = _app(database_url, today)
    try:
        result = run_dispatch(app, app.clock.now())
        counts = {
            k: getattr(result, k) for k in ("claimed", "sent", "deliveries", "retried", "dead", "cancelled")
        }
        get_run_logger().info("发送：%s", counts)
        return counts
    finally:
        app.engine.dispose()


@flow(name="rectiflow-weekly-digest", log_prints=False)
def weekly_digest_flow(database_url: str | None = None, today: str | None = None) -> int:
    """每周督办简报: queue this week's figures for leaders and the office (sent by the dispatch flow)."""
    app = _app(database_url, today)
    try:
        queued = run_weekly_digest(app, app.clock.now())
        get_run_logger().info("每周简报：%s 条", queued)
        return queued
    finally:
        app.engine.dispose()


@flow(name="rectiflow-closure-report", log_prints=False)
def closure_report_flow(database_url: str | None = None, today: str | None = None, notice_id: int | None = None,
                        out_dir: str | None = None) -> dict[str, Any]:  # fmt: skip
    """整改报告: write the reports queued by closing transitions and tell the office.

    With ``notice_id``, write that notice's report now (a draft while items are open) into ``out_dir``.
    """
    app = _app(database_url, today)
    try:
        if notice_id is not None:
            paths = write_closure_report(
                app, notice_id, Path(out_dir) if out_dir else app.settings.reports_dir
            )
            get_run_logger().info("整改报告已生成：%s", ", ".join(map(str, paths)))
            return {"files": [str(p) for p in paths]}
        run = run_reports(app, app.clock.now())
        get_run_logger().info("整改报告：生成 %s 份，跳过 %s 份，稍后重试 %s 份，失败 %s 份", len(run.written),
                              len(run.skipped), len(run.retrying), len(run.failed))  # fmt: skip
        return {
            "written": run.written,
            "skipped": run.skipped,
            "retrying": run.retrying,
            "failed": run.failed,
        }
    finally:
        app.engine.dispose()
