"""Cell-level parsing for supervision lists: the header row, text, departments, names, scores, deadlines.

Every function here is pure and small. A value the user wrote that cannot be read raises
:class:`CellError`, which carries only *why*; :mod:`.table` adds the row and the column and turns it
into a :class:`~.model.Problem`. Results of the string parsers are cached, because real tables
repeat the same departments and deadlines on thousands of rows.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from states.importers.model import ParsedImport, Problem

Row = Sequence[object]
HEADER_SCAN_ROWS = 20
"""The header is looked for in this many rows at the top of the sheet."""

OPEN_ENDED = frozenset({"长期", "长期坚持", "持续", "持续推进", "持续整改", "常态化", "长期推进"})
"""Deadlines that name no date; the item gets none and the preview says so."""

_DEPT_SEP = re.compile(r"[\n\r、，,;；/／\s]+")
_NAME_SEP = re.compile(r"[\n\r、，,;；/]+")
_SCORE = re.compile(r"[（(]\s*(\d+(?:\.\d+)?)\s*分\s*[）)]")
_CJK_SPACE = re.compile(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])")
_SPACES = re.compile(r"\s+")
_NUMBER = re.compile(r"[（(]?\s*(\d+(?:\.\d+)?)\s*分?\s*[）)]?")

_YMD = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})|(\d{4})(\d{2})(\d{2})")
_CN_DAY = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]")
_CN_MONTH = re.compile(r"(?:(\d{4})年)?(\d{1,2})月份?(?:底|末)?|(\d{4})[-/.](\d{1,2})")
_YEAR_END = re.compile(r"(?:(\d{4}))?年{1,2}(?:底|末|内)|(\d{4})年")
_TIME = re.compile(r"\s+\d{1,2}:\d{2}(?::\d{2})?$")
_QUARTER = re.compile(r"(?:(\d{4})年)?第?([一二三四1-4])季度(?:末|底)?")
_HALF = re.compile(r"(?:(\d{4})年)?(上半年|年中|下半年)(?:底|末)?")
_BEFORE = re.compile(r"(?:之前|以前|前|止|为止)$")
_QUARTER_NO = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}

NOT_A_DATE = "不是有效日期"
UNREADABLE_DATE = "无法识别为日期（可写 2026年12月31日、2026-12-31、12月25日、12月底 或 年底）"


class CellError(ValueError):
    """A cell's content cannot be read; ``why`` completes "列名「原文」…"."""

    def __init__(self, why: str) -> None:
        self.why = why
        super().__init__(why)


def cell_text(value: object) -> str:
    """The text of a cell as written: lines stripped, empty lines dropped, joined by newlines.

    Args:
        value: what openpyxl or the csv module gave (str, int, float, date or None).

    Returns:
        ``""`` for an empty cell; whole numbers without a trailing ``.0``.
    """
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value.strip() if isinstance(value, str) else str(value)
    if "\n" not in text and "\r" not in text:
        return text
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


@lru_cache(maxsize=4096)
def squash(text: str) -> str:
    """Drop the line breaks and padding that narrow cells add: "加强政治\\n建设" → "加强政治建设".

    Whitespace next to a Chinese character goes; other runs of whitespace become one space.
    """
    return _SPACES.sub(" ", _CJK_SPACE.sub("", text)).strip()


def header_key(value: object) -> str:
    """A header cell reduced to what the column synonyms list: no whitespace, full-width brackets."""
    text = "".join(cell_text(value).split())
    return text.replace("(", "（").replace(")", "）").strip("*＊:：")


