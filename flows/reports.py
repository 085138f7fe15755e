"""The rectification report (整改报告) of a notice, rendered from ``config/templates/reports``.

Written on demand (``rectiflow report``, the web pages) as a draft while items are open, and by
itself when a notice's last item is done: the closing transition queues a request and
:func:`run_reports` (embedded scheduler, Prefect flow) writes DOCX, HTML and Markdown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError
from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.report_docx import write_docx
from flows.runtime import App
from states import reporting
from states.errors import STATE_LABELS, InvalidInput, NotFound, RectiflowError
from states.model import Item, ItemEvent, Notice

NUMERALS = "一二三四五六七八九十"


def _numeral(n: int) -> str:
    return NUMERALS[n - 1] if n <= 10 else str(n)


def _title(notice_title: str) -> str:
    """关于20xx年…情况的通报 → 20xx年…情况整改报告."""
    core = notice_title.removeprefix("关于")
    for suffix in ("的通报", "的反馈意见", "的督办通知", "通报"):
        core = core.removesuffix(suffix)
    return f"{core}整改报告"


def report_context(session: Session, notice_id: int, today: dt.date, institution: str) -> dict[str, Any]:
    """Everything the report template needs, from the notice, its items and their events.

    Raises:
        NotFound: no such notice.
    """
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFound("通报", notice_id)
    items = list(session.scalars(select(Item).where(Item.notice_id == notice_id).order_by(Item.seq)))
    extended = set(session.scalars(select(ItemEvent.item_id).where(
        ItemEvent.action == "approve_extension", ItemEvent.item_id.in_([i.id for i in items]))))  # fmt: skip
    areas: dict[str, dict[str, Any]] = {}
    for it in items:
        area = areas.setdefault(it.category, {"category": it.category, "problems": [], "measures": []})
        area["problems"].append({"title": it.title.rstrip("。"), "detail": it.detail, "state_label": STATE_LABELS[it.state],
                                 "closed_on": it.closed_on.isoformat() if it.closed_on else None})  # fmt: skip
        if it.measures and it.state != "withdrawn":
            area["measures"].append(it.measures.rstrip("。") + "。")
    for n, area in enumerate(areas.values(), start=1):
        area["numeral"] = _numeral(n)
    final = [it.completion_due or it.measures_due for it in items]
    closed = [(it, due) for it, due in zip(items, final, strict=True) if it.state == "closed"]
    on_time = sum(1 for it, due in closed if due is None or (it.closed_on and it.closed_on <= due))
    departments = list(dict.fromkeys(name for it in items for name in it.lead_names))
    figures = {"total": len(items), "closed": len(closed), "on_time": on_time, "late": len(closed) - on_time,
               "extended": len(extended), "withdrawn": sum(1 for it in items if it.state == "withdrawn"),
               "open": sum(1 for it in items if it.state not in ("closed", "withdrawn"))}  # fmt: skip
    return {
        "report_title": _title(notice.title), "issuer": notice.issuer, "notice_title": notice.title,
        "doc_number": notice.doc_number, "departments": departments, "areas": list(areas.values()),
        "figures": figures, "summary_numeral": _numeral(len(areas) + 1), "next_numeral": _numeral(len(areas) + 2),
        "institution": institution, "today": f"{today.year}年{today.month}月{today.day}日",
    }  # fmt: skip


FORMATS = ("md", "html", "docx")


def render_template(templates: Path, name: str, context: dict[str, Any]) -> str:
    """Render a document template of ``config/templates/reports``; ``*.html.j2`` escapes what users typed."""
    env = Environment(loader=FileSystemLoader(templates), undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True, keep_trailing_newline=True, autoescape=name.endswith(".html.j2"))  # fmt: skip
    return env.get_template(name).render(context)


def render_closure_report(templates: Path, context: dict[str, Any], fmt: str = "md") -> str:
    """The Markdown or HTML report (HTML escapes everything users typed)."""
    return render_template(templates, f"closure.{fmt}.j2", context)


def write_report(app: App, notice_id: int, fmt: str, path: Path, *, institution: str | None = None) -> Path:
    """Write the notice's report in ``fmt`` (md, html, docx) to ``path``; a draft while items are open.

    Raises:
        InvalidInput: an unknown format.
        NotFound: no such notice.
    """
    if fmt not in FORMATS:
        raise InvalidInput("--format", fmt, f"可选值：{', '.join(FORMATS)}")
    with app.sessions() as s:
        context = report_context(s, notice_id, app.today(), institution or app.settings.institution)
    if fmt == "docx":
        return write_docx(context, path)
    path.write_text(render_closure_report(app.settings.config_dir / "templates" / "reports", context, fmt),
                    encoding="utf-8")  # fmt: skip
    return path


def write_closure_report(app: App, notice_id: int, out_dir: Path, *, formats: tuple[str, ...] = FORMATS,
                         institution: str = "") -> list[Path]:  # fmt: skip
    """Write ``整改报告-<notice>.<fmt>`` into ``out_dir`` for each format; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [write_report(app, notice_id, fmt, out_dir / f"整改报告-{notice_id}.{fmt}", institution=institution or None)
            for fmt in formats]  # fmt: skip


@dataclass(frozen=True, slots=True)
class ReportRun:
    """What one run of the report job did."""

    written: list[int] = field(default_factory=list)
    """Notices whose report was written (and the office told)."""
    skipped: list[int] = field(default_factory=list)
    """Notices reopened before the job ran: no report."""
    retrying: list[int] = field(default_factory=list)
    """Notices whose report failed this time and will be tried again after a backoff."""
    failed: list[int] = field(default_factory=list)
    """Notices whose report failed the last allowed time: given up, the error kept."""


def run_reports(app: App, now: dt.datetime) -> ReportRun:
    """Write the reports queued by closing transitions (DOCX, HTML, Markdown) and tell the office.

    Files go to ``settings.reports_dir/<notice id>/``. A request that fails (a template error, a
    full disk) records the error and is retried after a backoff, up to
    :data:`states.reporting.MAX_ATTEMPTS` attempts, then marked failed; the next ones still run.
    """
    run = ReportRun()
    with app.engine.connect() as conn:
        requests = reporting.pending(conn, now)
    for request in requests:
        if not request.still_done:
            with app.engine.begin() as conn:
                reporting.skip(conn, request, "通报已有事项重新打开", now)
            run.skipped.append(request.notice_id)
            continue
        try:
            paths = write_closure_report(app, request.notice_id, app.settings.reports_dir / str(request.notice_id))
        except (OSError, RectiflowError, TemplateError) as exc:
            with app.engine.begin() as conn:
                given_up = reporting.fail(conn, request.request_id, f"{type(exc).__name__}: {exc}", now)
            (run.failed if given_up else run.retrying).append(request.notice_id)
            continue
        with app.engine.begin() as conn:
            if reporting.finish(conn, request, [str(p) for p in paths], now, app.env.calendar, app.env.delivery):
                run.written.append(request.notice_id)
    return run
