"""The closure record (销号单) of one item: what was wrong, what the department did, who verified
and closed it and when, on time or late. One page an office files with the item's evidence.

Rendered from ``config/templates/reports/closure_record.{html,md}.j2`` (an office may change them)
or as a DOCX table in the official-document fonts.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt
from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.report_docx import BODY_FONT, SIZE_2HAO, TITLE_FONT, a4_document, paragraph, styled_run
from flows.reports import render_template
from flows.runtime import App
from states.calendar import WorkingCalendar
from states.errors import InvalidInput, InvalidTransition
from states.model import Evidence, Extension, ItemEvent
from states.service import get_item

FORMATS = ("docx", "html", "md")
TITLE = "整改事项销号单"


def _cn(d: dt.date | None) -> str:
    return f"{d.year}年{d.month}月{d.day}日" if d else "—"


def _last(events: list[ItemEvent], action: str) -> ItemEvent | None:
    return next((e for e in reversed(events) if e.action == action), None)


def record_context(session: Session, item_id: int, calendar: WorkingCalendar, tz: ZoneInfo,
                   institution: str) -> dict[str, Any]:  # fmt: skip
    """The facts of a closed item's closure record.

    Raises:
        ItemNotFound: no such item.
        InvalidTransition: the item is not closed (a closure record exists only for closed items).
    """
    item = get_item(session, item_id)
    if item.state != "closed" or item.closed_on is None:
        raise InvalidTransition(item_id, item.state, "closure_record", "事项尚未销号，不能出具销号单")
    events = list(session.scalars(select(ItemEvent).where(ItemEvent.item_id == item_id).order_by(ItemEvent.id)))
    filed, verified, closed = _last(events, "file_measures"), _last(events, "verify"), _last(events, "close")
    due = item.completion_due or item.measures_due
    late = calendar.workdays_between(due, item.closed_on) if due and item.closed_on > due else 0
    evidence = session.scalars(select(Evidence.file_name).where(Evidence.item_id == item_id).order_by(Evidence.id))
    extensions = session.scalars(select(Extension).where(Extension.item_id == item_id,
                                                         Extension.status == "approved").order_by(Extension.id))  # fmt: skip
    notice = item.notice

    def who(e: ItemEvent | None) -> str:
        return e.actor.name if e and e.actor else "—"

    def when(e: ItemEvent | None) -> str:
        return _cn(e.at.astimezone(tz).date()) if e else "—"

    rows = [
        ("来源通报", f"{notice.title}{f'（{notice.doc_number}）' if notice.doc_number else ''}"),
        ("事项编号", f"{item.notice_id}-{item.seq}（#{item.id}）"),
        ("问题类别", item.category),
        ("存在问题", item.title + (f"\n{item.detail}" if item.detail else "")),
        ("牵头科室", "、".join(item.lead_names) or "—"),
        ("配合科室", "、".join(item.cooperating_names) or "—"),
        ("牵头领导", (item.lead_leader.name if item.lead_leader else item.lead_leader_name) or "—"),
        ("整改时限", f"措施 {_cn(item.measures_due)}；完成 {_cn(item.completion_due)}"),
        ("经批准延期", "；".join(f"{_cn(x.current_due)} → {_cn(x.requested_due)}（{x.reason}）" for x in extensions) or "无"),
        ("整改措施", item.measures or "—"),
        ("佐证材料", "、".join(evidence) or "无"),
        ("措施提交", f"{who(filed)}，{when(filed)}"),
        ("核验意见", f"{who(verified)}，{when(verified)}{f'：{verified.reason}' if verified and verified.reason else '：核验通过'}"),
        ("销号", f"{who(closed)}，{_cn(item.closed_on)}{f'：{closed.reason}' if closed and closed.reason else ''}"),
        ("是否按期", "按期完成" if not late else f"逾期 {late} 个工作日完成"),
    ]  # fmt: skip
    return {"title": TITLE, "rows": rows, "institution": institution, "on_time": not late,
            "item_id": item.id, "closed_on": _cn(item.closed_on)}  # fmt: skip


def write_docx_record(context: dict[str, Any], path: Path) -> Path:
    doc = a4_document(30, 30, 25, 25)
    paragraph(doc, context["title"], font=TITLE_FONT, size=SIZE_2HAO, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in context["rows"]:
        cells = table.add_row().cells
        cells[0].width, cells[1].width = Mm(35), Mm(125)
        styled_run(cells[0].paragraphs[0], label, BODY_FONT, Pt(14))
        styled_run(cells[1].paragraphs[0], value, BODY_FONT, Pt(14))
    paragraph(doc, "", indent=False)
    paragraph(doc, f"{context['institution']}（盖章）", indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    paragraph(doc, context["closed_on"], indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    doc.save(str(path))
    return path


def write_closure_record(app: App, item_id: int, fmt: str, path: Path) -> Path:
    """Write the closure record of a closed item in ``fmt`` (docx, html, md) to ``path``.

    Raises:
        InvalidInput: an unknown format.
        ItemNotFound: no such item.
        InvalidTransition: the item is not closed.
    """
    if fmt not in FORMATS:
        raise InvalidInput("--format", fmt, f"可选值：{', '.join(FORMATS)}")
    with app.sessions() as s:
        context = record_context(s, item_id, app.env.calendar, app.env.tz, app.settings.institution)
    if fmt == "docx":
        return write_docx_record(context, path)
    path.write_text(render_template(app.settings.config_dir / "templates" / "reports", f"closure_record.{fmt}.j2",
                                    context), encoding="utf-8")  # fmt: skip
    return path
