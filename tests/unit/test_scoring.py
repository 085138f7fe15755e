"""Assessment scoring (考核评分): every rule shape and its edges, the shipped rules, bad rules, and
properties (bounds, the total's sum, determinism) checked with hypothesis."""

from __future__ import annotations

import json
import random
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from states.errors import InvalidInput
from states.scoring import (
    AllOrNothing,
    Band,
    BonusClaim,
    Indicator,
    IndicatorResult,
    ItemRef,
    Line,
    PerPointAbove,
    PerPointBelow,
    PerUnit,
    RatioBands,
    RectificationFacts,
    Rule,
    Rules,
    Scorecard,
    describe_rule,
    grade_of,
    load_rules,
    parse_rules,
    score_department,
    score_indicator,
)

D = Decimal
SHIPPED = Path(__file__).resolve().parents[2] / "config" / "scoring.toml"

SEED_002_BANDS = [
    {"min": 100, "factor": 1.0},
    {"min": 85, "factor": 0.85},
    {"min": 60, "factor": 0.7},
    {"min": 0, "factor": 0},
]


def scheme(*indicators: dict[str, Any], **top: Any) -> dict[str, Any]:
    """A minimal scheme: the given indicators of department 医务科, seed 004's grades."""
    data: dict[str, Any] = {
        "version": "t1",
        "period": "2026",
        "indicators": [{"department": "医务科", "name": f"指标{i['code']}", **i} for i in indicators],
        "grades": {
            "bands": [{"min": 90, "name": "优秀"}, {"min": 75, "name": "合格"}, {"min": 0, "name": "不合格"}]
        },
    }
    data.update(top)
    return data


def one(rule: dict[str, Any], points: float = 1, cap: float | None = None, **top: Any) -> Rules:
    extra = {} if cap is None else {"cap": cap}
    return parse_rules(scheme({"code": "A", "points": points, "rule": rule, **extra}, **top))


def line_of(rules: Rules, value: Any, average_rate: Decimal | None = None) -> Line:
    card = score_department(rules, "医务科", [IndicatorResult("A", value)], average_rate=average_rate)
    return card.lines[0]


# ----------------------------------------------------------------------------------------------
# Rule shapes
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "score", "reason"),
    [(True, "2", "已完成，得满分"), (1, "2", "已完成"), (False, "0", "未完成，不得分"), (0, "0", "未完成")],
    ids=["true", "one", "false", "zero"],
)
def test_all_or_nothing(value: Any, score: str, reason: str) -> None:
    ln = line_of(one({"kind": "all_or_nothing"}, points=2), value)
    assert ln.score == D(score)
    assert ln.reason.startswith("未完成不得分：") and reason in ln.reason


@pytest.mark.parametrize("value", ["yes", 2, D("0.5")], ids=["text", "two", "half"])
def test_all_or_nothing_refuses_other_values(value: Any) -> None:
    with pytest.raises(InvalidInput, match="results.A"):
        line_of(one({"kind": "all_or_nothing"}), value)


def test_per_unit_each_missing_item() -> None:
    ln = line_of(one({"kind": "per_unit", "deduct": 0.25}, points=2.5), 3)
    assert (ln.deduction, ln.score) == (D("0.75"), D("1.75"))
    assert ln.reason == "每少1项扣0.25分：少3项，扣0.75分"


@pytest.mark.parametrize(
    ("missing", "deduction"),
    [(12, "0.2"), (D("4.99"), "0"), (5, "0.1"), (10, "0.2"), (0, "0")],
    ids=["12%-two-steps", "under-one-step", "one-step-exactly", "two-steps-exactly", "none"],
)
def test_per_unit_with_step_5(missing: Any, deduction: str) -> None:
    """每少5%扣0.1分: only full steps of 5 count."""
    ln = line_of(one({"kind": "per_unit", "deduct": 0.1, "step": 5, "unit": "%"}), missing)
    assert ln.deduction == D(deduction)
    assert ln.score == 1 - D(deduction)


def test_per_unit_12_percent_reason() -> None:
    ln = line_of(one({"kind": "per_unit", "deduct": 0.1, "step": 5, "unit": "%"}), 12)
    assert ln.reason == "每少5%扣0.1分：少12%，按满5%计2次，扣0.2分"


def test_per_unit_floor_at_zero() -> None:
    """扣完为止: 3 incidents × 0.5 on a 1-point indicator leaves 0, not −0.5."""
    ln = line_of(one({"kind": "per_unit", "deduct": 0.5, "unit": "次", "verb": "发现"}), 3)
    assert (ln.score, ln.deduction) == (D(0), D(1))
    assert ln.reason == "每发现1次扣0.5分：发现3次，应扣1.5分，扣完为止，扣1分"


def test_per_unit_refuses_a_negative_count() -> None:
    with pytest.raises(InvalidInput, match="不能为负数"):
        line_of(one({"kind": "per_unit", "deduct": 0.25}), -1)


