"""Supervision lists (督办清单 / 责任分工表 / 任务分解表) from ``.xlsx`` and ``.csv`` files.

:func:`parse_table` reads a file into :class:`~.model.ParsedImport` and touches no database.

Header. The header is the first of the first :data:`.cells.HEADER_SCAN_ROWS` rows in which at least
two cells are known column names (:data:`.cells.COLUMNS`, compared without whitespace, so "责任\\n处室" is
责任处室). Title rows above it are skipped. A later row whose item cell is a column name again is a
header repeated on a new page: it is skipped, or, when its columns differ, read as the new header.

Columns. Several category columns (指标类别 → 一级指标 → 二级指标) give the most specific non-empty
one. Without an item column (清单内容, 问题 …) 二级指标 is the item. For the lead departments
牵头科室 comes first, then 责任科室, then 责任处室 / 责任单位 (used only where the former are blank).

Blank cells. A blank cell inside a vertically merged range has the value of the range ("same as
above"), in every column except the item and 分值. Without a merge, only category and leader
cells carry down from the row above: offices leave them blank for a whole group, whereas a blank
department, person, standard or deadline is really missing. The item cell never carries down.

Rows. A blank row is skipped; so is a row with a single cell in the 序号, category or first column
(a group heading, or a 说明 under the table). Other rows without an item, and cells that cannot be
read, are :class:`~.model.Problem` entries naming the row as Excel shows it (csv: the record
number, which is the line number when no cell spans lines) and the column.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import openpyxl
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.exceptions import InvalidFileException

from states.importers.cells import (
    COLUMNS,
    CellError,
    Layout,
    cell_text,
    check_layout,
    describe_layout,
    find_header,
    header_key,
    join_names,
    no_header,
    parse_deadline,
    parse_points,
    read_layout,
    split_departments,
    split_score,
    squash,
)
from states.importers.model import ImportedItem, ParsedImport, Problem

_T = TypeVar("_T")
Progress = Callable[[int, int], None]
Row = Sequence[object]
Cell = tuple[int, int]
"""(row number, 0-based column)."""

PROGRESS_EVERY = 1000

_MERGE_REF = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]+\d+:[A-Z]+\d+)"')


class _Unreadable(Exception):
    """The file itself cannot be read (not a zip, broken XML, unknown encoding)."""


def parse_table(path: Path, *, notice_year: int, progress: Progress | None = None) -> ParsedImport:
    """Read a supervision list.

    Args:
        path: an ``.xlsx`` or ``.csv`` file (UTF-8 with or without BOM, or GB18030).
        notice_year: the year of deadlines written without one (12月25日).
        progress: called as ``progress(rows_read, estimated_total)`` every :data:`PROGRESS_EVERY`
            rows and once at the end.

    Returns:
        The items, a :class:`~.model.Problem` per unreadable row or cell (rows with problems give no
        item), and notes for the preview. Problems in the user's data are never raised.
    """
    result = ParsedImport()
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        result.problems.append(
            Problem(
                row=None,
                column=None,
                message=f"不支持的文件类型「{suffix or path.name}」；请使用 .xlsx 或 .csv",
            )
        )
        return result
    try:
        sheet = _open_xlsx(path, result) if suffix == ".xlsx" else _open_csv(path, result)
        if sheet is not None:
            try:
                _Reader(sheet, notice_year, result, progress).run()
            finally:
                sheet.close()
    except _Unreadable as exc:
        result.problems.append(Problem(row=None, column=None, message=f"无法读取文件：{exc}"))
    return result


@dataclass(slots=True)
class _Sheet:
    """Rows of the chosen sheet, from the header on, with what is known about merged cells."""

    layout: Layout
    rows: Iterator[tuple[int, Row]]
    total: int
    continued: frozenset[Cell] = frozenset()
    """Cells below the top of a vertically merged range."""
    tall: frozenset[Cell] = frozenset()
    """Top cells of merged ranges spanning several rows."""
    close: Callable[[], None] = lambda: None


def _open_xlsx(path: Path, result: ParsedImport) -> _Sheet | None:
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, InvalidFileException) as exc:
        raise _Unreadable(f"{path.name} 不是有效的 .xlsx 文件（{exc}）") from exc
    try:
        sheet = _first_sheet_with_header(wb, result)
    except BaseException:
        wb.close()
        raise
    if sheet is None:
        wb.close()
        result.problems.append(no_header())
    return sheet


def _first_sheet_with_header(wb: Any, result: ParsedImport) -> _Sheet | None:
    for index, ws in enumerate(wb.worksheets):
        rows = _guarded(enumerate(ws.iter_rows(values_only=True), start=1))
        found = find_header(rows)
        if found is None:
            continue
        if index:
            result.notes.append(f"使用工作表「{ws.title}」（前面的工作表没有可识别的表头）")
        continued, tall = _merged_cells(wb, ws, result)
        return _Sheet(found[0], found[1], ws.max_row or 0, continued, tall, wb.close)
    return None


def _guarded(rows: Iterator[tuple[int, Row]]) -> Iterator[tuple[int, Row]]:
    """Turn openpyxl's failures on a damaged file into :class:`_Unreadable`."""
    try:
        yield from rows
    except (OSError, EOFError, KeyError, ValueError, SyntaxError, zlib.error, zipfile.BadZipFile) as exc:
        raise _Unreadable(f"工作表内容已损坏（{exc}）") from exc


