"""Indicator lists (考核指标清单) to scoring-rule drafts: ``[[indicators]]`` TOML for the office to review.

A list read by :func:`states.importers.table.parse_table` (项目（分值）, 清单内容, 考核标准, 牵头科室 /
责任处室 columns) gives one indicator per row. Its rule is inferred from the 考核标准 text only when
the text has exactly one of these shapes (whitespace ignored); otherwise the draft says 请填写规则:

- 未完成不得分, 未达要求不得分, 未完成的，不得分 → ``all_or_nothing``;
- 每少5%扣0.1分, 每发现1起…扣0.1分, 每降5名扣0.2分, 每次扣0.5分, 未完成1项扣0.25分 → ``per_unit``;
- 每下降1个百分点扣0.5分, 每下降1分扣0.1分 → ``per_point_below``; 每上升1%扣0.2分 → ``per_point_above``.
  The target comes from 达到X% / ≥X% / 不低于X% / X%（及）以上 (below) or 低于X% / ≤X% / 不超过X%
  (above), in the standard or else in the item, with the rule's unit (% or 分); without one the rule
  is written commented out, marked 请核对目标值;
- 最多扣X分 → ``cap`` (deduction rules only).

A deduction (扣X分) none of the shapes explains is marked 请核对. A missing score, department or rule
leaves a value the rules loader refuses, so a draft cannot be used unreviewed by accident.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from states.importers.model import ImportedItem
from states.scoring import fmt

_N = r"\d+(?:\.\d+)?"
ALL_OR_NOTHING = re.compile(r"未[^，,。；;]{0,15}[，,]?不得分")
PER_POINT = re.compile(
    rf"每(?P<move>下降|上升)(?P<step>{_N}|一)?(?P<unit>个百分点|%|分)[，,]?(?:相应)?扣(?P<deduct>{_N})分"
)
PER_UNIT = re.compile(
    rf"每(?P<verb>少|发现|降|退|有)?(?P<step>{_N}|一)?(?P<unit>项|起|次|名|人|条|个|件|篇|期|%)"
    rf"[^，,。；;扣]{{0,15}}[，,]?扣(?P<deduct>{_N})分"
)
MISSED = re.compile(rf"未(?:完成|落实)(?P<step>{_N}|一)(?P<unit>项)[，,]?扣(?P<deduct>{_N})分")
CAP = re.compile(rf"最多扣(?P<cap>{_N})分")
DEDUCTION = re.compile(rf"扣{_N}分")
AT_LEAST = re.compile(rf"(?:达到?|≥|不低于)(?P<a>{_N})(?P<ua>%|分)|(?P<b>{_N})(?P<ub>%|分)(?:及|或)?以上")
AT_MOST = re.compile(rf"(?:低于|≤|不超过)(?P<a>{_N})(?P<ua>%|分)")

PER_POINT_KINDS = {"下降": "per_point_below", "上升": "per_point_above"}
CODE_PREFIX = "ZB"


@dataclass(frozen=True, slots=True)
class Inferred:
    """What a 考核标准 text says about the rule."""

    rule: dict[str, str | Decimal] | None
    """``kind`` and the rule's fields in TOML order; ``None``: not inferred."""
    cap: Decimal | None = None
    notes: tuple[str, ...] = ()
    """What the office must check (请填写 / 请核对 …)."""
    commented: bool = False
    """The rule misses its target: written commented out."""


def infer_rule(standard: str | None, item: str = "") -> Inferred:
    """The rule of one 考核标准 text, when it has exactly one recognised shape.

    Args:
        standard: the 考核标准 text as written.
        item: the item's own words (清单内容, name), searched for a target after the standard.
    """
    text = _squash(standard or "")
    found = _shapes(text)
    if len(found) != 1:
        why = "考核标准含多条计分方式，建议拆分为多个指标" if found else "未能从考核标准识别计分方式"
        return Inferred(None, notes=(f"请填写规则：{why}",))
    rule, caps = found[0], [Decimal(m["cap"]) for m in CAP.finditer(text)]
    notes: list[str] = []
    commented = False
    if rule["kind"] in PER_POINT_KINDS.values():
        target = next((t for t in (_target(rule, text), _target(rule, _squash(item))) if t is not None), None)
        commented = target is None
        if target is None:
            notes.append("请核对目标值：考核标准未写明目标，填好 target 后取消注释")
        kind, *rest = rule.items()
        rule = dict([kind, ("target", target or Decimal(0)), *rest])
    deducting = rule["kind"] != "all_or_nothing"
    if len(caps) > 1 or (caps and not deducting):
        notes.append("请核对：考核标准中的“最多扣”未能对应到一条规则，未填写 cap")
    if len(DEDUCTION.findall(text)) > int(deducting) + len(caps):
        notes.append("请核对：考核标准中还有未识别的扣分条款")
    cap = caps[0] if len(caps) == 1 and deducting else None
    return Inferred(rule, cap, tuple(notes), commented)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _number(text: str | None) -> Decimal:
    return Decimal(1) if text in (None, "一") else Decimal(text)