def test_tenths_do_not_drift() -> None:
    """0.1 read from TOML as a float is exactly one tenth: 1 − 3 × 0.1 = 0.7, not 0.7000000000000001."""
    data = tomllib.loads(
        'version = "t"\nperiod = "2026"\n'
        '[[indicators]]\ncode = "A"\nname = "a"\npoints = 1\ndepartment = "医务科"\n'
        'rule = { kind = "per_unit", deduct = 0.1 }\n'
        '[grades]\nbands = [{ min = 0, name = "不合格" }]\n'
    )
    ln = line_of(parse_rules(data), 3)
    assert ln.score == D("0.7") and str(ln.score) == "0.70"


@pytest.mark.parametrize(
    ("actual", "deduction"),
    [(90, "0"), (95, "0"), (89, "0.5"), (D("89.5"), "0"), (D("86.5"), "1.5"), (86, "2"), (0, "2.5")],
    ids=["at-target", "above", "one-below", "half-below", "3.5-below", "4-below", "floor"],
)
def test_per_point_below(actual: Any, deduction: str) -> None:
    """省考核评估90分以下的，每下降1分扣0.5分 (2.5 points)."""
    ln = line_of(
        one({"kind": "per_point_below", "target": 90, "deduct": 0.5, "unit": "分"}, points=2.5), actual
    )
    assert ln.deduction == D(deduction)


def test_per_point_below_with_step() -> None:
    rules = one({"kind": "per_point_below", "target": 30, "deduct": 0.1, "step": 5, "unit": "%"})
    assert line_of(rules, 18).deduction == D("0.2")
    assert line_of(rules, 25).deduction == D("0.1")
    assert line_of(rules, D("25.01")).deduction == D("0")


@pytest.mark.parametrize(
    ("actual", "deduction", "words"),
    [
        (80, "0.6", "应扣1分，最多扣0.6分，扣0.6分"),
        (84, "0.6", "扣0.6分"),
        (85, "0.5", "扣0.5分"),
        (90, "0", "不扣分"),
    ],
    ids=["beyond-cap", "exactly-cap", "under-cap", "at-target"],
)
def test_cap(actual: int, deduction: str, words: str) -> None:
    """法治建设: 得分每下降1分扣0.1分，扣完为止（最多扣0.6分）."""
    rules = one({"kind": "per_point_below", "target": 90, "deduct": 0.1, "unit": "分"}, cap=0.6)
    ln = line_of(rules, actual)
    assert ln.deduction == D(deduction) and ln.score == 1 - D(deduction)
    assert ln.reason.startswith("低于90分的，每下降1分扣0.1分，最多扣0.6分：")
    assert ln.reason.endswith(words)


@pytest.mark.parametrize(
    ("actual", "deduction"),
    [(10, "0"), (9, "0"), (11, "0.2"), (D("12.5"), "0.4"), (100, "1")],
    ids=["at-target", "below", "one-above", "2.5-above", "floor"],
)
def test_per_point_above(actual: Any, deduction: str) -> None:
    """慢阻肺漏报率低于10%，每上升1%扣0.2分."""
    ln = line_of(one({"kind": "per_point_above", "target": 10, "deduct": 0.2, "unit": "%"}), actual)
    assert ln.deduction == D(deduction)


def test_per_point_above_reason() -> None:
    ln = line_of(one({"kind": "per_point_above", "target": 10, "deduct": 0.2, "unit": "%"}), D("12.5"))
    assert ln.reason == "高于10%的，每上升1%扣0.2分：实际12.5%，高于目标2.5%，按满1%计2次，扣0.4分"
    below = line_of(one({"kind": "per_point_above", "target": 10, "deduct": 0.2, "unit": "%"}), 9)
    assert below.reason == "高于10%的，每上升1%扣0.2分：实际9%，未超过目标，不扣分"


def test_ratio_bands_seed_002_example_by_hand() -> None:
    """Seed 002: 完成85%以上，得分 = 设定分 × 平均得分率 × 85%.

    By hand: 30 × 0.85 = 25.5 (平均得分率 1); 30 × 0.9 × 0.85 = 27 × 0.85 = 22.95 (平均得分率 0.9).
    """
    rules = one({"kind": "ratio_bands", "bands": SEED_002_BANDS}, points=30)
    at_1 = line_of(rules, 86)
    assert (at_1.factor, at_1.score) == (D("0.85"), D("25.5"))
    at_09 = line_of(rules, 86, average_rate=D("0.9"))
    assert at_09.score == D("22.95")
    assert "得分 = 设定分30 × 平均得分率0.9 × 85% = 22.95分" in at_09.reason
    in_file = one({"kind": "ratio_bands", "bands": SEED_002_BANDS}, points=30, average_rate=0.9)
    assert line_of(in_file, 86).score == D("22.95")


@pytest.mark.parametrize(
    ("completion", "score"),
    [
        (120, "30"),
        (100, "30"),
        (D("99.99"), "25.5"),
        (85, "25.5"),
        (D("84.99"), "21"),
        (60, "21"),
        (D("59.99"), "0"),
        (0, "0"),
    ],
    ids=[
        "over",
        "100-boundary",
        "just-below-100",
        "85-boundary",
        "just-below-85",
        "60-boundary",
        "just-below-60",
        "zero",
    ],
)
def test_ratio_bands_boundaries_belong_to_the_higher_band(completion: Any, score: str) -> None:
    """Seed 002's "60%-80%以上" is read as 60 ≤ x < 85 → 70%."""
    assert line_of(one({"kind": "ratio_bands", "bands": SEED_002_BANDS}, points=30), completion).score == D(
        score
    )


