"""Intake commands: ``import`` (lists and notice texts), ``complaint add``, ``export`` (the ledger)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from app.cli import cli, console, err, parse_date, split_names, state
from app.files import TEXT_SUFFIXES, read_text
from app.ledger import write_ledger
from states import intake, queries
from states.errors import InvalidInput, NotFound
from states.importers.apply import ImportPlan, ImportRefused, plan_import, run_import
from states.importers.model import ParsedImport
from states.importers.table import parse_table
from states.importers.text import parse_notice_text
from states.model import Notice

complaint_cli = typer.Typer(help="投诉：登记（按 5/10 个工作日规则自动计算反馈期限）", no_args_is_help=True)
cli.add_typer(complaint_cli, name="complaint")


def _parse(path: str | None, text: str | None, year: int) -> ParsedImport:
    if text is not None:
        source = sys.stdin.read() if text == "-" else Path(text).read_text(encoding="utf-8")
        return parse_notice_text(source)
    if path is None:
        raise InvalidInput("文件", "", "请给出要导入的文件，或用 --text - 从标准输入读取通报文本")
    file = Path(path)
    if not file.is_file():
        raise InvalidInput("文件", path, "文件不存在")
    if file.suffix.lower() in TEXT_SUFFIXES:
        return parse_notice_text(read_text(file))
    with Progress(TextColumn("读取 {task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} 行"),
                  TimeRemainingColumn(), console=err, transient=True) as bar:  # fmt: skip
        task = bar.add_task(file.name, total=None)
        return parse_table(file, notice_year=year, progress=lambda done, total: bar.update(task, completed=done,
                                                                                            total=total))  # fmt: skip


@cli.command("import")
def import_(
    ctx: typer.Context,
    file: str | None = typer.Argument(None, help="督办清单 .xlsx / .csv，或通报文本 .txt"),
    notice: int = typer.Option(..., help="导入到此通报"),
    text: str | None = typer.Option(None, "--text", help="通报文本文件；- 表示从标准输入读取"),
    dry_run: bool = typer.Option(False, "--dry-run", help="只预览，不写入"),
    create_departments: bool = typer.Option(False, "--create-departments", help="新建清单中未知的科室"),
    measures: str | None = typer.Option(None, help="整改措施期限规则，如 workdays:10（完成时限取自清单）"),
    lead: str | None = typer.Option(None, help="未写牵头科室的条目由此科室牵头（通报文本通常不写）"),
) -> None:
    """导入督办清单或通报文本：全部正确才写入，否则逐行列出问题。"""
    st = state(ctx)
    with st.session() as s:
        target = s.get(Notice, notice)
        if target is None:
            raise NotFound("通报", notice)
        parsed = _parse(file, text, target.received_on.year)
        actor = st.actor(s)
        if dry_run:
            plan = plan_import(s, parsed, create_departments=create_departments, measures_rule=measures,
                               default_lead=tuple(split_names(lead)))  # fmt: skip
            _preview(plan)
            if plan.problems:
                raise ImportRefused(plan.problems)
            console.print(f"预览：将导入 {len(plan.specs)} 个事项（未写入）")
            return
        done = run_import(s, st.app().env, notice, parsed, actor, st.now(), create_departments=create_departments,
                          measures_rule=measures, default_lead=tuple(split_names(lead)))  # fmt: skip
    for note in done.notes:
        console.print(f"  {note}", markup=False)
    console.print(f"已导入 {len(done.item_ids)} 个事项到通报 {notice}")


def _preview(plan: ImportPlan) -> None:
    table = Table(title=f"导入预览（{len(plan.specs)} 项）")
    for label in ("行", "方面", "问题", "牵头科室", "配合科室", "完成时限"):
        table.add_column(label, overflow="fold")
    for row, spec in zip(plan.rows, plan.specs, strict=True):
        table.add_row(str(row.row), spec.category, spec.title, "、".join(spec.lead_departments),
                      "、".join(spec.cooperating_departments), row.deadline.isoformat() if row.deadline else "")  # fmt: skip
    console.print(table)
    for note in plan.notes:
        console.print(f"  {note}", markup=False)


@complaint_cli.command("add")
def complaint_add(
    ctx: typer.Context,
    received: str = typer.Option(..., help="接到投诉日期 YYYY-MM-DD（当日不计入）"),
    title: str = typer.Option(..., help="投诉事项"),
    lead: str = typer.Option(..., help="牵头科室"),
    coop: str | None = typer.Option(
        None, help="配合科室，多个用逗号分隔（涉及多个科室时反馈期限为10个工作日）"
    ),
    detail: str | None = typer.Option(None, help="投诉内容"),
) -> None:
    """登记投诉：反馈期限按《医疗机构投诉管理办法》5个工作日（多科室10个工作日）自动计算。"""
    st = state(ctx)
    day = parse_date(received, "--received")
    assert day is not None
    with st.session() as s:
        actor, env, now = st.actor(s), st.app().env, st.now()
        n = intake.create_notice(
            s, env, actor, now, title=f"投诉：{title}", issuer="患者投诉", received_on=day
        )
        spec = intake.ItemSpec(category="投诉处理", title=title, detail=detail, lead_departments=split_names(lead),
                               cooperating_departments=split_names(coop), measures_rule="complaint")  # fmt: skip
        (item,) = intake.create_items(s, env, n.id, [spec], actor, now)
        view = queries.view(item, st.today(), env.calendar)
    days = 10 if len(view.lead_departments) + len(view.cooperating_departments) > 1 else 5
    console.print(f"已登记投诉事项 {view.id}（通报 {n.id}）：反馈期限 {view.measures_due}（{days}个工作日）"
                  + ("（暂定）" if view.provisional else ""))  # fmt: skip


@cli.command()
def export(
    ctx: typer.Context,
    notice: int = typer.Option(..., help="导出此通报的台账"),
    output: Path = typer.Option(..., "-o", "--output", help="输出文件 .xlsx"),
) -> None:
    """导出整改台账（.xlsx）：清单各列加状态、期限、销号日期、逾期工作日；可再导入。"""
    st = state(ctx)
    if output.suffix.lower() != ".xlsx":
        raise InvalidInput("-o", str(output), "台账请导出为 .xlsx 文件")
    with st.session() as s:
        n = s.get(Notice, notice)
        if n is None:
            raise NotFound("通报", notice)
        rows = write_ledger(s, st.app().env.calendar, n, st.today(), output)
    console.print(f"已导出 {rows} 个事项到 {output}")
