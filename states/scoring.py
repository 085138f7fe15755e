"""Assessment scoring (考核评分): the scheme's rules as data, scored by pure functions.

An institution is assessed by a scheme (考核方案) listing indicators (考核指标) with points (分值),
each with a responsible department (责任科室) and a rule turning the reported value into a score.
On top of the indicators come bonuses (加分事项, capped in total), vetoes (否决事项: 不定等次,
一票否决, 降低考核档次) and what the rectification record (整改台账) takes away. The office edits
``config/scoring.toml``; :func:`load_rules` reads it, :func:`score_department` scores one
department and returns a :class:`Scorecard` whose :meth:`Scorecard.explain` lists every step.

Rule shapes (``kind``):

=====================  =====================================================================
``all_or_nothing``     未完成不得分: done → full points, not done → 0
``per_unit``           每少1项扣0.25分 / 每少5%扣0.1分 / 每发现1起扣0.5分: value = units missing;
                       deduction = ⌊value ÷ step⌋ × deduct
``per_point_below``    低于目标每下降1个百分点扣0.5分: one deduction per full step below target
``per_point_above``    漏报率每上升1%扣0.2分: one deduction per full step above target
``ratio_bands``        按完成率分档 (seed 002): points × band factor × 平均得分率
=====================  =====================================================================

Arithmetic is exact (:class:`~decimal.Decimal`; TOML floats are read through their decimal text,
so 0.1 stays 0.1), every score is rounded half-up to two decimals (如遇小数，取小数点后两位数), a
rule never takes away more than its ``cap`` (最多扣) nor more than the indicator's points
(扣完为止). The same rules and inputs always give the same scorecard.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

from states.errors import InvalidInput

KINDS = ("all_or_nothing", "per_unit", "per_point_below", "per_point_above", "ratio_bands")
EFFECTS = ("no_grade", "fail", "lower_grade")
"""Veto effects, strongest first: with several vetoes the first of these wins."""
EFFECT_LABELS = {"no_grade": "不定等次", "fail": "一票否决", "lower_grade": "降低考核档次"}
NO_GRADE = "不定等次"

ZERO, ONE, CENT = Decimal(0), Decimal(1), Decimal("0.01")
PERCENT_UNITS = ("%", "个百分点")

TOP_KEYS = ("version", "period", "average_rate", "bonus_cap", "indicators", "bonuses", "vetoes", "grades",
            "rectification")  # fmt: skip
INDICATOR_KEYS = ("code", "name", "points", "department", "standard", "rule", "cap")
RULE_KEYS = {
    "all_or_nothing": ("kind",),
    "per_unit": ("kind", "deduct", "step", "unit", "verb"),
    "per_point_below": ("kind", "target", "deduct", "step", "unit"),
    "per_point_above": ("kind", "target", "deduct", "step", "unit"),
    "ratio_bands": ("kind", "bands"),
}
BONUS_KEYS = ("code", "name", "points", "levels", "capped")
VETO_KEYS = ("code", "name", "effect")
GRADE_KEYS = ("scale", "bands")
RECTIFICATION_KEYS = ("late", "reopened", "talk", "cap", "on_time_bands")

T = TypeVar("T")


# ----------------------------------------------------------------------------------------------
# Rules (考核方案)
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AllOrNothing:
    """未完成不得分: the value is done (true / 1) or not (false / 0)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PerUnit:
    """每少1项扣0.25分: ``deduct`` for every full ``step`` units missing (or incidents found)."""

    deduct: Decimal
    step: Decimal = ONE
    unit: str = "项"
    """What is counted, for the reason text: 项, %, 起, 次, 名 …"""
    verb: str = "少"
    """How the count reads: 少 (每少1项), 发现 (每发现1起), 降 (每降5名) …"""


@dataclass(frozen=True, slots=True, kw_only=True)
class PerPointBelow:
    """低于目标每下降1个百分点扣0.5分: ``deduct`` for every full ``step`` below ``target``."""

    target: Decimal
    deduct: Decimal
    step: Decimal = ONE
    unit: str = "个百分点"


@dataclass(frozen=True, slots=True, kw_only=True)
class PerPointAbove:
    """漏报率每上升1%扣0.2分: ``deduct`` for every full ``step`` above ``target``."""

    target: Decimal
    deduct: Decimal
    step: Decimal = ONE
    unit: str = "个百分点"


@dataclass(frozen=True, slots=True)
class Band:
    """One band of a completion table: from ``min`` % (inclusive) the score is points × ``factor``."""

    min: Decimal
    factor: Decimal


@dataclass(frozen=True, slots=True)
class RatioBands:
    """按完成率分档 (seed 002): bands from the highest ``min`` down to 0; factors never rise going down."""

    bands: tuple[Band, ...]


Rule = AllOrNothing | PerUnit | PerPointBelow | PerPointAbove | RatioBands