def test_ratio_bands_round_half_up() -> None:
    """1 × 0.95 × 70% = 0.665 → 0.67 (half-up, not banker's 0.66)."""
    rules = one({"kind": "ratio_bands", "bands": SEED_002_BANDS}, points=1, average_rate=0.95)
    assert line_of(rules, 70).score == D("0.67")


def test_missing_result_scores_zero_and_is_listed() -> None:
    rules = parse_rules(
        scheme(
            {"code": "A", "points": 2, "rule": {"kind": "all_or_nothing"}},
            {"code": "B", "points": 3, "rule": {"kind": "per_unit", "deduct": 1}},
        )
    )
    card = score_department(rules, "医务科", [IndicatorResult("A", True)])
    assert [(ln.code, ln.score, ln.value) for ln in card.lines] == [("A", D(2), True), ("B", D(0), None)]
    assert card.lines[1].reason == "未填报结果"
    assert card.total == 2 and card.nominal == 5


def test_results_of_other_departments_are_ignored() -> None:
    rules = parse_rules(
        scheme(
            {"code": "A", "points": 2, "rule": {"kind": "all_or_nothing"}},
            {"code": "B", "points": 3, "department": "财务科", "rule": {"kind": "all_or_nothing"}},
        )
    )
    card = score_department(rules, "医务科", [IndicatorResult("A", True), IndicatorResult("B", True)])
    assert [ln.code for ln in card.lines] == ["A"]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda r: score_department(r, "医务科", [IndicatorResult("X", 1)]), "results"),
        (
            lambda r: score_department(r, "医务科", [IndicatorResult("A", 1), IndicatorResult("A", 0)]),
            "results",
        ),
        (lambda r: score_department(r, "医务科", [], bonuses=[BonusClaim("X")]), "bonuses"),
        (lambda r: score_department(r, "医务科", [], vetoes=["X"]), "vetoes"),
        (lambda r: score_department(r, "外科", []), "department"),
        (lambda r: score_department(r, "医务科", [], bonuses=[BonusClaim("RC", "区级")]), "bonuses.RC.level"),
        (lambda r: score_department(r, "医务科", [], bonuses=[BonusClaim("RC")]), "bonuses.RC.level"),
        (lambda r: score_department(r, "医务科", [], bonuses=[BonusClaim("CJ", "省级")]), "bonuses.CJ.level"),
        (
            lambda r: score_department(r, "医务科", [], bonuses=[BonusClaim("CJ", None, 0)]),
            "bonuses.CJ.count",
        ),
        (lambda r: score_department(r, "医务科", [], average_rate=D("1.1")), "average_rate"),
        (
            lambda r: score_department(
                r, "医务科", [], rectification=RectificationFacts(on_time_rate=D(101))
            ),
            "on_time_rate",
        ),
    ],
    ids=[
        "unknown-result",
        "duplicate-result",
        "unknown-bonus",
        "unknown-veto",
        "unknown-department",
        "bad-level",
        "missing-level",
        "level-on-fixed",
        "zero-count",
        "rate-above-1",
        "on-time-rate-above-100",
    ],
)
def test_bad_inputs_are_refused(call: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        call(full_rules())
    assert exc.value.field == field


# ----------------------------------------------------------------------------------------------
# Bonuses, vetoes, grades, rectification
# ----------------------------------------------------------------------------------------------


def full_rules(**top: Any) -> Rules:
    """A 100-point scheme for 医务科 with seed 004's bonuses and vetoes, graded on the raw total."""
    data = scheme(
        {"code": "A", "points": 100, "rule": {"kind": "per_unit", "deduct": 1}},
        bonuses=[
            {"code": "RC", "name": "人才工作受表彰", "levels": {"市级": 2, "省级": 3, "国家级": 5}},
            {"code": "GK", "name": "国考等级提升", "points": 5, "capped": False},
            {"code": "CJ", "name": "成绩突出", "points": 0.5},
        ],
        bonus_cap=6,
        vetoes=[
            {"code": "NG", "name": "考核材料弄虚作假", "effect": "no_grade"},
            {"code": "LG", "name": "发生重大网络舆情", "effect": "lower_grade"},
            {"code": "LG2", "name": "公立医院绩效考核进入C等级", "effect": "lower_grade"},
            {"code": "FJ", "name": "重大安全责任事故", "effect": "fail"},
        ],
        rectification={
            "late": 0.5,
            "reopened": 1,
            "talk": 2,
            "cap": 5,
            "on_time_bands": [{"min": 90, "deduct": 0}, {"min": 75, "deduct": 0.5}, {"min": 0, "deduct": 1}],
        },
    )
    data.update(top)
    return parse_rules(data)


def test_bonus_cap() -> None:
    """Bonuses summing 8 (国家级 5 + 省级 3) with a cap of 6 add 6; 国考 is outside the cap."""
    rules = full_rules()
    card = score_department(
        rules,
        "医务科",
        [IndicatorResult("A", 10)],
        bonuses=[BonusClaim("RC", "国家级"), BonusClaim("RC", "省级")],
    )
    assert card.bonus == 6 and card.total == 90 + 6
    assert card.bonus_lines[-1].kind == "cap" and card.bonus_lines[-1].points == -2
    assert "超过上限6分，按6分计" in card.bonus_lines[-1].reason
    with_gk = score_department(
        rules,
        "医务科",
        [IndicatorResult("A", 10)],
        bonuses=[BonusClaim("RC", "国家级"), BonusClaim("RC", "省级"), BonusClaim("GK")],
    )
    assert with_gk.bonus == 11


def test_bonus_count_and_no_cap_line_under_the_cap() -> None:
    card = score_department(
        full_rules(), "医务科", [IndicatorResult("A", 0)], bonuses=[BonusClaim("CJ", count=3)]
    )
    assert card.bonus == D("1.5") and [b.kind for b in card.bonus_lines] == ["bonus"]
    assert card.total == D("101.5"), "a bonus may take the total beyond the scheme's full points"
    assert card.nominal == 100


def test_no_bonus_cap_when_the_rules_set_none() -> None:
    rules = full_rules(bonus_cap=None)
    card = score_department(
        rules, "医务科", [], bonuses=[BonusClaim("RC", "国家级"), BonusClaim("RC", "省级")]
    )
    assert card.bonus == 8


@pytest.mark.parametrize(
    ("missing", "vetoes", "grade"),
    [
        (5, ["NG"], "不定等次"),
        (5, ["LG"], "合格"),
        (5, ["LG", "LG2"], "合格"),
        (5, ["FJ"], "不合格"),
        (5, ["LG", "FJ", "NG"], "不定等次"),
        (5, ["LG", "FJ"], "不合格"),
        (20, [], "合格"),
        (20, ["LG"], "不合格"),
        (30, ["LG"], "不合格"),
        (30, [], "不合格"),
    ],
    ids=[
        "95-no-grade",
        "95-lower",
        "95-lower-twice",
        "95-fail",
        "all-three",
        "fail-beats-lower",
        "80-plain",
        "80-lower",
        "70-lower-stays",
        "70-plain",
    ],
)
def test_vetoes(missing: int, vetoes: list[str], grade: str) -> None:
    """Strongest wins: 不定等次 > 一票否决 > 降低考核档次; 降低考核档次 lowers one band once."""
    card = score_department(full_rules(), "医务科", [IndicatorResult("A", missing)], vetoes=vetoes)
    assert card.grade == grade
    assert grade_of(full_rules(), card.total, vetoes) == grade


def test_veto_reason_names_the_veto() -> None:
    card = score_department(full_rules(), "医务科", [IndicatorResult("A", 5)], vetoes=["LG"])
    assert (card.total, card.base_grade, card.grade) == (95, "优秀", "合格")
    assert (
        card.grade_reason
        == "评定分95分，90分及以上为「优秀」；因否决事项「发生重大网络舆情」（降低考核档次），定为「合格」"
    )


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        ("90", "优秀"),
        ("89.99", "合格"),
        ("75", "合格"),
        ("74.99", "不合格"),
        ("0", "不合格"),
        ("-3", "不合格"),
        ("106", "优秀"),
    ],
    ids=["90", "89.99", "75", "74.99", "0", "negative", "above-100"],
)
def test_grade_bands_boundaries(score: str, grade: str) -> None:
    assert grade_of(full_rules(), D(score)) == grade


