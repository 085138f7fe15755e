"""The rectification report writes itself when a notice's last item is done, and tells the office;
the closure record (销号单) of a closed item."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import Engine, select

import config
from flows.clock import FixedClock
from flows.closure_record import write_closure_record
from flows.reports import run_reports
from flows.runtime import App
from notifications.render import Renderer
from states import intake, reporting, service
from states.errors import InvalidTransition
from states.model import OutboxMessage, ReportRequest
from states.service import Env
from states.store import session_factory
from tests.factories import Org, build_org, drive, item_spec, notice

DAY = dt.date(2026, 9, 15)


@pytest.fixture
def app(engine: Engine, env: Env, tmp_path: Path) -> App:
    settings = replace(config.load(environ={}), reports_dir=tmp_path / "reports")
    policy = config.load_policy(settings)
    policy = replace(policy, delivery=replace(policy.delivery, channels=("email",), tz=env.tz))
    return App(settings=settings, engine=engine, sessions=session_factory(engine),
               env=replace(env, delivery=policy.delivery), policy=policy, clock=FixedClock(DAY, env.tz))  # fmt: skip


@pytest.fixture
def case(app: App) -> tuple[Org, int, list[int]]:
    """A notice of two items led by 医务科 and 药剂科."""
    now = app.clock.now()
    with app.sessions() as s:
        o = build_org(s)
        nid = notice(s, app.env, o, now, DAY)
        specs = [item_spec("临床输血管理不规范"), item_spec("抗菌药物使用强度偏高", lead=("药剂科",))]
        items = intake.create_items(s, app.env, nid, specs, o.office, now)
        return o, nid, [i.id for i in items]


def requests(app: App) -> list[tuple[int, str]]:
    with app.sessions() as s:
        return [(r.notice_id, r.status) for r in s.scalars(select(ReportRequest).order_by(ReportRequest.id))]


def office_messages(app: App) -> list[OutboxMessage]:
    with app.sessions() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "report_ready")))


def test_the_last_item_done_writes_the_report_and_tells_the_office(app: App, case: tuple[Org, int, list[int]],
                                                                   tmp_path: Path) -> None:  # fmt: skip
    o, nid, (first, second) = case
    now = app.clock.now()
    with app.sessions() as s:
        drive(s, app.env, o, first, "closed", now)
    assert requests(app) == []  # one item is still open
    assert run_reports(app, now).written == []
    with app.sessions() as s:
        service.withdraw(s, app.env, second, o.office, now, reason="经核实不属于本院问题")
    assert requests(app) == [(nid, "pending")]

    run = run_reports(app, now)

    assert run.written == [nid]
    assert requests(app) == [(nid, "done")]
    folder = tmp_path / "reports" / str(nid)
    assert sorted(p.name for p in folder.iterdir()) == [f"整改报告-{nid}.{f}" for f in ("docx", "html", "md")]
    text = "\n".join(p.text for p in Document(str(folder / f"整改报告-{nid}.docx")).paragraphs)
    assert "本次通报共涉及问题 2 项：已销号 1 项" in text and "经核实撤销 1 项" in text
    (message,) = office_messages(app)  # 督查办 has one user (jxb) with an e-mail address
    assert message.address == "jxb@hospital.example.cn"
    rendered = Renderer(app.settings.config_dir / "templates" / "messages").render(
        "report_ready", {**(message.data or {}), "recipient_name": message.recipient_name, "today": DAY.isoformat()})
    assert "整改报告已生成" in rendered.subject and f"整改报告-{nid}.docx" in rendered.text
    assert run_reports(app, now).written == []  # done once: running the job again writes and sends nothing
    assert len(office_messages(app)) == 1


def test_an_item_reopened_before_the_job_runs_cancels_the_report(app: App, case: tuple[Org, int, list[int]],
                                                                 tmp_path: Path) -> None:  # fmt: skip
    o, nid, items = case
    now = app.clock.now()
    with app.sessions() as s:
        drive(s, app.env, o, items[0], "closed", now)
        service.withdraw(s, app.env, items[1], o.office, now, reason="重复登记")
        service.reopen(s, app.env, items[0], o.office, now, reason="回头看发现问题反弹")
    run = run_reports(app, now)
    assert run.skipped == [nid] and run.written == []
    assert not (tmp_path / "reports").exists()
    assert office_messages(app) == []
    with app.sessions() as s:  # closed again: a new request, and this time the report
        drive(s, app.env, o, items[0], "closed", now)
    assert run_reports(app, now).written == [nid]


def test_closure_record_of_a_closed_item(app: App, case: tuple[Org, int, list[int]], tmp_path: Path) -> None:
    o, _, (first, second) = case
    with app.sessions() as s:
        drive(s, app.env, o, first, "closed", app.clock.now())
    path = write_closure_record(app, first, "docx", tmp_path / "record.docx")
    cells = [c.text for row in Document(str(path)).tables[0].rows for c in row.cells]
    facts = dict(zip(cells[::2], cells[1::2], strict=True))
    assert facts["存在问题"] == "临床输血管理不规范"
    assert facts["牵头科室"] == "医务科"
    assert facts["整改措施"] == "已组织全员培训"
    assert facts["是否按期"] == "按期完成"
    assert facts["销号"].startswith("王敏，2026年9月15日")
    html = write_closure_record(app, first, "html", tmp_path / "record.html").read_text(encoding="utf-8")
    assert "<th>整改措施</th><td>已组织全员培训</td>" in html
    with pytest.raises(InvalidTransition, match="尚未销号"):
        write_closure_record(app, second, "html", tmp_path / "open.html")


def finished_with_reports_blocked(app: App, case: tuple[Org, int, list[int]], tmp_path: Path) -> Path:
    """Close and withdraw the notice's two items (a report is queued) with a file where the reports
    folder should be, so writing the report fails; returns that file."""
    o, _, items = case
    now = app.clock.now()
    with app.sessions() as s:
        drive(s, app.env, o, items[0], "closed", now)
        service.withdraw(s, app.env, items[1], o.office, now, reason="重复登记")
    blocker = tmp_path / "reports"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    return blocker


def test_a_report_that_cannot_be_written_is_retried_then_marked_failed_with_the_error(
    app: App, case: tuple[Org, int, list[int]], tmp_path: Path
) -> None:
    nid, now = case[1], app.clock.now()
    finished_with_reports_blocked(app, case, tmp_path)
    run = run_reports(app, now)
    assert run.retrying == [nid] and run.failed == run.written == []
    assert requests(app) == [(nid, "pending")]
    # the next try waits a minute
    assert run_reports(app, now + dt.timedelta(seconds=59)).retrying == []
    waits = []
    at = now
    for _ in range(reporting.MAX_ATTEMPTS - 1):
        with app.sessions() as s:
            (request,) = s.scalars(select(ReportRequest))
            assert request.retry_at is not None
            waits.append(request.retry_at - at)
            at = request.retry_at
        run = run_reports(app, at)
    assert waits == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert run.failed == [nid] and requests(app) == [(nid, "failed")]
    with app.sessions() as s:
        (request,) = s.scalars(select(ReportRequest))
        assert request.attempts == reporting.MAX_ATTEMPTS and request.retry_at is None
        assert request.error and request.error.startswith(("FileExistsError", "NotADirectoryError"))
    assert office_messages(app) == []  # the office is told only of a report that exists


def test_a_report_that_failed_once_is_written_when_the_disk_is_back(
    app: App, case: tuple[Org, int, list[int]], tmp_path: Path
) -> None:
    nid, now = case[1], app.clock.now()
    blocker = finished_with_reports_blocked(app, case, tmp_path)
    assert run_reports(app, now).retrying == [nid]
    blocker.unlink()
    assert run_reports(app, now + dt.timedelta(minutes=1)).written == [nid]
    assert requests(app) == [(nid, "done")]
    assert len(office_messages(app)) >= 1
