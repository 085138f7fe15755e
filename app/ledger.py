"""The ledger (整改台账) as an .xlsx an office files, prints, and can import again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from states.calendar import WorkingCalendar
from states.model import Item, Notice
from states.permissions import CONSOLE_READER
from states.queries import ItemView, list_items

#: The list's own columns first (the importer reads them back), then the ledger's.
HEADER = ("序号", "方面", "问题", "考核标准", "牵头领导", "牵头科室", "配合科室", "责任人", "完成时限",
          "状态", "整改措施期限", "销号日期", "逾期工作日")  # fmt: skip
WIDTHS = (6, 18, 40, 30, 10, 16, 16, 10, 12, 12, 12, 12, 10)


def write_ledger(
    session: Session, calendar: WorkingCalendar, notice: Notice, today: dt.date, path: Path
) -> int:
    """Write the notice's items to ``path``; returns how many rows were written."""
    views = list_items(session, calendar, CONSOLE_READER, today, notice_id=notice.id)
    ledger_workbook(session, views, f"{notice.title} 整改台账（截至 {today.isoformat()}）").save(path)
    return len(views)


def ledger_workbook(session: Session, views: Sequence[ItemView], title: str) -> Workbook:
    """The ledger rows as a workbook: a title row, the header, one row per item."""
    items = _items(session, [v.id for v in views])
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "整改台账"
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(list(HEADER))
    for n, v in enumerate(views, start=1):
        ws.append(_row(n, v, items[v.id]))
    for col, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[ws.cell(row=2, column=col).column_letter].width = width
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    return wb


def _row(n: int, v: ItemView, it: Item) -> list[object]:
    category = v.category + (f"（{it.points:g}分）" if it.points is not None else "")
    return [n, category, v.title, it.standard or "", v.lead_leader or it.lead_leader_name or "",
            "\n".join(v.lead_departments), "\n".join(v.cooperating_departments), it.responsible or "",
            v.completion_due, v.state_label, v.measures_due, v.closed_on, v.overdue_workdays]  # fmt: skip


#: Ids per ``IN (…)`` when loading the rows' items.
CHUNK = 500


def _items(session: Session, ids: list[int]) -> dict[int, Item]:
    found: dict[int, Item] = {}
    for start in range(0, len(ids), CHUNK):
        found |= {i.id: i for i in session.scalars(select(Item).where(Item.id.in_(ids[start : start + CHUNK])))}
    return found
