"""Assessment scoring commands (``rectiflow score …``): scorecards, results, bonus and veto records,
and indicator drafts from a list. The rules are ``config/scoring.toml`` unless ``--rules`` names
another file; the computation is :mod:`states.assessment`'s."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table
from rich.text import Text

from app import files
from app.cli import State, cli, console, emit_json, err, state
from states import assessment, scoring
from states.errors import InvalidInput
from states.importers.table import parse_table
from states.model import AssessmentRecord, IndicatorResult, Scorecard
from states.permissions import CONSOLE_READER, refusal
from states.scoring_import import indicator_stubs

score_cli = typer.Typer(
    help="考核评分：计算各科室评分表；填报、核验指标结果；登记加分与否决事项；从指标清单生成规则草稿。",
    invoke_without_command=True,
)
cli.add_typer(score_cli, name="score")

RULES = typer.Option(None, "--rules", help="评分规则文件（默认 config/scoring.toml）")
PERIOD = typer.Option(None, "--period", help="考核期，如 2026（默认取评分规则中的 period）")
AS_JSON = typer.Option(False, "--json", help="输出 JSON")
VALUE_WORDS = {"true": "是", "false": "否"}


def say(line: str) -> None:
    """One line of plain text (user data is never read as rich markup; long lines are not wrapped)."""
    console.print(line, markup=False, highlight=False, soft_wrap=True)


def _rules(st: State, path: Path | None) -> tuple[scoring.Rules, str, Path]:
    """The rules, the SHA-256 of their file and the file."""
    file = path or st.app(migrated=False).settings.config_dir / "scoring.toml"
    rules, sha = assessment.read_rules(file)
    return rules, sha, file


@score_cli.callback()
def score(
    ctx: typer.Context,
    period: str | None = PERIOD,
    as_json: bool = AS_JSON,
    explain: str | None = typer.Option(None, "--explain", help="逐步说明此科室的计算过程"),
    no_record: bool = typer.Option(False, "--no-record", help="只计算，不保存评分表"),
    rules_file: Path | None = RULES,
) -> None:
    """计算各科室考核评分（只用已核验的指标结果），默认保存评分表（督查办）。"""
    if ctx.invoked_subcommand is not None:
        return
    st = state(ctx)
    rules, sha, file = _rules(st, rules_file)
    with st.session() as s:
        actor = st.actor(s, required=False) or CONSOLE_READER
        may_save = refusal(actor, "compute_scores") is None  # leaders and departments look without saving
        record = not no_record and may_save
        cards = assessment.compute_scorecards(
            s, st.app().env, actor, st.now(), rules, sha, period=period,
            departments=[explain] if explain else None, record=record,
        )  # fmt: skip
    if as_json:
        return emit_json([assessment.scorecard_json(c) for c in cards])
    period_used = cards[0].period if cards else period or rules.period
    say(f"评分规则：{file}（版本 {rules.version}，SHA-256 {sha[:12]}…），考核期 {period_used}")
    if explain:
        for step in cards[0].data["explain"]:
            say(step)
    else:
        _summary(cards)
        for card in cards:
            _detail(card)
    if record:
        say(f"已保存 {len(cards)} 张评分表")
    else:
        say("未保存（--no-record）" if no_record else "未保存（仅督查办可保存评分表）")


def _summary(cards: list[Scorecard]) -> None:
    t = Table(title="各科室考核评分")
    for label in ("科室", "指标得分", "加分", "整改扣分", "总分", "评定分", "等次", "扣分项"):
        t.add_column(label, justify="left" if label in ("科室", "等次") else "right")
    for c in cards:
        d = c.data
        t.add_row(Text(c.department), f"{d['subtotal']}/{d['nominal']}", d["bonus"], d["rectification"],
                  d["total"], d["graded"], Text(c.grade), str(assessment.deductions(c)))  # fmt: skip
    console.print(t)


def _detail(card: Scorecard) -> None:
    """Every line of one scorecard: indicators, bonuses, deductions, vetoes and the grade."""
    d = card.data
    t = Table(title=Text(f"{card.department}：总分 {card.total}，等次 {card.grade}"), show_lines=False)
    for label in ("项目", "分值", "得分", "说明"):
        t.add_column(label, justify="right" if label in ("分值", "得分") else "left", overflow="fold")
    for ln in d["lines"]:
        note = f"（备注：{ln['note']}）" if ln["note"] else ""
        t.add_row(Text(f"{ln['code']} {ln['name']}"), ln["points"], ln["score"], Text(ln["reason"] + note))
    for b in d["bonus_lines"]:
        t.add_row("加分", "", f"+{b['points']}", Text(b["reason"]))
    for r in d["rectification_lines"]:
        t.add_row("整改扣分", "", f"-{r['deduction']}", Text(r["reason"]))
    for v in d["vetoes"]:
        t.add_row("否决事项", "", "", Text(f"{v['code']} {v['name']}（{scoring.EFFECT_LABELS[v['effect']]}）"))
    t.add_row("考核等次", "", "", Text(d["grade_reason"]))
    console.print(t)


@score_cli.command("file")
def file_result(
    ctx: typer.Context,
    code: str,
    value: str = typer.Option(..., "--value", help="结果：数字，或 是/否（未完成不得分类指标）"),
    note: str | None = typer.Option(None, "--note", help="说明"),
    evidence: list[Path] = typer.Option([], "--evidence", help="佐证材料文件，可多次给出"),
    period: str | None = PERIOD,
    rules_file: Path | None = RULES,
) -> None:
    """填报指标结果和佐证材料（指标的责任科室人员）；已退回或待核验的可重新填报。"""
    st = state(ctx)
    rules, _, _ = _rules(st, rules_file)
    with files.staged(evidence, st.app().settings.evidence_dir) as stored, st.session() as s:
        row = assessment.file_result(s, rules, st.actor(s), st.now(), code=code, value=value, note=note,
                                     evidence=stored, period=period)  # fmt: skip
    say(f"已填报指标 {row.code} 的结果 #{row.id}（第 {len(row.history) + 1} 次填报，"
        f"{len(row.evidence)} 个佐证材料），待督查办核验")


@score_cli.command("verify")
def verify_result(
    ctx: typer.Context, result_id: int, note: str | None = typer.Option(None, "--note", help="核验意见")
) -> None:
    """核验通过指标结果（督查办）；核验后的结果才计入评分。"""
    st = state(ctx)
    with st.session() as s:
        row = assessment.verify_result(s, st.actor(s), st.now(), result_id, note=note)
    say(f"已核验结果 #{row.id}（指标 {row.code}）")


@score_cli.command("reject")
def reject_result(
    ctx: typer.Context, result_id: int, reason: str = typer.Option(..., "--reason", help="退回原因")
) -> None:
    """退回指标结果（督查办，须写原因）；科室可重新填报。"""
    st = state(ctx)
    with st.session() as s:
        row = assessment.reject_result(s, st.actor(s), st.now(), result_id, reason=reason)
    say(f"已退回结果 #{row.id}（指标 {row.code}）：{row.decision_note}")


@score_cli.command("results")
def list_results(
    ctx: typer.Context, period: str | None = PERIOD, as_json: bool = AS_JSON, rules_file: Path | None = RULES
) -> None:
    """列出指标结果（含状态）和已登记的加分、否决事项；科室人员只看本科室的。"""
    st = state(ctx)
    rules, _, _ = _rules(st, rules_file)
    names = {i.code: i.name for i in rules.indicators}
    with st.session() as s:
        actor = st.actor(s, required=False) or CONSOLE_READER
        chosen = period or rules.period
        rows = [_result_json(r, names) for r in assessment.results(s, actor, chosen)]
        recs = [_record_json(r) for r in assessment.records(s, actor, chosen)]
    if as_json:
        return emit_json({"period": chosen, "results": rows, "records": recs})
    _results_table(rows, chosen, st.app(migrated=False).env.tz)
    if recs:
        _records_table(recs)


def _results_table(rows: list[dict[str, Any]], period: str, tz: ZoneInfo) -> None:
    t = Table(title=f"指标结果（考核期 {period}，{len(rows)} 项）")
    for label in ("编号", "指标", "科室", "填报值", "状态", "填报次数", "填报人", "填报时间", "意见"):
        t.add_column(label, overflow="fold")
    for r in rows:
        filed = dt.datetime.fromisoformat(r["filed_at"]).astimezone(tz).strftime("%Y-%m-%d %H:%M")
        t.add_row(str(r["id"]), Text(f"{r['code']} {r['name'] or ''}"), Text(r["department"]),
                  Text(VALUE_WORDS.get(r["value"], r["value"])), r["status_label"], str(r["filings"]),
                  Text(r["filed_by"]), filed, Text(r["decision_note"] or ""))  # fmt: skip
    console.print(t)


def _records_table(recs: list[dict[str, Any]]) -> None:
    t = Table(title="加分与否决事项")
    for label in ("编号", "科室", "类别", "代码", "级别", "次数", "说明", "状态"):
        t.add_column(label, overflow="fold")
    for r in recs:
        status = f"已撤销：{r['revoke_reason']}" if r["revoked_at"] else "有效"
        t.add_row(str(r["id"]), Text(r["department"]), assessment.RECORD_LABELS[r["kind"]], Text(r["code"]),
                  Text(r["level"] or ""), str(r["count"]), Text(r["note"] or ""), Text(status))  # fmt: skip
    console.print(t)


def _result_json(r: IndicatorResult, names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": r.id, "period": r.period, "code": r.code, "name": names.get(r.code),
        "department": r.department.name, "value": r.value, "note": r.note, "status": r.status,
        "status_label": assessment.RESULT_LABELS[r.status],
        "version": r.version, "filed_by": r.filer.name, "filed_at": r.filed_at.isoformat(),
        "decided_at": r.decided_at.isoformat() if r.decided_at else None, "decision_note": r.decision_note,
        "evidence": [{k: f[k] for k in ("file_name", "sha256", "size")} for f in r.evidence],
        "filings": len(r.history) + 1,
    }  # fmt: skip


def _record_json(r: AssessmentRecord) -> dict[str, Any]:
    return {"id": r.id, "period": r.period, "department": r.department.name, "kind": r.kind,
            "code": r.code, "level": r.level, "count": r.count, "note": r.note,
            "recorded_at": r.recorded_at.isoformat(),
            "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None, "revoke_reason": r.revoke_reason}  # fmt: skip


@score_cli.command("bonus")
def bonus(
    ctx: typer.Context,
    department: str,
    code: str,
    level: str | None = typer.Option(None, "--level", help="级别，如 省级（按级别计分的加分事项）"),
    count: int = typer.Option(1, "--count", help="次数"),
    note: str | None = typer.Option(None, "--note", help="说明，如 表彰文件文号"),
    period: str | None = PERIOD,
    rules_file: Path | None = RULES,
) -> None:
    """登记科室的加分事项（督查办）。"""
    st = state(ctx)
    rules, _, _ = _rules(st, rules_file)
    with st.session() as s:
        row = assessment.record_bonus(s, rules, st.actor(s), st.now(), department=department, code=code,
                                      level=level, count=count, note=note, period=period)  # fmt: skip
    level = f"（{row.level}）" if row.level else ""
    say(f"已登记加分事项 #{row.id}：{department} {code}{level} × {row.count}")


@score_cli.command("veto")
def veto(
    ctx: typer.Context,
    department: str,
    code: str,
    note: str | None = typer.Option(None, "--note", help="说明"),
    period: str | None = PERIOD,
    rules_file: Path | None = RULES,
) -> None:
    """登记科室的否决事项（督查办）：不定等次、一票否决或降低考核档次。"""
    st = state(ctx)
    rules, _, _ = _rules(st, rules_file)
    with st.session() as s:
        row = assessment.record_veto(s, rules, st.actor(s), st.now(), department=department, code=code,
                                     note=note, period=period)  # fmt: skip
    say(f"已登记否决事项 #{row.id}：{department} {code}")


@score_cli.command("revoke")
def revoke(
    ctx: typer.Context,
    record_id: int = typer.Argument(..., help="加分或否决事项的编号（见 score results）"),
    reason: str = typer.Option(..., "--reason", help="撤销原因"),
) -> None:
    """撤销登记错误的加分或否决事项（督查办，须写原因）；记录保留，不再计分。"""
    st = state(ctx)
    with st.session() as s:
        row = assessment.revoke_record(s, st.actor(s), st.now(), record_id, reason=reason)
    label = assessment.RECORD_LABELS[row.kind]
    say(f"已撤销{label}事项 #{row.id}：{row.department.name} {row.code}（{row.revoke_reason}）")


@score_cli.command("indicators")
def indicators(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="考核指标清单 .xlsx / .csv（项目（分值）、考核标准、牵头科室列）"),
    output: Path = typer.Option(Path("scoring-indicators.toml"), "-o", "--output", help="写出的规则草稿"),
    force: bool = typer.Option(False, "--force", help="覆盖已有的文件"),
) -> None:
    """从考核指标清单生成 [[indicators]] 规则草稿，供督查办核对后复制到 config/scoring.toml。"""
    if not file.is_file():
        raise InvalidInput("文件", str(file), "文件不存在")
    if output.exists() and not force:
        raise InvalidInput("-o", str(output), "文件已存在；用 --force 覆盖")
    parsed = parse_table(file, notice_year=state(ctx).today().year)
    for problem in parsed.problems:
        err.print(f"跳过：{problem}", markup=False, highlight=False, soft_wrap=True)
    if not parsed.items:
        raise InvalidInput("文件", str(file), "没有读到任何指标")
    text, inferred = indicator_stubs(parsed.items, file.name)
    output.write_text(text, encoding="utf-8")
    say(f"已写出 {len(parsed.items)} 个指标草稿到 {output}：{inferred} 个已推断计分规则，"
        f"{len(parsed.items) - inferred} 个需填写或核对规则")