def test_grade_of_refuses_an_unknown_veto() -> None:
    with pytest.raises(InvalidInput, match="vetoes"):
        grade_of(full_rules(), D(95), ["ZZ"])


def test_rectification_deductions_and_cap() -> None:
    facts = RectificationFacts(
        late=[ItemRef(12, "病历书写不规范"), ItemRef(3, "处方点评"), ItemRef(7, "院感督查")],
        reopened=[ItemRef(3, "处方点评")],
        talks=[ItemRef(12, "病历书写不规范"), ItemRef(20, "投诉处理")],
        on_time_rate=D(50),
    )
    card = score_department(full_rules(), "医务科", [IndicatorResult("A", 0)], rectification=facts)
    # 3 × 0.5 + 1 + 2 × 2 + 1 (rate below 75%) = 7.5 → capped at 5
    kinds = [(r.kind, r.item_id, r.deduction) for r in card.rectification_lines]
    assert kinds == [
        ("late", 3, D("0.5")),
        ("late", 7, D("0.5")),
        ("late", 12, D("0.5")),
        ("reopened", 3, D(1)),
        ("talk", 12, D(2)),
        ("talk", 20, D(2)),
        ("on_time_rate", None, D(1)),
        ("cap", None, D("-2.5")),
    ]
    assert card.rectification == 5 and card.total == 95
    assert (
        card.rectification_lines[0].reason == "整改扣分（逾期销号每项扣0.5分）：事项 3「处方点评」，扣0.5分"
    )
    assert card.rectification_lines[-1].reason == "整改扣分上限：合计7.5分，超过每科室上限5分，按5分计"