@dataclass(frozen=True, slots=True, kw_only=True)
class Indicator:
    """One assessed indicator (考核指标)."""

    code: str
    name: str
    points: Decimal
    """分值 (设定分)."""
    department: str
    """责任科室: the department whose scorecard lists the indicator."""
    rule: Rule
    standard: str = ""
    """考核标准, the scheme's own words."""
    cap: Decimal | None = None
    """最多扣 X 分: the most the rule may take away (deduction rules only)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Bonus:
    """A kind of bonus (加分事项): a fixed number of points, or points by level (市级/省级/国家级)."""

    code: str
    name: str
    levels: tuple[tuple[str, Decimal], ...] = ()
    points: Decimal | None = None
    capped: bool = True
    """Counts towards ``bonus_cap`` (false for e.g. 国考等级提升: 除国考外其它加分总分不超过6分)."""

    def points_for(self, level: str | None) -> Decimal:
        """Points of one award at ``level``.

        Raises:
            InvalidInput: a level for a fixed bonus, or a level the bonus does not have.
        """
        if self.points is not None:
            if level is not None:
                raise InvalidInput(f"bonuses.{self.code}.level", level, "该加分事项为固定分值，不分级别")
            return self.points
        table = dict(self.levels)
        if level not in table:
            raise InvalidInput(f"bonuses.{self.code}.level", level or "", f"可选级别：{'、'.join(table)}")
        return table[level]


@dataclass(frozen=True, slots=True, kw_only=True)
class Veto:
    """A veto (否决事项): ``no_grade`` 不定等次, ``fail`` 一票否决 (不合格), ``lower_grade`` 降低考核档次."""

    code: str
    name: str
    effect: str


@dataclass(frozen=True, slots=True)
class GradeBand:
    """From ``min`` points (inclusive) the grade is ``name``."""

    min: Decimal
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Grades:
    """考核等次: bands from the highest ``min`` down; a score below the last band gets the last name."""

    bands: tuple[GradeBand, ...]
    scale: Decimal | None = None
    """折算: grade on indicator points converted to this full mark (100) plus bonuses minus deductions;
    ``None`` grades the raw total."""


@dataclass(frozen=True, slots=True)
class RateBand:
    """From an on-time closure rate of ``min`` % (inclusive) the department loses ``deduct`` points."""

    min: Decimal
    deduct: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class RectificationRules:
    """What the rectification record takes away from a department (整改扣分)."""

    late: Decimal = ZERO
    """Per item closed late (逾期销号)."""
    reopened: Decimal = ZERO
    """Per reopened item (销号后重新打开)."""
    talk: Decimal = ZERO
    """Per 约谈."""
    cap: Decimal | None = None
    """The most the record may take away from one department (每科室最多扣)."""
    on_time_bands: tuple[RateBand, ...] = ()
    """按期销号率 bands, from the highest ``min`` down to 0."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Rules:
    """A whole scheme (考核方案), as read from ``config/scoring.toml``."""

    version: str
    """Recorded on every scorecard."""
    period: str
    indicators: tuple[Indicator, ...]
    grades: Grades
    bonuses: tuple[Bonus, ...] = ()
    bonus_cap: Decimal | None = None
    """加分总分上限 (加分总分不超过6分); ``None``: no cap."""
    vetoes: tuple[Veto, ...] = ()
    rectification: RectificationRules = RectificationRules()
    average_rate: Decimal = ONE
    """平均得分率 of the period for ``ratio_bands`` indicators (an input may override it)."""

    def departments(self) -> list[str]:
        """Every responsible department, in the order of first appearance."""
        return list(dict.fromkeys(i.department for i in self.indicators))

    def indicators_of(self, department: str) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.department == department)