def _merged_cells(wb: Any, ws: Any, result: ParsedImport) -> tuple[frozenset[Cell], frozenset[Cell]]:
    """Merged ranges of a read-only sheet, read from its XML (read-only openpyxl does not keep them).

    ``<mergeCells>`` follows ``<sheetData>``, so the search starts there. The sheet's XML is
    reached through openpyxl's private ``_archive`` and ``_worksheet_path``; should they change,
    merged cells are read as blank and the preview says so.
    """
    try:
        xml = wb._archive.read(ws._worksheet_path)
    except AttributeError:
        result.notes.append("未能读取合并单元格，合并单元格按空白处理")
        return frozenset(), frozenset()
    except (KeyError, OSError, zlib.error, zipfile.BadZipFile) as exc:
        raise _Unreadable(f"无法读取合并单元格（{exc}）") from exc
    start = xml.find(b"mergeCells")
    continued: set[Cell] = set()
    tall: set[Cell] = set()
    for ref in _MERGE_REF.findall(xml, max(start - 10, 0)) if start >= 0 else ():
        min_col, min_row, _, max_row = range_boundaries(ref.decode())
        if max_row > min_row:
            tall.add((min_row, min_col - 1))
            continued.update((r, min_col - 1) for r in range(min_row + 1, max_row + 1))
    return frozenset(continued), frozenset(tall)


def _open_csv(path: Path, result: ParsedImport) -> _Sheet | None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _Unreadable(str(exc)) from exc
    text = _decode(data, result)
    delimiter = "\t" if text[:4096].count("\t") > text[:4096].count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    found = find_header(enumerate(reader, start=1))
    if found is None:
        result.problems.append(no_header())
        return None
    return _Sheet(found[0], found[1], text.count("\n") + 1)


def _decode(data: bytes, result: ParsedImport) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise _Unreadable("编码既不是 UTF-8 也不是 GB18030，请在 Excel 中另存为 .xlsx") from exc
    result.notes.append("文件按 GB18030 编码读取")
    return text


def _get(row: Row, col: int | None) -> object:
    if col is None or col < 0 or col >= len(row):
        return None
    return row[col]


def _score(title: str, category_score: float | None) -> tuple[float | None, str]:
    """Without a 分值: the category's own score, else a single score in the item text (taken out)."""
    if category_score is not None:
        return category_score, title
    text, score = split_score(title)
    return score, text