@pytest.mark.parametrize(
    ("rate", "deduction"),
    [(100, "0"), (90, "0"), (D("89.99"), "0.5"), (75, "0.5"), (D("74.99"), "1"), (0, "1")],
    ids=["100", "90", "89.99", "75", "74.99", "0"],
)
def test_on_time_rate_bands(rate: Any, deduction: str) -> None:
    card = score_department(
        full_rules(),
        "医务科",
        [IndicatorResult("A", 0)],
        rectification=RectificationFacts(on_time_rate=D(rate)),
    )
    assert [r.kind for r in card.rectification_lines] == ["on_time_rate"]
    assert card.rectification == D(deduction)


def test_no_rectification_facts_or_no_rate() -> None:
    rules = full_rules()
    assert score_department(rules, "医务科", []).rectification_lines == ()
    assert score_department(rules, "医务科", [], rectification=RectificationFacts()).rectification_lines == ()


# ----------------------------------------------------------------------------------------------
# The shipped rules
# ----------------------------------------------------------------------------------------------


def test_shipped_rules_parse() -> None:
    rules = load_rules(SHIPPED)
    assert rules.version and rules.period == "2026"
    assert rules.bonus_cap == 6 and rules.grades.scale == 100
    kinds = {type(i.rule) for i in rules.indicators}
    assert kinds == {AllOrNothing, PerUnit, PerPointBelow, PerPointAbove, RatioBands}
    assert all(i.standard for i in rules.indicators)
    for department in rules.departments():
        card = score_department(rules, department, [])
        assert card.total == 0 and all(ln.reason == "未填报结果" for ln in card.lines)


def test_shipped_rules_score_a_sample_department() -> None:
    """医务科: SK-03 86.5分 (−1.5), SK-04 缺3项 (−0.75), XL-07 少12% (−0.2), YL-03 not reported."""
    rules = load_rules(SHIPPED)
    card = score_department(
        rules,
        "医务科",
        [IndicatorResult("SK-03", D("86.5")), IndicatorResult("SK-04", 3), IndicatorResult("XL-07", 12)],
        bonuses=[BonusClaim("JF-BZ", "市级"), BonusClaim("JF-GK")],
        vetoes=["DC-1"],
        rectification=RectificationFacts(
            late=[ItemRef(3, "病历书写"), ItemRef(1, "处方点评")],
            talks=[ItemRef(3, "病历书写")],
            on_time_rate=D(80),
        ),
    )
    assert [ln.score for ln in card.lines] == [D(1), D("1.75"), D("0.8"), D(0)]
    assert (card.nominal, card.subtotal, card.bonus, card.rectification) == (
        D(8),
        D("3.55"),
        D("6.5"),
        D("3.5"),
    )
    assert card.total == D("6.55")
    # 折算: 3.55 ÷ 8 × 100 = 44.375 → 44.38; + 6.5 − 3.5 = 47.38
    assert card.graded == D("47.38") and card.grade == "不合格"
    assert card.rules_version == rules.version
    steps = card.explain()
    assert steps[0] == "科室「医务科」考核期 2026（评分规则版本 2024.1）"
    assert (
        "SK-04 省公立医院综合改革：政务服务增值化改革任务（2.5分）：每少1项扣0.25分：少3项，扣0.75分；得1.75分"
        in steps
    )
    assert "总分 = 指标小计3.55 + 加分6.5 − 整改扣分3.5 = 6.55分" in steps
    assert steps[-1].startswith("考核等次：评定分47.38分，低于75分为「不合格」")


def test_shipped_cap_and_ratio_examples() -> None:
    rules = load_rules(SHIPPED)
    fz = score_department(rules, "纪检监察室", [IndicatorResult("FZ-01", 80)])
    assert fz.lines[0].score == D("0.4") and "最多扣0.6分，扣0.6分" in fz.lines[0].reason
    pf = score_department(rules, "党政综合办", [IndicatorResult("PF-01", 86)], average_rate=D("0.9"))
    assert pf.lines[0].score == D("1.53")  # 2 × 0.9 × 0.85


def test_json_and_explain() -> None:
    rules = load_rules(SHIPPED)
    card = score_department(rules, "医务科", [IndicatorResult("SK-04", 3, note="自评")])
    data = json.loads(card.as_json())
    assert data["rules_version"] == "2024.1" and data["total"] == "1.75"
    assert data["lines"][1]["value"] == "3" and data["lines"][1]["note"] == "自评"
    assert data["explain"] == card.explain()
    assert card.explain()[2].endswith("得1.75分（备注：自评）")
    assert card.explain()[-3].startswith("总分 =")


def test_describe_rule() -> None:
    ind = Indicator(
        code="A", name="a", points=D(1), department="d", rule=PerUnit(deduct=D("0.25")), cap=D("0.6")
    )
    assert describe_rule(ind) == "每少1项扣0.25分，最多扣0.6分"


