"""What a parser reads out of a user's file, before anything is written."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportedItem:
    """One row of a supervision list, or one numbered problem of a notice text."""

    row: int
    """Where it was read: the sheet row number (1-based, as Excel shows it) or the text's line number."""
    category: str
    """Area / indicator (方面, 项目, 一级指标 …), without its score."""
    title: str
    """The problem or task (问题, 清单内容, 整改事项)."""
    detail: str | None = None
    """Sub-points kept under their problem, or the assessment standard."""
    standard: str | None = None
    """考核标准 / 评分标准, as written."""
    points: float | None = None
    """The score in brackets, such as （6分）."""
    lead_departments: tuple[str, ...] = ()
    """As written, split on newlines, 、 ， , ; and spaces; 各职能科 / 各科室 kept as written."""
    cooperating_departments: tuple[str, ...] = ()
    lead_leader: str | None = None
    """牵头领导 / 分管领导, the person's name as written."""
    responsible: str | None = None
    """责任人."""
    deadline: dt.date | None = None
    """完成时限, when the row has one (2026年12月底 → 2026-12-31)."""
    proposed_measures: tuple[str, ...] = ()
    """Measures the text proposes for the problem's area (整改措施)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """Why a row or a line cannot be imported (one line per problem in the report)."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"第 {self.row} 行" if self.row is not None else "文件"
        col = f"「{self.column}」列" if self.column else ""
        return f"{where}{col}：{self.message}"


@dataclass(slots=True, kw_only=True)
class ParsedImport:
    """The result of parsing one file."""

    items: list[ImportedItem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Things the preview should say (a header found on row 3, 各职能科 expanded …)."""
    issuer: str | None = None
    """发文单位, when a notice text names it."""
    doc_number: str | None = None
    """文号, when a notice text carries one (x卫健医[20x]x号, 绍市中医〔2024〕61号)."""