# ----------------------------------------------------------------------------------------------
# Inputs and outputs
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IndicatorResult:
    """The reported value of one indicator: done (true/false) for ``all_or_nothing``, else a number
    (units missing, the actual percentage or score, the completion percentage)."""

    code: str
    value: Decimal | int | float | bool | str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class BonusClaim:
    """``count`` awards of bonus ``code`` at ``level`` (None for a fixed-points bonus)."""

    code: str
    level: str | None = None
    count: int = 1
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ItemRef:
    item_id: int
    title: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RectificationFacts:
    """A department's rectification record over the period."""

    late: Sequence[ItemRef] = ()
    reopened: Sequence[ItemRef] = ()
    talks: Sequence[ItemRef] = ()
    on_time_rate: Decimal | None = None
    """按期销号率 in percent (0–100); ``None``: no item was due, no rate band applies."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Line:
    """One indicator on a scorecard."""

    code: str
    name: str
    points: Decimal
    value: Decimal | bool | None
    """The reported value; ``None`` when nothing was reported (未填报结果)."""
    deduction: Decimal
    """Points − score."""
    factor: Decimal | None
    """The band factor (``ratio_bands`` only)."""
    score: Decimal
    reason: str
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BonusLine:
    """One bonus claim (``kind = "bonus"``), or the cap's correction (``kind = "cap"``, negative)."""

    kind: str
    code: str
    name: str
    level: str | None
    count: int
    points: Decimal
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RectificationLine:
    """One deduction: ``late``, ``reopened``, ``talk`` (an item each), ``on_time_rate``, or ``cap``
    (the cap's correction, negative)."""

    kind: str
    item_id: int | None
    title: str
    deduction: Decimal
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Scorecard:
    """A department's score for a period, with every step that led to it.

    ``total = subtotal + bonus − rectification``, where ``subtotal`` is the sum of the lines'
    scores, ``bonus`` the sum of ``bonus_lines`` and ``rectification`` of ``rectification_lines``
    (both after their caps). ``graded`` is what the grade is read from: ``total``, or with a
    grade ``scale`` the indicator subtotal converted to that full mark plus bonus minus deductions.
    """

    department: str
    period: str
    rules_version: str
    lines: tuple[Line, ...]
    bonus_lines: tuple[BonusLine, ...]
    rectification_lines: tuple[RectificationLine, ...]
    vetoes: tuple[Veto, ...]
    average_rate: Decimal
    scale: Decimal | None
    """The grades' 折算 full mark, if any."""
    nominal: Decimal
    subtotal: Decimal
    bonus: Decimal
    rectification: Decimal
    total: Decimal
    graded: Decimal
    base_grade: str
    """The grade from the points alone, before any veto."""
    grade: str
    grade_reason: str

    def explain(self) -> list[str]:
        """Every step, in order, in Chinese (``rectiflow score --explain DEPT``)."""
        steps = [f"科室「{self.department}」考核期 {self.period}（评分规则版本 {self.rules_version}）"]
        steps += [
            f"{ln.code} {ln.name}（{fmt(ln.points)}分）：{ln.reason}；得{fmt(ln.score)}分"
            + (f"（备注：{ln.note}）" if ln.note else "")
            for ln in self.lines
        ]
        steps.append(f"指标得分小计：{fmt(self.subtotal)}分（满分{fmt(self.nominal)}分）")
        steps += [b.reason for b in self.bonus_lines]
        steps.append(f"加分合计：{fmt(self.bonus)}分" if self.bonus_lines else "加分：无")
        steps += [r.reason for r in self.rectification_lines]
        steps.append(
            f"整改扣分合计：{fmt(self.rectification)}分" if self.rectification_lines else "整改扣分：无"
        )
        steps.append(
            f"总分 = 指标小计{fmt(self.subtotal)} + 加分{fmt(self.bonus)} − 整改扣分{fmt(self.rectification)}"
            f" = {fmt(self.total)}分"
        )
        if self.scale is not None:
            converted = self.graded - self.bonus + self.rectification
            steps.append(
                f"折算：指标小计{fmt(self.subtotal)} ÷ 满分{fmt(self.nominal)} × {fmt(self.scale)}"
                f" = {fmt(converted)}分；"
                f"评定分 = {fmt(converted)} + 加分{fmt(self.bonus)} − 整改扣分{fmt(self.rectification)}"
                f" = {fmt(self.graded)}分"
            )
        steps.append(f"考核等次：{self.grade_reason}")
        return steps

    def as_dict(self) -> dict[str, Any]:
        """Plain data: decimals as exact strings, with the explanation."""
        data = _plain(self)
        assert isinstance(data, dict)
        data["explain"] = self.explain()
        return data

    def as_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=2)


# ----------------------------------------------------------------------------------------------
# Scoring
# ----------------------------------------------------------------------------------------------


def score_department(
    rules: Rules,
    department: str,
    results: Sequence[IndicatorResult],
    bonuses: Sequence[BonusClaim] = (),
    vetoes: Sequence[str] = (),
    rectification: RectificationFacts | None = None,
    *,
    average_rate: Decimal | None = None,
) -> Scorecard:
    """Score one department's indicators, bonuses, vetoes and rectification record.

    Args:
        rules: the scheme.
        department: the responsible department (责任科室) as written in the rules.
        results: reported values; results of other departments' indicators are ignored, an
            indicator without a result scores 0 (未填报结果).
        bonuses: the department's bonus claims.
        vetoes: codes of the vetoes that apply to the department.
        rectification: its rectification record, if rectification counts.
        average_rate: 平均得分率 for ``ratio_bands`` indicators; the rules' value when ``None``.

    Raises:
        InvalidInput: an unknown department or code, a duplicate result, or a value the rule
            cannot use.
    """
    indicators = rules.indicators_of(department)
    if not indicators:
        raise InvalidInput(
            "department",
            department,
            f"考核方案中没有该科室的指标；现有科室：{'、'.join(rules.departments())}",
        )
    rate = rules.average_rate if average_rate is None else _fraction("average_rate", average_rate)
    by_code = _results_by_code(rules, results)
    lines = tuple(score_indicator(i, by_code.get(i.code), rate) for i in indicators)
    bonus_lines = _bonus_lines(rules, bonuses)
    rect_lines = _rectification_lines(rules.rectification, rectification)
    applied = _vetoes(rules, vetoes)
    nominal = sum((i.points for i in indicators), ZERO)
    subtotal = sum((ln.score for ln in lines), ZERO)
    bonus = sum((b.points for b in bonus_lines), ZERO)
    rect = sum((r.deduction for r in rect_lines), ZERO)
    total = subtotal + bonus - rect
    scale = rules.grades.scale
    graded = total if scale is None else _q2(subtotal * scale / nominal) + bonus - rect
    base, grade, reason = _grade(rules, graded, applied)
    return Scorecard(
        department=department, period=rules.period, rules_version=rules.version, lines=lines,
        bonus_lines=bonus_lines, rectification_lines=rect_lines, vetoes=applied, average_rate=rate,
        scale=scale, nominal=nominal, subtotal=subtotal, bonus=bonus, rectification=rect, total=total,
        graded=graded, base_grade=base, grade=grade, grade_reason=reason,
    )  # fmt: skip