# ----------------------------------------------------------------------------------------------
# Bad rules
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("indicator", "field", "why"),
    [
        ({"rule": {"kind": "per_item"}}, "indicators.FZ-01.rule.kind", "可选值"),
        ({"points": -1}, "indicators.FZ-01.points", "应大于0"),
        ({"points": 0}, "indicators.FZ-01.points", "应大于0"),
        ({"points": 0.125}, "indicators.FZ-01.points", "两位小数"),
        ({"rule": {"kind": "per_unit"}}, "indicators.FZ-01.rule.deduct", "缺少此项"),
        ({"rule": {"kind": "per_unit", "deduct": -0.1}}, "indicators.FZ-01.rule.deduct", "应大于0"),
        ({"rule": {"kind": "per_unit", "deduct": 0.1, "step": 0}}, "indicators.FZ-01.rule.step", "应大于0"),
        ({"rule": {"kind": "per_point_below", "deduct": 0.1}}, "indicators.FZ-01.rule.target", "缺少此项"),
        ({"rule": {"kind": "per_unit", "deduct": 0.1, "cap": 1}}, "indicators.FZ-01.rule", "未知字段"),
        ({"rule": None}, "indicators.FZ-01.rule", "缺少规则表"),
        ({"department": None}, "indicators.FZ-01.department", "缺少此项"),
        ({"name": ""}, "indicators.FZ-01.name", "非空"),
        ({"colour": "red"}, "indicators.FZ-01", "未知字段"),
        ({"cap": 0.6, "rule": {"kind": "all_or_nothing"}}, "indicators.FZ-01.cap", "扣分类规则"),
        ({"cap": -1}, "indicators.FZ-01.cap", "应大于0"),
        (
            {
                "rule": {
                    "kind": "ratio_bands",
                    "bands": [
                        {"min": 60, "factor": 0.7},
                        {"min": 85, "factor": 0.85},
                        {"min": 0, "factor": 0},
                    ],
                }
            },
            "indicators.FZ-01.rule.bands.min",
            "从高到低",
        ),
        (
            {
                "rule": {
                    "kind": "ratio_bands",
                    "bands": [
                        {"min": 85, "factor": 0.85},
                        {"min": 85, "factor": 0.7},
                        {"min": 0, "factor": 0},
                    ],
                }
            },
            "indicators.FZ-01.rule.bands.min",
            "从高到低",
        ),
        (
            {
                "rule": {
                    "kind": "ratio_bands",
                    "bands": [{"min": 100, "factor": 1}, {"min": 60, "factor": 0.7}],
                }
            },
            "indicators.FZ-01.rule.bands.min",
            "应为 0",
        ),
        (
            {
                "rule": {
                    "kind": "ratio_bands",
                    "bands": [{"min": 100, "factor": 0.7}, {"min": 0, "factor": 0.9}],
                }
            },
            "indicators.FZ-01.rule.bands.factor",
            "不能高于",
        ),
        (
            {"rule": {"kind": "ratio_bands", "bands": [{"min": 0, "factor": 1.5}]}},
            "indicators.FZ-01.rule.bands[1].factor",
            "0到1",
        ),
        ({"rule": {"kind": "ratio_bands", "bands": []}}, "indicators.FZ-01.rule.bands", "至少需要一档"),
        (
            {"rule": {"kind": "ratio_bands", "bands": [{"min": 0}]}},
            "indicators.FZ-01.rule.bands[1].factor",
            "缺少此项",
        ),
    ],
    ids=[
        "unknown-kind",
        "negative-points",
        "zero-points",
        "three-decimals",
        "missing-deduct",
        "negative-deduct",
        "zero-step",
        "missing-target",
        "unknown-rule-key",
        "missing-rule",
        "missing-department",
        "empty-name",
        "unknown-key",
        "cap-on-all-or-nothing",
        "negative-cap",
        "bands-ascending",
        "bands-equal",
        "bands-not-to-zero",
        "factor-rises",
        "factor-above-1",
        "no-bands",
        "band-missing-factor",
    ],
)
def test_bad_indicator_names_the_code_and_key(indicator: dict[str, Any], field: str, why: str) -> None:
    raw = {
        "code": "FZ-01",
        "name": "法治建设",
        "points": 1,
        "department": "纪检监察室",
        "rule": {"kind": "per_point_below", "target": 90, "deduct": 0.1},
    }
    raw.update(indicator)
    data = scheme()
    data["indicators"] = [raw]
    with pytest.raises(InvalidInput) as exc:
        parse_rules(data)
    assert exc.value.field == field and "FZ-01" in str(exc.value)
    assert why in exc.value.why


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"version": None}, "version"),
        ({"period": 2026}, "period"),
        ({"extra": 1}, "评分规则"),
        ({"grades": None}, "grades"),
        (
            {"grades": {"bands": [{"min": 75, "name": "合格"}, {"min": 90, "name": "优秀"}]}},
            "grades.bands.min",
        ),
        ({"grades": {"bands": [{"min": 90, "name": "优秀"}, {"min": 0, "name": "优秀"}]}}, "grades.bands"),
        ({"average_rate": 1.2}, "average_rate"),
        ({"bonus_cap": -6}, "bonus_cap"),
        ({"indicators": []}, "indicators"),
        ({"bonuses": [{"code": "B", "name": "b", "points": 1, "levels": {"市级": 2}}]}, "bonuses.B"),
        ({"bonuses": [{"code": "B", "name": "b"}]}, "bonuses.B"),
        ({"bonuses": [{"code": "B", "name": "b", "levels": {"市级": -2}}]}, "bonuses.B.levels.市级"),
        ({"bonuses": [{"code": "B", "name": "b", "points": 1, "capped": "no"}]}, "bonuses.B.capped"),
        (
            {"bonuses": [{"code": "B", "name": "b", "points": 1}, {"code": "B", "name": "c", "points": 2}]},
            "bonuses",
        ),
        ({"vetoes": [{"code": "V", "name": "v", "effect": "veto"}]}, "vetoes.V.effect"),
        ({"rectification": {"late": -0.5}}, "rectification.late"),
        ({"rectification": {"lates": 0.5}}, "rectification"),
        (
            {"rectification": {"on_time_bands": [{"min": 90, "deduct": 0}, {"min": 75, "deduct": 0.5}]}},
            "rectification.on_time_bands.min",
        ),
        (
            {"rectification": {"on_time_bands": [{"min": 90, "deduct": 1}, {"min": 0, "deduct": 0.5}]}},
            "rectification.on_time_bands.deduct",
        ),
        (
            {"rectification": {"on_time_bands": [{"min": 120, "deduct": 0}, {"min": 0, "deduct": 0.5}]}},
            "rectification.on_time_bands.min",
        ),
    ],
    ids=[
        "no-version",
        "period-not-text",
        "unknown-top-key",
        "no-grades",
        "grades-ascending",
        "grade-names-twice",
        "rate-above-1",
        "negative-bonus-cap",
        "no-indicators",
        "points-and-levels",
        "neither",
        "negative-level",
        "capped-not-bool",
        "duplicate-bonus",
        "unknown-effect",
        "negative-late",
        "unknown-rect-key",
        "rate-bands-not-to-zero",
        "rate-bands-deduct-falls",
        "rate-band-above-100",
    ],
)
def test_bad_scheme_names_the_key(change: dict[str, Any], field: str) -> None:
    data = scheme({"code": "A", "points": 1, "rule": {"kind": "all_or_nothing"}})
    data.update(change)
    with pytest.raises(InvalidInput) as exc:
        parse_rules(data)
    assert exc.value.field == field