class _Reader:
    """Reads the rows below the header, carrying values down as the module docstring says."""

    def __init__(self, sheet: _Sheet, year: int, result: ParsedImport, progress: Progress | None) -> None:
        self.sheet, self.year, self.result, self.progress = sheet, year, result, progress
        self.layout = sheet.layout
        self.prev: Row = ()
        self.categories: list[str] = [""] * len(self.layout.categories)
        self.leader: str | None = None
        self.open_ended: dict[str, list[int]] = {}

    def run(self) -> None:
        """Read every row, then report progress and the open-ended deadlines."""
        if not check_layout(self.layout, self.result):
            return
        describe_layout(self.layout, self.result)
        number = self.layout.row
        for number, raw in self.sheet.rows:
            row = self._unmerge(number, raw) if self.sheet.continued else raw
            self._row(number, row, raw)
            self.prev = row
            if self.progress and number % PROGRESS_EVERY == 0:
                self.progress(number, max(self.sheet.total, number))
        if self.progress:
            self.progress(number, number)
        for text, rows in self.open_ended.items():
            shown = "、".join(map(str, rows[:10])) + (" 等" if len(rows) > 10 else "")
            self.result.notes.append(f"完成时限「{text}」视为无固定期限（第 {shown} 行）")

    def _unmerge(self, number: int, raw: Row) -> Row:
        """Fill cells below the top of a merged range with the value above (not the item, not 分值)."""
        row = list(raw)
        skip = (self.layout.title, self.layout.single.get("points"))
        for col in range(max(len(row), len(self.prev))):
            if (number, col) in self.sheet.continued and col not in skip and _get(row, col) in (None, ""):
                row.extend([None] * (col + 1 - len(row)))
                row[col] = _get(self.prev, col)
        return row

    def _row(self, number: int, row: Row, raw: Row) -> None:
        title = cell_text(_get(row, self.layout.title))
        if not title:
            self._untitled(number, row, raw)
        elif not self._is_header(number, row, title):
            self._item(number, row, title)

    def _is_header(self, number: int, row: Row, title: str) -> bool:
        """A header repeated on a new page, or a new header (then the columns follow it)."""
        if len(title) > 12 or COLUMNS.get(header_key(title), ("",))[0] not in ("title", "category"):
            return False
        keys = [header_key(v) if isinstance(v, str) else "" for v in row]
        if sum(k in COLUMNS for k in keys) < 2:
            return False
        layout = read_layout(number, keys)
        if layout.names == self.layout.names:
            self.result.notes.append(f"第 {number} 行是重复的表头，已跳过")
        elif check_layout(layout, self.result):
            self.result.notes.append(f"第 {number} 行是新的表头，以下按新的列读取")
            self.layout, self.categories = layout, [""] * len(layout.categories)
        return True

    def _untitled(self, number: int, row: Row, raw: Row) -> None:
        """A blank row, a group heading or a remark (skipped), or an item without its text (problem)."""
        filled = [col for col, value in enumerate(raw) if cell_text(value)]
        seq = self.layout.single.get("seq")
        if not filled or (filled == [seq] and cell_text(raw[filled[0]]).isdigit()):
            return  # blank, or numbered but empty (templates come with 序号 filled in)
        lone = filled[0]
        if len(filled) == 1 and self._passive(lone):
            self._category(number, row)
            if lone not in self.layout.categories:
                text = squash(cell_text(raw[lone]))
                self.result.notes.append(f"第 {number} 行「{text[:20]}…」不是事项，已跳过")
            return
        name = self.layout.names[self.layout.title]
        merged = (number, self.layout.title) in self.sheet.continued
        hint = "（该单元格与上一行合并，每个事项应单独一行）" if merged else ""
        self.result.problems.append(Problem(row=number, column=name, message=f"缺少{name}{hint}"))

    def _passive(self, col: int) -> bool:
        """Whether a lone value there is a heading or remark: 序号, category, first or unused column."""
        names = self.layout.names
        fixed = (0, self.layout.single.get("seq"), *self.layout.categories)
        return col in fixed or col >= len(names) or names[col] not in COLUMNS

    def _category(self, number: int, row: Row) -> tuple[str, float | None]:
        """The most specific category, and its score when the cell is this row's own (not a group's)."""
        written = set()
        for i, col in enumerate(self.layout.categories):
            text = squash(cell_text(_get(row, col)))
            if text and text != self.categories[i]:
                self.categories[i + 1 :] = [""] * (len(self.categories) - i - 1)
            if text:
                self.categories[i] = text
                written.add(i)
        chosen = max((i for i, text in enumerate(self.categories) if text), default=-1)
        if chosen < 0:
            return "", None
        category, score = split_score(self.categories[chosen])
        cell = (number, self.layout.categories[chosen])
        own = chosen in written and cell not in self.sheet.continued and cell not in self.sheet.tall
        return category, score if own else None

    def _item(self, number: int, row: Row, title: str) -> None:
        problems: list[Problem] = []
        category, category_score = self._category(number, row)
        leads = self._leads(number, row, problems)
        deadline = self._cell(number, row, "deadline", problems, lambda v: parse_deadline(v, self.year))
        points = self._cell(number, row, "points", problems, parse_points)
        if points is None:
            points, title = _score(title, category_score)
        self.leader = join_names(self._text(row, "leader")) or self.leader
        self.result.problems.extend(problems)
        if problems:
            return
        self.result.items.append(
            ImportedItem(
                row=number,
                category=category,
                title=title,
                standard=self._text(row, "standard") or None,
                points=points,
                lead_departments=leads,
                cooperating_departments=split_departments(self._text(row, "coop")),
                lead_leader=self.leader,
                responsible=join_names(self._text(row, "responsible")),
                deadline=deadline,
                proposed_measures=tuple(self._text(row, "measures").splitlines()),
            )
        )

    def _text(self, row: Row, name: str) -> str:
        return cell_text(_get(row, self.layout.single.get(name)))

    def _leads(self, number: int, row: Row, problems: list[Problem]) -> tuple[str, ...]:
        for col in self.layout.leads:
            departments = split_departments(cell_text(_get(row, col)))
            if departments:
                return departments
        problems.append(
            Problem(row=number, column=self.layout.names[self.layout.leads[0]], message="缺少牵头科室")
        )
        return ()

    def _cell(
        self, number: int, row: Row, name: str, problems: list[Problem], parse: Callable[[object], _T]
    ) -> _T | None:
        """Parse one optional cell; an unreadable value becomes a problem naming row and column."""
        col = self.layout.single.get(name)
        value = _get(row, col)
        try:
            parsed = parse(value)
        except CellError as exc:
            column = self.layout.names[col] if col is not None else name
            problems.append(
                Problem(row=number, column=column, message=f"{column}「{cell_text(value)}」{exc.why}")
            )
            return None
        if parsed is None and name == "deadline" and cell_text(value):
            self.open_ended.setdefault(cell_text(value), []).append(number)
        return parsed