_CATEGORY = {"指标类别": 0, "类别": 0, "项目": 1, "项目（分值）": 1, "指标": 1, "一级指标": 1, "方面": 1}
_LEAD = {"牵头科室": 0, "牵头部门": 0, "牵头单位": 0, "责任科室": 1, "责任部门": 1}
_LEAD |= dict.fromkeys(("责任处室", "责任单位", "责任单位及股室", "责任股室"), 2)
_TITLE = ("清单内容", "整改事项", "问题", "存在问题", "问题清单", "工作任务", "任务", "事项", "事项及分值")
COLUMNS: dict[str, tuple[str, int]] = {
    "序号": ("seq", 0),
    "编号": ("seq", 0),
    **{k: ("category", rank) for k, rank in _CATEGORY.items()},
    "二级指标": ("category", 2),
    **dict.fromkeys(_TITLE, ("title", 0)),
    **dict.fromkeys(("考核标准", "评分标准", "考评标准"), ("standard", 0)),
    **{k: ("lead", rank) for k, rank in _LEAD.items()},
    **dict.fromkeys(("配合科室", "协办科室", "配合单位", "配合部门", "协办单位"), ("coop", 0)),
    **dict.fromkeys(("牵头领导", "分管领导", "责任领导", "分管院领导", "分管局领导"), ("leader", 0)),
    **dict.fromkeys(("责任人", "具体责任人"), ("responsible", 0)),
    **dict.fromkeys(("完成时限", "整改时限", "时限", "完成时间", "整改期限", "完成期限"), ("deadline", 0)),
    **dict.fromkeys(("分值", "分值（分）", "分数"), ("points", 0)),
    "整改措施": ("measures", 0),
}
"""Header names offices use (without whitespace) → (field, rank); a lower rank wins within a field."""


@dataclass(frozen=True, slots=True)
class Layout:
    """Which column (0-based) holds what, as read from the header row."""

    row: int
    names: tuple[str, ...]
    title: int
    categories: tuple[int, ...] = ()
    """General to specific (指标类别, 一级指标, 二级指标)."""
    leads: tuple[int, ...] = ()
    """In order of preference (牵头科室 before 责任处室)."""
    single: dict[str, int] = field(default_factory=dict)
    """standard, coop, leader, responsible, deadline, points, measures."""


def read_layout(number: int, keys: list[str]) -> Layout:
    """Map the header cells of row ``number`` to fields.

    A field with several columns keeps the best-ranked one (categories and leads keep all, in
    order). Without an item column, a 二级指标 column is the item. ``title`` is -1 when there is none.
    """
    found: dict[str, list[tuple[int, int]]] = {}
    for col, key in enumerate(keys):
        if key in COLUMNS:
            name, rank = COLUMNS[key]
            found.setdefault(name, []).append((rank, col))
    categories = [col for _, col in sorted(found.get("category", []))]
    titles = found.get("title")
    if titles:
        title = titles[0][1]
    elif categories and keys[categories[-1]] == "二级指标":
        title = categories.pop()
    else:
        title = -1
    single = {name: min(cols)[1] for name, cols in found.items() if name not in ("title", "category", "lead")}
    leads = tuple(col for _, col in sorted(found.get("lead", [])))
    return Layout(number, tuple(keys), title, tuple(categories), leads, single)


def no_header() -> Problem:
    """The file-level problem when no row looks like a header."""
    names = "、".join(("序号", "清单内容", "牵头科室", "配合科室", "完成时限"))
    return Problem(
        row=None, column=None, message=f"前 {HEADER_SCAN_ROWS} 行中找不到表头（应有 {names} 等列名）"
    )


def find_header(rows: Iterator[tuple[int, Row]]) -> tuple[Layout, Iterator[tuple[int, Row]]] | None:
    """The layout of the first header row, and the rows after it."""
    for number, row in rows:
        if number > HEADER_SCAN_ROWS:
            return None
        keys = [header_key(v) if isinstance(v, str) else "" for v in row]
        if sum(k in COLUMNS for k in keys) >= 2:
            return read_layout(number, keys), rows
    return None


def check_layout(layout: Layout, result: ParsedImport) -> bool:
    """Whether the header has what every item needs; a file-level problem otherwise."""
    if layout.title < 0:
        result.problems.append(
            Problem(row=layout.row, column=None, message="表头中没有清单内容 / 整改事项 / 问题列")
        )
    if not layout.leads:
        result.problems.append(
            Problem(row=layout.row, column=None, message="表头中没有牵头科室 / 责任单位列")
        )
    return layout.title >= 0 and bool(layout.leads)


def describe_layout(layout: Layout, result: ParsedImport) -> None:
    """Notes for the preview: where the header is, what stands for the item, which columns are unused."""
    if layout.row > 1:
        result.notes.append(f"表头在第 {layout.row} 行")
    if layout.names[layout.title] == "二级指标":
        result.notes.append("表中没有「清单内容」列：以「二级指标」为事项")
    ignored = [n for n in layout.names if n and n not in COLUMNS]
    if ignored:
        result.notes.append(f"未使用的列：{'、'.join(ignored)}")