def test_duplicate_indicator_code() -> None:
    with pytest.raises(InvalidInput, match="indicators「A」无效：重复"):
        parse_rules(
            scheme(
                {"code": "A", "points": 1, "rule": {"kind": "all_or_nothing"}},
                {"code": "A", "points": 2, "rule": {"kind": "all_or_nothing"}},
            )
        )


def test_load_rules_names_the_file(tmp_path: Path) -> None:
    bad_toml = tmp_path / "scoring.toml"
    bad_toml.write_text("version = \n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="TOML 格式错误") as exc:
        load_rules(bad_toml)
    assert str(bad_toml) in str(exc.value)
    bad_rule = tmp_path / "bad.toml"
    bad_rule.write_text(
        SHIPPED.read_text(encoding="utf-8").replace(
            'kind = "per_point_above", target = 10', 'kind = "per_point_over", target = 10'
        ),
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput) as exc:
        load_rules(bad_rule)
    assert str(bad_rule) in exc.value.field and "indicators.JB-03.rule.kind" in exc.value.field
    with pytest.raises(InvalidInput, match="无法读取"):
        load_rules(tmp_path / "absent.toml")


# ----------------------------------------------------------------------------------------------
# Properties
# ----------------------------------------------------------------------------------------------

points_st = st.decimals(min_value=D("0.01"), max_value=D(200), places=2)
steps_st = st.decimals(min_value=D("0.01"), max_value=D(50), places=2)
numbers_st = st.decimals(min_value=D(-1000), max_value=D(1000), places=3)
counts_st = st.decimals(min_value=D(0), max_value=D(1000), places=3)
caps_st = st.none() | points_st


@st.composite
def bands_st(draw: st.DrawFn) -> RatioBands:
    mins = sorted(
        draw(st.sets(st.decimals(min_value=D("0.01"), max_value=D(150), places=2), max_size=4)), reverse=True
    ) + [D(0)]
    factors = sorted(
        draw(
            st.lists(
                st.decimals(min_value=D(0), max_value=D(1), places=4), min_size=len(mins), max_size=len(mins)
            )
        ),
        reverse=True,
    )
    return RatioBands(tuple(Band(m, f) for m, f in zip(mins, factors, strict=True)))


@st.composite
def indicator_and_value(draw: st.DrawFn) -> tuple[Indicator, Any]:
    kind = draw(
        st.sampled_from(["all_or_nothing", "per_unit", "per_point_below", "per_point_above", "ratio_bands"])
    )
    rule: Rule
    value: Any
    cap = None
    if kind == "all_or_nothing":
        rule, value = AllOrNothing(), draw(st.booleans() | st.sampled_from([0, 1]))
    elif kind == "ratio_bands":
        rule, value = draw(bands_st()), draw(counts_st)
    elif kind == "per_unit":
        rule, value, cap = (
            PerUnit(deduct=draw(points_st), step=draw(steps_st)),
            draw(counts_st),
            draw(caps_st),
        )
    else:
        cls = PerPointBelow if kind == "per_point_below" else PerPointAbove
        rule = cls(target=draw(numbers_st), deduct=draw(points_st), step=draw(steps_st))
        value, cap = draw(numbers_st), draw(caps_st)
    ind = Indicator(code="P", name="p", points=draw(points_st), department="d", rule=rule, cap=cap)
    return ind, value


@given(indicator_and_value(), st.decimals(min_value=D(0), max_value=D(1), places=4))
def test_an_indicator_stays_between_zero_and_its_points(case: tuple[Indicator, Any], rate: Decimal) -> None:
    ind, value = case
    ln = score_indicator(ind, IndicatorResult("P", value), rate)
    assert 0 <= ln.score <= ind.points
    assert ln.score + ln.deduction == ind.points
    assert ln.score == ln.score.quantize(D("0.01"))
    if ind.cap is not None:
        assert ln.deduction <= ind.cap


bonus_claims_st = st.lists(
    st.one_of(
        st.builds(BonusClaim, st.just("RC"), st.sampled_from(["市级", "省级", "国家级"]), st.integers(1, 3)),
        st.builds(BonusClaim, st.just("GK"), st.none(), st.integers(1, 2)),
        st.builds(BonusClaim, st.just("CJ"), st.none(), st.integers(1, 5)),
    ),
    max_size=5,
)
refs_st = st.lists(st.builds(ItemRef, st.integers(1, 50), st.sampled_from(["甲", "乙", "丙"])), max_size=6)
facts_st = st.none() | st.builds(
    RectificationFacts,
    late=refs_st,
    reopened=refs_st,
    talks=refs_st,
    on_time_rate=st.none() | st.decimals(min_value=D(0), max_value=D(100), places=2),
)


@given(
    st.lists(counts_st, min_size=1, max_size=1),
    bonus_claims_st,
    facts_st,
    st.lists(st.sampled_from(["NG", "LG", "LG2", "FJ"]), max_size=3),
)
@settings(max_examples=200)
def test_the_total_is_the_sum_of_its_parts(
    values: list[Decimal], claims: list[BonusClaim], facts: RectificationFacts | None, vetoes: list[str]
) -> None:
    rules = full_rules()
    card = score_department(rules, "医务科", [IndicatorResult("A", values[0])], claims, vetoes, facts)
    per_award = {"市级": D(2), "省级": D(3), "国家级": D(5)}
    capped = sum((per_award[c.level] * c.count for c in claims if c.code == "RC" and c.level), D(0))
    capped += sum((D("0.5") * c.count for c in claims if c.code == "CJ"), D(0))
    free = sum((D(5) * c.count for c in claims if c.code == "GK"), D(0))
    bonus = min(capped, D(6)) + free
    rect = D(0)
    if facts is not None:
        rect = D("0.5") * len(facts.late) + len(facts.reopened) + 2 * len(facts.talks)
        if facts.on_time_rate is not None:
            rate = facts.on_time_rate
            rect += D(0) if rate >= 90 else D("0.5") if rate >= 75 else D(1)
        rect = min(rect, D(5))
    assert card.bonus == bonus and card.rectification == rect
    assert card.total == sum((ln.score for ln in card.lines), D(0)) + bonus - rect
    assert sum((b.points for b in card.bonus_lines), D(0)) == card.bonus
    assert sum((r.deduction for r in card.rectification_lines), D(0)) == card.rectification


def _shuffled(facts: RectificationFacts | None, seed: int) -> RectificationFacts | None:
    if facts is None:
        return None
    rnd = random.Random(seed)
    return RectificationFacts(
        late=rnd.sample(list(facts.late), len(facts.late)),
        reopened=rnd.sample(list(facts.reopened), len(facts.reopened)),
        talks=rnd.sample(list(facts.talks), len(facts.talks)),
        on_time_rate=facts.on_time_rate,
    )


@given(
    st.lists(
        st.tuples(st.sampled_from(["SK-03", "SK-04", "XL-07", "YL-03"]), counts_st), unique_by=lambda t: t[0]
    ),
    bonus_claims_st.map(lambda cs: [BonusClaim("JF-BZ", "市级", c.count) for c in cs]),
    facts_st,
    st.integers(0, 1000),
)
@settings(max_examples=100)
def test_scoring_is_deterministic(
    values: list[tuple[str, Decimal]], claims: list[BonusClaim], facts: RectificationFacts | None, seed: int
) -> None:
    """Same rules and inputs → the same scorecard and JSON; the order of results and items does not matter."""
    results = [IndicatorResult(code, value) for code, value in values]
    first = score_department(load_rules(SHIPPED), "医务科", results, claims, ["DC-1"], facts)
    again = score_department(load_rules(SHIPPED), "医务科", results, claims, ["DC-1"], facts)
    shuffled = score_department(
        load_rules(SHIPPED),
        "医务科",
        random.Random(seed).sample(results, len(results)),
        claims,
        ["DC-1"],
        _shuffled(facts, seed),
    )
    assert isinstance(first, Scorecard)
    assert first == again == shuffled
    assert first.as_json() == again.as_json() == shuffled.as_json()
    assert first.explain() == shuffled.explain()