def _shapes(text: str) -> list[dict[str, str | Decimal]]:
    """Every rule shape in the text, in kind order."""
    found: list[dict[str, str | Decimal]] = [{"kind": "all_or_nothing"}] * len(ALL_OR_NOTHING.findall(text))
    for m in PER_POINT.finditer(text):
        found.append(_fields(PER_POINT_KINDS[m["move"]], m["deduct"], m["step"], m["unit"], "个百分点"))
    for m in PER_UNIT.finditer(text):
        found.append(_fields("per_unit", m["deduct"], m["step"], m["unit"], "项") | _verb(m["verb"] or "发现"))
    for m in MISSED.finditer(text):
        found.append(_fields("per_unit", m["deduct"], m["step"], m["unit"], "项"))
    return found


def _fields(
    kind: str, deduct: str, step: str | None, unit: str, default_unit: str
) -> dict[str, str | Decimal]:
    """A rule's fields, leaving out the engine's defaults (step 1, the default unit)."""
    out: dict[str, str | Decimal] = {"kind": kind, "deduct": Decimal(deduct)}
    if _number(step) != 1:
        out["step"] = _number(step)
    if unit != default_unit:
        out["unit"] = unit
    return out


def _verb(verb: str) -> dict[str, str | Decimal]:
    return {} if verb == "少" else {"verb": verb}


def _target(rule: dict[str, str | Decimal], text: str) -> Decimal | None:
    """The first target written with the rule's unit (% for percent rules, 分 for scores)."""
    pattern = AT_LEAST if rule["kind"] == "per_point_below" else AT_MOST
    wanted = "分" if rule.get("unit") == "分" else "%"
    for m in pattern.finditer(text):
        if (m["ua"] or m["ub"]) == wanted:
            return Decimal(m["a"] or m["b"])
    return None


# ----------------------------------------------------------------------------------------------
# The draft file
# ----------------------------------------------------------------------------------------------


def indicator_stubs(items: Sequence[ImportedItem], source: str) -> tuple[str, int]:
    """The ``[[indicators]]`` draft of a list's rows, and how many got a rule with nothing to check.

    An indicator is named after its 项目 (category) when that is the row's own, after its item
    otherwise (lists where many rows share a category, like seed 002's 一级指标).
    """
    shared = {c for c, n in Counter(i.category for i in items).items() if n > 1}
    lines = [
        f"# 考核指标草稿：由 rectiflow score indicators 从「{_one_line(source)}」生成。",
        "# 请逐条核对（尤其是标有“请填写”“请核对”的），确认后复制到 config/scoring.toml；",
        "# 未填写的分值、科室和规则会被评分程序拒绝读取。",
    ]
    inferred = 0
    for n, item in enumerate(items, 1):
        name = item.title if (item.category in shared or not item.category) else item.category
        stub, ok = _stub(f"{CODE_PREFIX}-{n:02d}", name, item)
        lines += ["", *stub]
        inferred += ok
    return "\n".join(lines) + "\n", inferred


def _stub(code: str, name: str, item: ImportedItem) -> tuple[list[str], bool]:
    """One ``[[indicators]]`` table, and whether its rule was inferred with nothing to check."""
    points = _points(item.points)
    found = infer_rule(item.standard, f"{item.title} {name}")
    lines = [f"# 第 {item.row} 行 · 项目：{_one_line(item.category) or '—'}（{fmt(points) if points else '?'}分）",
             f"# 清单内容：{_one_line(item.title)}", "[[indicators]]", f"code = {_toml(code)}",
             f"name = {_toml(_one_line(name))}"]  # fmt: skip
    lines.append(f"points = {fmt(points)}" if points else "points = 0  # 请填写分值")
    lines += _department(item.lead_departments)
    if item.standard:
        lines.append(f"standard = {_toml(_one_line(item.standard))}")
    lines += [f"# {note}" for note in found.notes]
    if found.rule is not None:
        lines.append(("# " if found.commented else "") + f"rule = {_inline(found.rule)}")
    if found.cap is not None:
        lines.append(f"cap = {fmt(found.cap)}")
    return lines, found.rule is not None and not found.notes


def _points(points: float | None) -> Decimal | None:
    """The score as the rules accept it (positive, at most two decimals), else ``None``."""
    if points is None:
        return None
    value = Decimal(repr(points))
    return value if value > 0 and value == value.quantize(Decimal("0.01")) else None


def _department(names: Sequence[str]) -> list[str]:
    if not names:
        return ['department = ""  # 请填写责任科室']
    lines = [f"department = {_toml(names[0])}"]
    if len(names) > 1:
        lines.append(f"# 请核对：牵头科室有多个（{'、'.join(names)}），每个指标只属于一个科室，可拆分为多个指标")
    return lines


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _toml(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's; DEL must be escaped too)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _inline(rule: dict[str, str | Decimal]) -> str:
    fields = ", ".join(f"{k} = {fmt(v) if isinstance(v, Decimal) else _toml(v)}" for k, v in rule.items())
    return f"{{ {fields} }}"