@lru_cache(maxsize=4096)
def split_departments(text: str) -> tuple[str, ...]:
    """Departments written in one cell, in order, without repeats.

    Separators are newlines, 、 ， , ; ； / and spaces. Group names (各职能科, 各科室) are kept as
    written; expanding them is the database side's job.
    """
    return tuple(dict.fromkeys(p for p in _DEPT_SEP.split(text) if p))


@lru_cache(maxsize=4096)
def join_names(text: str) -> str | None:
    """People named in one cell, normalised to "陈霏明、许金钟".

    Spaces are *not* separators: offices pad two-character names ("高  峰"), which become "高峰".
    """
    names = [squash(p) for p in _NAME_SEP.split(text)]
    return "、".join(dict.fromkeys(n for n in names if n)) or None


@lru_cache(maxsize=4096)
def split_score(text: str) -> tuple[str, float | None]:
    """Take a score in brackets out of a category or item text.

    Only a text with exactly one score gives it up ("省目标任务（25分）" → ("省目标任务", 25.0));
    a text listing sub-scores ("1.…（1分） 2.…（1分）") is left whole, with no score.
    """
    found = _SCORE.findall(text)
    if len(found) != 1:
        return text, None
    return _SCORE.sub("", text).strip(), float(found[0])


def parse_points(value: object) -> float | None:
    """The value of a 分值 column: a number, "5", "5分" or "（5分）".

    Raises:
        CellError: the cell holds something else.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = squash(cell_text(value))
    if not text:
        return None
    match = _NUMBER.fullmatch(text)
    if match is None:
        raise CellError("不是分值（应为数字，如 5 或 5分）")
    return float(match.group(1))


def parse_deadline(value: object, notice_year: int) -> dt.date | None:
    """A deadline cell as a date.

    Accepted: Excel date cells; 2026-12-20, 2026/12/20, 2026.12.20, 20261220; 2026年12月31日;
    12月25日 (year of the notice); 2026年12月底, 12月, 2026-12 (last day of the month);
    年底, 2026年底 (31 December); 第三季度, 上半年; a trailing 前 / 之前 is ignored.

    Args:
        value: the cell value.
        notice_year: the year of dates written without one.

    Returns:
        The date, or None for an empty cell or an open-ended deadline (:data:`OPEN_ENDED`).

    Raises:
        CellError: an impossible date (2026年2月30日) or text that is not a date.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise CellError(UNREADABLE_DATE)
    return _parse_date_text(value, notice_year)


@lru_cache(maxsize=4096)
def _parse_date_text(text: str, notice_year: int) -> dt.date | None:
    text = _TIME.sub("", unicodedata.normalize("NFKC", text).strip())  # "2026/12/31 0:00" from a csv
    clean = _BEFORE.sub("", "".join(text.split()))
    if not clean or clean in OPEN_ENDED:
        return None
    for parse in (_exact_day, _month_end, _period_end):
        found = parse(clean, notice_year)
        if found is not None:
            return found
    raise CellError(UNREADABLE_DATE)


def _exact_day(text: str, year: int) -> dt.date | None:
    if m := _YMD.fullmatch(text):
        y, mo, d = (
            (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(4), m.group(5), m.group(6))
        )
        return _date(int(y), int(mo), int(d))
    if m := _CN_DAY.fullmatch(text):
        return _date(int(m.group(1) or year), int(m.group(2)), int(m.group(3)))
    return None


def _month_end(text: str, year: int) -> dt.date | None:
    if m := _CN_MONTH.fullmatch(text):
        y, mo = (m.group(1), m.group(2)) if m.group(2) else (m.group(3), m.group(4))
        return _last_day(int(y or year), int(mo))
    return None


def _period_end(text: str, year: int) -> dt.date | None:
    if m := _YEAR_END.fullmatch(text):
        return dt.date(int(m.group(1) or m.group(2) or year), 12, 31)
    if m := _QUARTER.fullmatch(text):
        return _last_day(int(m.group(1) or year), 3 * _QUARTER_NO[m.group(2)])
    if m := _HALF.fullmatch(text):
        return _last_day(int(m.group(1) or year), 12 if m.group(2) == "下半年" else 6)
    return None


def _date(year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise CellError(NOT_A_DATE) from None


def _last_day(year: int, month: int) -> dt.date:
    if not 1 <= month <= 12 or not 1 <= year <= 9999:
        raise CellError(NOT_A_DATE)
    return dt.date(year, month, calendar.monthrange(year, month)[1])