def score_indicator(
    indicator: Indicator, result: IndicatorResult | None, average_rate: Decimal = ONE
) -> Line:
    """One indicator's line: its score is always between 0 and its points.

    Raises:
        InvalidInput: a value the indicator's rule cannot use.
    """
    if result is None:
        return _line(indicator, None, indicator.points, "未填报结果")
    rule = indicator.rule
    if isinstance(rule, AllOrNothing):
        done = _done(indicator.code, result.value)
        text = "已完成，得满分" if done else "未完成，不得分"
        return _line(
            indicator, done, ZERO if done else indicator.points, f"未完成不得分：{text}", result.note
        )
    if isinstance(rule, RatioBands):
        return _ratio_line(indicator, rule, result, average_rate)
    value = _dec(f"results.{indicator.code}", result.value)
    if isinstance(rule, PerUnit):
        raw, phrase = _per_unit(indicator.code, rule, value)
    else:
        raw, phrase = _per_point(rule, value)
    return _deduction_line(indicator, value, raw, phrase, result.note)


def grade_of(rules: Rules, score: Decimal, vetoes: Sequence[str] = ()) -> str:
    """The grade of ``score`` (the graded score) once the vetoes with ``vetoes`` codes are applied.

    The strongest veto wins: ``no_grade`` (不定等次) > ``fail`` (一票否决 → the lowest grade) >
    ``lower_grade`` (one band lower, never below the lowest; several count once).
    """
    return _grade(rules, score, _vetoes(rules, vetoes))[1]


def describe_rule(indicator: Indicator) -> str:
    """The rule in words, e.g. ``每少1项扣0.25分，最多扣0.6分``."""
    rule = indicator.rule
    cap = "" if indicator.cap is None else f"，最多扣{fmt(indicator.cap)}分"
    if isinstance(rule, AllOrNothing):
        return "未完成不得分"
    if isinstance(rule, RatioBands):
        bands = "，".join(f"≥{fmt(b.min)}%按{fmt(b.factor * 100)}%计" for b in rule.bands)
        return f"按完成率分档：{bands}"
    if isinstance(rule, PerUnit):
        return f"每{rule.verb}{fmt(rule.step)}{rule.unit}扣{fmt(rule.deduct)}分{cap}"
    way = "低于" if isinstance(rule, PerPointBelow) else "高于"
    move = "下降" if isinstance(rule, PerPointBelow) else "上升"
    per = f"每{move}{fmt(rule.step)}{rule.unit}扣{fmt(rule.deduct)}分"
    return f"{way}{_amount_text(rule.target, rule.unit)}的，{per}{cap}"


def fmt(value: Decimal) -> str:
    """A decimal as people write it: ``25.5``, ``30``, ``0.1`` (never ``3E+1``)."""
    text = f"{value.normalize():f}"
    return "0" if text == "-0" else text


def _q2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _steps(amount: Decimal, step: Decimal) -> Decimal:
    """How many full ``step`` fit in ``amount`` (≥ 0)."""
    return (amount / step).to_integral_value(rounding=ROUND_FLOOR)


def _line(
    ind: Indicator,
    value: Decimal | bool | None,
    deduction: Decimal,
    reason: str,
    note: str | None = None,
    factor: Decimal | None = None,
) -> Line:
    deduction = _q2(deduction)
    return Line(code=ind.code, name=ind.name, points=ind.points, value=value, deduction=deduction,
                factor=factor, score=ind.points - deduction, reason=reason, note=note)  # fmt: skip


def _per_unit(code: str, rule: PerUnit, value: Decimal) -> tuple[Decimal, str]:
    if value < 0:
        raise InvalidInput(f"results.{code}", value, "缺少的数量（或发现的起数）不能为负数")
    n = _steps(value, rule.step)
    phrase = f"{rule.verb}{fmt(value)}{rule.unit}"
    if rule.step != 1:
        phrase += f"，按满{fmt(rule.step)}{rule.unit}计{fmt(n)}次"
    return n * rule.deduct, phrase


def _per_point(rule: PerPointBelow | PerPointAbove, value: Decimal) -> tuple[Decimal, str]:
    below = isinstance(rule, PerPointBelow)
    gap = rule.target - value if below else value - rule.target
    actual = f"实际{_amount_text(value, rule.unit)}"
    if gap <= 0:
        return ZERO, f"{actual}，{'达到目标' if below else '未超过目标'}"
    n = _steps(gap, rule.step)
    phrase = f"{actual}，{'低于' if below else '高于'}目标{fmt(gap)}{rule.unit}"
    if n * rule.step != gap:
        phrase += f"，按满{fmt(rule.step)}{rule.unit}计{fmt(n)}次"
    return n * rule.deduct, phrase


