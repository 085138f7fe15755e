"""The embedded scheduler's jobs: two schedulers on one database run each tick once; nothing runs
on rest days; the Prefect flows run the same jobs under Prefect's test harness."""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

import config
from flows.clock import FixedClock
from flows.jobs import run_dispatch
from flows.runtime import App
from flows.scheduler import build_scheduler, dispatch_tick, scan_tick, weekly_tick
from states import intake, service
from states.model import OutboxMessage, Tick
from states.service import Env
from states.store import session_factory
from tests.factories import build_org, item_spec, notice
from tests.servers import SmtpServer


def make_app(engine: Engine, env: Env, day: dt.date, at: dt.time, port: int | None = None) -> App:
    settings = config.load(environ={})
    policy = config.load_policy(settings)
    policy = replace(policy, delivery=replace(policy.delivery, channels=("email",), tz=env.tz))
    return App(settings=settings, engine=engine, sessions=session_factory(engine),
               env=replace(env, delivery=policy.delivery), policy=policy, clock=FixedClock(day, env.tz, at))  # fmt: skip


def late_item(app: App) -> None:
    """An assigned item whose measures were due 2026-09-29 (so 10-09 is 督办 day)."""
    now = app.clock.now()
    with app.sessions() as s:
        o = build_org(s)
        nid = notice(s, app.env, o, now, dt.date(2026, 9, 15))
        (it,) = intake.create_items(s, app.env, nid, [item_spec(leader="fyz")], o.office, now)
        service.assign(s, app.env, it.id, o.office, now)


def race(fn: Callable[[], object], n: int = 2) -> list[object]:
    barrier, results = threading.Barrier(n), [None] * n

    def run(k: int) -> None:
        barrier.wait()
        results[k] = fn()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_schedulers_run_the_scan_once(engine: Engine, env: Env) -> None:
    day = dt.date(2026, 10, 9)
    app = make_app(engine, env, day, dt.time(8, 30))
    late_item(app)
    results = race(lambda: scan_tick(app))
    assert sorted(r is None for r in results) == [False, True]
    with app.sessions() as s:
        assert s.scalar(select(func.count(Tick.job)).where(Tick.job == "scan")) == 1
        assert s.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "supervision")) == 3


def test_no_scan_on_a_rest_day(engine: Engine, env: Env) -> None:
    app = make_app(engine, env, dt.date(2026, 10, 3), dt.time(8, 30))  # National Day
    late_item(app)
    assert scan_tick(app) is None
    with app.sessions() as s:
        assert s.scalar(select(func.count(Tick.job))) == 0


def test_dispatch_tick_claims_its_minute(
    engine: Engine, env: Env, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECTIFLOW_SMTP_PORT", str(smtp.port))
    app = make_app(engine, env, dt.date(2026, 9, 16), dt.time(9, 0))
    late_item(app)  # queues a 交办通知 for the next working-day morning
    app = replace(app, clock=FixedClock(dt.date(2026, 9, 16), env.tz, dt.time(9, 0)))
    results = race(lambda: dispatch_tick(app))
    assert sorted(r is None for r in results) == [False, True]
    assert len(smtp.handler.envelopes) == 1


def test_the_scheduler_has_the_configured_jobs(engine: Engine, env: Env) -> None:
    app = make_app(engine, env, dt.date(2026, 10, 9), dt.time(8, 30))
    scheduler = build_scheduler(app, blocking=False)
    jobs = {j.id: j for j in scheduler.get_jobs()}
    assert set(jobs) == {"scan", "dispatch", "weekly"}
    assert "hour='8'" in str(jobs["scan"].trigger) and "minute='30'" in str(jobs["scan"].trigger)


@pytest.fixture(scope="module")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One Prefect test server for the module (it takes some seconds to start)."""
    home = tmp_path_factory.mktemp("prefect")
    saved = {k: os.environ.get(k) for k in ("PREFECT_HOME", "PREFECT_API_URL")}
    os.environ["PREFECT_HOME"] = str(home)
    os.environ.pop("PREFECT_API_URL", None)
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def test_prefect_flows_run_the_same_jobs(
    prefect_harness: None, tmp_path: Path, env: Env, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.prefect_flows import closure_report_flow, dispatch_flow, scan_flow
    from states.store import make_engine, upgrade

    url = f"sqlite:///{tmp_path}/prefect.db"
    engine = make_engine(url)
    upgrade(engine)
    late_item(make_app(engine, env, dt.date(2026, 10, 9), dt.time(8, 0)))
    monkeypatch.setenv("RECTIFLOW_SMTP_PORT", str(smtp.port))
    scanned = scan_flow(database_url=url, today="2026-10-09")
    assert scanned["queued"]["supervision"] == 1 and scanned["messages"]["supervision"] == 3
    assert not scanned["skipped"]
    assert scan_flow(database_url=url, today="2026-10-03")["skipped"]  # a rest day
    sent = dispatch_flow(database_url=url, today="2026-10-09")
    assert sent["sent"] == 4  # the 交办通知 and the three 督办通知
    assert {str(m["Subject"]).split("：")[0] for m in smtp.handler.received()} >= {"【整改督办】督办通知"}
    files = closure_report_flow(notice_id=1, out_dir=str(tmp_path / "reports"), database_url=url,
                                today="2026-10-09")["files"]  # fmt: skip
    assert sorted(Path(f).suffix for f in files) == [".docx", ".html", ".md"]
    report = next(Path(f) for f in files if f.endswith(".md")).read_text(encoding="utf-8")
    assert report.startswith("# 20xx年县级公立医院综合绩效考评情况整改报告")
    assert "## 一、医疗方面存在问题及整改措施" in report and "1. 临床输血管理不规范。" in report
    assert "本次通报共涉及问题 1 项：已销号 0 项" in report and "尚在整改 1 项" in report
    engine.dispose()


def test_weekly_bulletin_once_a_week_to_leaders_and_office(
    engine: Engine, env: Env, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECTIFLOW_SMTP_PORT", str(smtp.port))
    app = make_app(engine, env, dt.date(2026, 10, 12), dt.time(8, 30))  # a Monday
    late_item(app)
    assert sorted(r is None for r in race(lambda: weekly_tick(app))) == [False, True]
    assert weekly_tick(replace(app, clock=FixedClock(dt.date(2026, 10, 14), env.tz, dt.time(8, 30)))) is None
    run_dispatch(app, app.clock.now() + dt.timedelta(hours=1))
    bulletins = [m for m in smtp.handler.received() if "督办简报" in m["Subject"]]
    assert sorted(str(m["To"]).split(" <")[0] for m in bulletins) == ["张卫东", "李建国", "王敏"]
    text = bulletins[0].get_body(("plain",)).get_content()
    assert "医务科：事项 1 项" in text
    assert "本周变化：新登记 1 项，销号 0 项" in text
    days = env.calendar.workdays_between(dt.date(2026, 9, 29), dt.date(2026, 10, 12))
    assert f"1. 临床输血管理不规范（医务科，2026年9月29日到期，逾期 {days} 个工作日）" in text