def _deduction_line(ind: Indicator, value: Decimal, raw: Decimal, phrase: str, note: str | None) -> Line:
    """Apply the cap (最多扣) and the floor (扣完为止) to a raw deduction."""
    due, limits = raw, []
    if ind.cap is not None and due > ind.cap:
        due, limits = ind.cap, [f"最多扣{fmt(ind.cap)}分"]
    if due > ind.points:
        due, limits = ind.points, [*limits, "扣完为止"]
    if raw == 0:
        text = f"{phrase}，不扣分"
    elif limits:
        text = f"{phrase}，应扣{fmt(raw)}分，{'，'.join(limits)}，扣{fmt(due)}分"
    else:
        text = f"{phrase}，扣{fmt(due)}分"
    return _line(ind, value, due, f"{describe_rule(ind)}：{text}", note)


def _ratio_line(ind: Indicator, rule: RatioBands, result: IndicatorResult, rate: Decimal) -> Line:
    value = _dec(f"results.{ind.code}", result.value)
    if value < 0:
        raise InvalidInput(f"results.{ind.code}", value, "完成率（%）不能为负数")
    band = next(b for b in rule.bands if value >= b.min)  # the last band starts at 0
    score = _q2(ind.points * band.factor * rate)
    reason = (
        f"{describe_rule(ind)}：完成{fmt(value)}%，属≥{fmt(band.min)}%档，得分 = 设定分{fmt(ind.points)}"
        f" × 平均得分率{fmt(rate)} × {fmt(band.factor * 100)}% = {fmt(score)}分"
    )
    return _line(ind, value, ind.points - score, reason, result.note, factor=band.factor)


def _amount_text(value: Decimal, unit: str) -> str:
    return f"{fmt(value)}%" if unit in PERCENT_UNITS else f"{fmt(value)}{unit}"


def _done(code: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal) and value in (0, 1):
        return value == 1
    raise InvalidInput(f"results.{code}", value, "应为 true/false 或 1/0（是否完成）")


def _results_by_code(rules: Rules, results: Sequence[IndicatorResult]) -> dict[str, IndicatorResult]:
    known = {i.code for i in rules.indicators}
    by_code: dict[str, IndicatorResult] = {}
    for r in results:
        if r.code not in known:
            raise InvalidInput("results", r.code, "考核方案中没有此指标代码")
        if r.code in by_code:
            raise InvalidInput("results", r.code, "同一指标填报了多个结果")
        by_code[r.code] = r
    return by_code


def _bonus_lines(rules: Rules, claims: Sequence[BonusClaim]) -> tuple[BonusLine, ...]:
    kinds = {b.code: b for b in rules.bonuses}
    lines: list[BonusLine] = []
    for c in claims:
        bonus = kinds.get(c.code)
        if bonus is None:
            raise InvalidInput("bonuses", c.code, "考核方案中没有此加分事项代码")
        if isinstance(c.count, bool) or not isinstance(c.count, int) or c.count < 1:
            raise InvalidInput(f"bonuses.{c.code}.count", c.count, "应为正整数")
        points = bonus.points_for(c.level) * c.count
        level = f"（{c.level}）" if c.level else ""
        outside = "" if bonus.capped else "，不计入加分上限"
        reason = f"加分：{bonus.name}{level} × {c.count}，加{fmt(points)}分{outside}"
        lines.append(BonusLine(kind="bonus", code=c.code, name=bonus.name, level=c.level, count=c.count,
                               points=_q2(points), reason=reason))  # fmt: skip
    capped = sum((ln.points for ln in lines if kinds[ln.code].capped), ZERO)
    if rules.bonus_cap is not None and capped > rules.bonus_cap:
        reason = f"加分上限：计入上限的加分合计{fmt(capped)}分，超过上限{fmt(rules.bonus_cap)}分，按{fmt(rules.bonus_cap)}分计"
        lines.append(BonusLine(kind="cap", code="", name="加分上限", level=None, count=0,
                               points=rules.bonus_cap - capped, reason=reason))  # fmt: skip
    return tuple(lines)


_RECT_LABELS = {"late": "逾期销号", "reopened": "重新打开", "talk": "约谈"}


def _rectification_lines(
    rules: RectificationRules, facts: RectificationFacts | None
) -> tuple[RectificationLine, ...]:
    if facts is None:
        return ()
    lines: list[RectificationLine] = []
    for kind, refs, each in (("late", facts.late, rules.late), ("reopened", facts.reopened, rules.reopened),
                             ("talk", facts.talks, rules.talk)):  # fmt: skip
        if each > 0:
            lines += [_item_line(kind, ref, each) for ref in sorted(refs, key=lambda r: (r.item_id, r.title))]
    if facts.on_time_rate is not None and rules.on_time_bands:
        lines.append(_rate_line(rules, facts.on_time_rate))
    raw = sum((ln.deduction for ln in lines), ZERO)
    if rules.cap is not None and raw > rules.cap:
        reason = f"整改扣分上限：合计{fmt(raw)}分，超过每科室上限{fmt(rules.cap)}分，按{fmt(rules.cap)}分计"
        lines.append(
            RectificationLine(kind="cap", item_id=None, title="", deduction=rules.cap - raw, reason=reason)
        )
    return tuple(lines)


def _item_line(kind: str, ref: ItemRef, each: Decimal) -> RectificationLine:
    per = "次" if kind == "talk" else "项"
    reason = f"整改扣分（{_RECT_LABELS[kind]}每{per}扣{fmt(each)}分）：事项 {ref.item_id}「{ref.title}」，扣{fmt(each)}分"
    return RectificationLine(kind=kind, item_id=ref.item_id, title=ref.title, deduction=each, reason=reason)


def _rate_line(rules: RectificationRules, rate: Decimal) -> RectificationLine:
    value = _dec("on_time_rate", rate)
    if not 0 <= value <= 100:
        raise InvalidInput("on_time_rate", rate, "按期销号率应在0到100之间（百分比）")
    band = next(b for b in rules.on_time_bands if value >= b.min)  # the last band starts at 0
    effect = "不扣分" if band.deduct == 0 else f"扣{fmt(band.deduct)}分"
    reason = f"整改扣分：按期销号率{fmt(value)}%，属≥{fmt(band.min)}%档，{effect}"
    return RectificationLine(
        kind="on_time_rate", item_id=None, title="", deduction=band.deduct, reason=reason
    )


def _vetoes(rules: Rules, codes: Sequence[str]) -> tuple[Veto, ...]:
    known = {v.code: v for v in rules.vetoes}
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InvalidInput("vetoes", "、".join(unknown), "考核方案中没有此否决事项代码")
    return tuple(known[c] for c in dict.fromkeys(codes))


def _grade(rules: Rules, score: Decimal, vetoes: tuple[Veto, ...]) -> tuple[str, str, str]:
    """(grade from the points, final grade, the reason in Chinese)."""
    bands = rules.grades.bands
    index = next((n for n, b in enumerate(bands) if score >= b.min), len(bands) - 1)
    base = bands[index].name
    reason = f"评定分{fmt(score)}分，{_band_words(bands, index, score)}「{base}」"
    if not vetoes:
        return base, base, reason
    strongest = min(vetoes, key=lambda v: EFFECTS.index(v.effect))
    if strongest.effect == "no_grade":
        grade = NO_GRADE
    elif strongest.effect == "fail":
        grade = bands[-1].name
    else:
        grade = bands[min(index + 1, len(bands) - 1)].name
    listed = "、".join(f"「{v.name}」（{EFFECT_LABELS[v.effect]}）" for v in vetoes)
    if len(vetoes) > 1:
        listed += f"，按最重的「{EFFECT_LABELS[strongest.effect]}」处理"
    return base, grade, f"{reason}；因否决事项{listed}，定为「{grade}」"


def _band_words(bands: tuple[GradeBand, ...], index: int, score: Decimal) -> str:
    """How the band reads, like seed 004: 90分及以上为 / 75分及以上、不足90分为 / 低于75分为."""
    low = fmt(bands[index].min)
    if score < bands[index].min:
        return f"低于{low}分，按最低一档定为"
    if index == 0:
        return f"{low}分及以上为"
    high = fmt(bands[index - 1].min)
    if index == len(bands) - 1 and bands[index].min == 0:
        return f"低于{high}分为"
    return f"{low}分及以上、不足{high}分为"


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return fmt(value)
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


# ----------------------------------------------------------------------------------------------
# Parsing (config/scoring.toml)
# ----------------------------------------------------------------------------------------------


def load_rules(path: Path) -> Rules:
    """Read and parse a scoring rules file.

    Raises:
        InvalidInput: an unreadable file or bad TOML (naming the file), or a rule the engine does
            not accept (the field names the file, the indicator code and the key).
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput("评分规则文件", str(path), f"无法读取：{exc.strerror or exc}") from exc
    return rules_from_bytes(raw, path)


def rules_from_bytes(raw: bytes, path: Path) -> Rules:
    """Parse the bytes of a rules file read from ``path`` (named in errors); see :func:`load_rules`."""
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidInput("评分规则文件", str(path), "不是 UTF-8 编码的文本") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput("评分规则文件", str(path), f"TOML 格式错误：{exc}") from exc
    try:
        return parse_rules(data)
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc.field}", exc.value, exc.why) from exc


def parse_rules(data: Mapping[str, Any]) -> Rules:
    """Build :class:`Rules` from parsed TOML, strictly.

    Raises:
        InvalidInput: a missing or unknown key, an unknown kind or effect, a negative or zero amount,
            more than two decimals in points, bands not strictly descending, a duplicate code.
    """
    _known_keys("评分规则", data, TOP_KEYS)
    tables = _tables("indicators", data.get("indicators"))
    indicators = tuple(_indicator(n, raw) for n, raw in enumerate(tables, 1))
    if not indicators:
        raise InvalidInput("indicators", "", "至少需要一个考核指标（[[indicators]]）")
    bonuses = tuple(_bonus(n, raw) for n, raw in enumerate(_tables("bonuses", data.get("bonuses")), 1))
    vetoes = tuple(_veto(n, raw) for n, raw in enumerate(_tables("vetoes", data.get("vetoes")), 1))
    for where, codes in (("indicators", [i.code for i in indicators]), ("bonuses", [b.code for b in bonuses]),
                         ("vetoes", [v.code for v in vetoes])):  # fmt: skip
        _unique(where, codes)
    cap = data.get("bonus_cap")
    return Rules(
        version=_text("version", data.get("version")), period=_text("period", data.get("period")),
        indicators=indicators, bonuses=bonuses, vetoes=vetoes, grades=_grades(data.get("grades")),
        bonus_cap=None if cap is None else _amount("bonus_cap", cap, positive=True),
        rectification=_rectification(data.get("rectification", {})),
        average_rate=_fraction("average_rate", data.get("average_rate", 1)),
    )  # fmt: skip


def _indicator(n: int, raw: Mapping[str, Any]) -> Indicator:
    code = _text(f"indicators[{n}].code", raw.get("code"))
    where = f"indicators.{code}"
    _known_keys(where, raw, INDICATOR_KEYS)
    rule = _rule(f"{where}.rule", raw.get("rule"))
    cap = raw.get("cap")
    if cap is not None and isinstance(rule, AllOrNothing | RatioBands):
        raise InvalidInput(
            f"{where}.cap",
            cap,
            "只有扣分类规则（per_unit、per_point_below、per_point_above）可设 cap（最多扣分）",
        )
    return Indicator(
        code=code, name=_text(f"{where}.name", raw.get("name")),
        points=_amount(f"{where}.points", raw.get("points"), positive=True),
        department=_text(f"{where}.department", raw.get("department")),
        standard=_text(f"{where}.standard", raw.get("standard", ""), required=False), rule=rule,
        cap=None if cap is None else _amount(f"{where}.cap", cap, positive=True),
    )  # fmt: skip


def _rule(where: str, raw: object) -> Rule:
    if not isinstance(raw, Mapping):
        raise InvalidInput(
            where, "" if raw is None else raw, '缺少规则表，例如 rule = { kind = "all_or_nothing" }'
        )
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in RULE_KEYS:
        raise InvalidInput(f"{where}.kind", kind or "", f"可选值：{', '.join(KINDS)}")
    _known_keys(where, raw, RULE_KEYS[kind])
    if kind == "all_or_nothing":
        return AllOrNothing()
    if kind == "ratio_bands":
        return _ratio_bands(f"{where}.bands", raw.get("bands"))
    deduct = _amount(f"{where}.deduct", raw.get("deduct"), positive=True)
    step = _positive(f"{where}.step", raw.get("step", 1))
    if kind == "per_unit":
        return PerUnit(deduct=deduct, step=step, unit=_text(f"{where}.unit", raw.get("unit", "项")),
                       verb=_text(f"{where}.verb", raw.get("verb", "少")))  # fmt: skip
    cls = PerPointBelow if kind == "per_point_below" else PerPointAbove
    return cls(target=_dec(f"{where}.target", raw.get("target")), deduct=deduct, step=step,
               unit=_text(f"{where}.unit", raw.get("unit", "个百分点")))  # fmt: skip


def _ratio_bands(where: str, raw: object) -> RatioBands:
    bands = tuple(Band(m, f) for m, f in _bands(where, raw, "factor", _fraction))
    _ends_at_zero(where, bands[-1].min)
    rises = [lower for upper, lower in pairwise(bands) if lower.factor > upper.factor]
    if rises:
        raise InvalidInput(f"{where}.factor", fmt(rises[0].factor), "较低一档的 factor 不能高于较高一档")
    return RatioBands(bands)


def _grades(raw: object) -> Grades:
    if raw is None:
        raise InvalidInput("grades", "", "缺少考核等次表 [grades]，例如 90 优秀 / 75 合格 / 0 不合格")
    _known_keys("grades", raw, GRADE_KEYS)
    assert isinstance(raw, Mapping)
    bands = tuple(GradeBand(m, name) for m, name in _bands("grades.bands", raw.get("bands"), "name", _text))
    _unique("grades.bands", [b.name for b in bands])
    scale = raw.get("scale")
    return Grades(bands=bands, scale=None if scale is None else _positive("grades.scale", scale))


def _rectification(raw: object) -> RectificationRules:
    _known_keys("rectification", raw, RECTIFICATION_KEYS)
    assert isinstance(raw, Mapping)
    cap, bands_raw = raw.get("cap"), raw.get("on_time_bands")
    bands: tuple[RateBand, ...] = ()
    if bands_raw is not None:
        table = _bands("rectification.on_time_bands", bands_raw, "deduct", _amount)
        bands = tuple(RateBand(m, d) for m, d in table)
        _ends_at_zero("rectification.on_time_bands", bands[-1].min)
        if bands[0].min > 100:
            raise InvalidInput(
                "rectification.on_time_bands.min", fmt(bands[0].min), "按期销号率为百分比，min 不能超过100"
            )
        if any(lower.deduct < upper.deduct for upper, lower in pairwise(bands)):
            raise InvalidInput("rectification.on_time_bands.deduct", "", "较低一档的扣分不能少于较高一档")
    return RectificationRules(
        late=_amount("rectification.late", raw.get("late", 0)),
        reopened=_amount("rectification.reopened", raw.get("reopened", 0)),
        talk=_amount("rectification.talk", raw.get("talk", 0)),
        cap=None if cap is None else _amount("rectification.cap", cap, positive=True), on_time_bands=bands,
    )  # fmt: skip


def _bonus(n: int, raw: Mapping[str, Any]) -> Bonus:
    code = _text(f"bonuses[{n}].code", raw.get("code"))
    where = f"bonuses.{code}"
    _known_keys(where, raw, BONUS_KEYS)
    if ("points" in raw) == ("levels" in raw):
        raise InvalidInput(where, code, "points（固定分值）与 levels（按级别分值）须设置且只能设置其中一项")
    capped = raw.get("capped", True)
    if not isinstance(capped, bool):
        raise InvalidInput(f"{where}.capped", capped, "应为 true 或 false")
    return Bonus(
        code=code, name=_text(f"{where}.name", raw.get("name")), capped=capped,
        points=_amount(f"{where}.points", raw["points"], positive=True) if "points" in raw else None,
        levels=_levels(f"{where}.levels", raw["levels"]) if "levels" in raw else (),
    )  # fmt: skip


def _levels(where: str, raw: object) -> tuple[tuple[str, Decimal], ...]:
    if not isinstance(raw, Mapping) or not raw:
        raise InvalidInput(where, raw, '应为非空的表，例如 { "市级" = 2, "省级" = 3, "国家级" = 5 }')
    return tuple(
        (_text(where, name), _amount(f"{where}.{name}", pts, positive=True)) for name, pts in raw.items()
    )


def _veto(n: int, raw: Mapping[str, Any]) -> Veto:
    code = _text(f"vetoes[{n}].code", raw.get("code"))
    where = f"vetoes.{code}"
    _known_keys(where, raw, VETO_KEYS)
    effect = raw.get("effect")
    if effect not in EFFECTS:
        raise InvalidInput(f"{where}.effect", effect or "", f"可选值：{', '.join(EFFECTS)}")
    return Veto(code=code, name=_text(f"{where}.name", raw.get("name")), effect=effect)


def _bands(where: str, raw: object, key: str, parse: Callable[[str, Any], T]) -> list[tuple[Decimal, T]]:
    """A band table ``[{min = …, <key> = …}, …]``, ``min`` strictly descending."""
    tables = _tables(where, raw)
    if not tables:
        raise InvalidInput(where, "", f"至少需要一档，例如 [{{min = 0, {key} = …}}]")
    out: list[tuple[Decimal, T]] = []
    for n, band in enumerate(tables, 1):
        _known_keys(f"{where}[{n}]", band, ("min", key))
        out.append((_dec(f"{where}[{n}].min", band.get("min")), parse(f"{where}[{n}].{key}", band.get(key))))
    mins = [m for m, _ in out]
    if any(upper <= lower for upper, lower in pairwise(mins)):
        raise InvalidInput(f"{where}.min", "、".join(fmt(m) for m in mins), "各档 min 应从高到低严格递减")
    return out


def _ends_at_zero(where: str, lowest: Decimal) -> None:
    if lowest != 0:
        raise InvalidInput(f"{where}.min", fmt(lowest), "最低一档的 min 应为 0，覆盖所有取值")


def _tables(where: str, raw: object) -> list[Mapping[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(t, Mapping) for t in raw):
        raise InvalidInput(where, raw, "应为表的数组（[[...]] 或 [{...}, {...}]）")
    return raw


def _known_keys(where: str, raw: object, allowed: Sequence[str]) -> None:
    if not isinstance(raw, Mapping):
        raise InvalidInput(where, raw, "应为表（table）")
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise InvalidInput(where, ", ".join(unknown), f"未知字段；可用：{', '.join(allowed)}")


def _unique(where: str, values: Sequence[str]) -> None:
    seen = [v for n, v in enumerate(values) if v in values[:n]]
    if seen:
        raise InvalidInput(where, seen[0], "重复；每项须唯一")


def _text(where: str, value: object, *, required: bool = True) -> str:
    if value is None:
        raise InvalidInput(where, "", "缺少此项")
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidInput(where, value, "应为非空字符串")
    return value.strip()


def _dec(where: str, value: object) -> Decimal:
    """A finite number; floats through their shortest decimal text (0.1 → Decimal("0.1"))."""
    if value is None:
        raise InvalidInput(where, "", "缺少此项")
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise InvalidInput(where, value, "应为数字")
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation as exc:
        raise InvalidInput(where, value, "应为数字") from exc
    if not number.is_finite():
        raise InvalidInput(where, value, "应为有限的数字")
    return number


def _amount(where: str, value: object, *, positive: bool = False) -> Decimal:
    """Points: not negative (positive when asked), at most two decimals."""
    number = _dec(where, value)
    if number < 0 or (positive and number == 0):
        raise InvalidInput(where, value, "应大于0" if positive else "不能为负数")
    try:
        exact = number == _q2(number)
    except InvalidOperation as exc:
        raise InvalidInput(where, value, "数值过大") from exc
    if not exact:
        raise InvalidInput(where, value, "分值最多保留两位小数")
    return number


def _positive(where: str, value: object) -> Decimal:
    number = _dec(where, value)
    if number <= 0:
        raise InvalidInput(where, value, "应大于0")
    return number


def _fraction(where: str, value: object) -> Decimal:
    number = _dec(where, value)
    if not 0 <= number <= 1:
        raise InvalidInput(where, value, "应在0到1之间（例如 0.85 表示85%）")
    return number
