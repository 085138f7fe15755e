"""Escalation and delivery commands: ``scan``, ``dispatch``, ``outbox``, ``scheduler``, ``serve``."""

from __future__ import annotations

import os
from pathlib import Path

import typer
import uvicorn
from rich.table import Table
from sqlalchemy import select

from app.cli import cli, console, emit_json, state
from app.web import create_app
from flows.closure_record import write_closure_record
from flows.jobs import run_dispatch, run_scan
from flows.reports import run_reports, write_report
from flows.scheduler import build_scheduler
from notifications.dispatch import requeue
from states.errors import InvalidInput
from states.escalation import LEVEL_LABELS as ESCALATION_LEVELS
from states.model import OutboxMessage

LEVEL_LABELS = ESCALATION_LEVELS | {
    "assigned": "交办通知", "sent_back": "退回通知", "extension_decided": "延期审批结果",
    "closed": "销号通知", "report_ready": "整改报告已生成", "weekly": "每周督办简报",
}  # fmt: skip
STATUS_LABELS = {
    "pending": "待发送",
    "sending": "发送中",
    "sent": "已发送",
    "dead": "失败（死信）",
    "cancelled": "已取消",
}


@cli.command()
def scan(
    ctx: typer.Context, dry_run: bool = typer.Option(False, "--dry-run", help="只统计，不写入发件箱")
) -> None:
    """升级督办扫描：按策略把今天到期、逾期的提醒写入发件箱（--today 指定日期）。"""
    st = state(ctx)
    app = st.app()
    result = run_scan(app, st.now(), today=st.today(), dry_run=dry_run)
    verb = "将" if dry_run else "已"
    items = "，".join(f"{LEVEL_LABELS[k]} {v}" for k, v in result.queued.items())
    messages = "，".join(f"{LEVEL_LABELS[k]} {v}" for k, v in result.messages.items()) or "无"
    console.print(f"{result.day} 扫描：{verb}登记 {result.total} 项升级（{items}）；{verb}写入发件箱 "
                  f"{result.total_messages} 条消息（{messages}），发送时间 "
                  f"{result.due_at.astimezone(app.env.tz):%Y-%m-%d %H:%M}")  # fmt: skip


@cli.command()
def dispatch(ctx: typer.Context) -> None:
    """生成待出的整改报告，再发送发件箱中到期的消息（同一收件人当天的消息合并为一封汇总）。"""
    st = state(ctx)
    done = run_reports(st.app(), st.now())
    if done.written or done.failed or done.retrying:
        console.print(f"整改报告：已生成 {len(done.written)} 份，稍后重试 {len(done.retrying)} 份，"
                      f"失败 {len(done.failed)} 份")  # fmt: skip
    r = run_dispatch(st.app(), st.now())
    console.print(f"取出 {r.claimed} 条，已发送 {r.sent} 条（{r.deliveries} 次投递），稍后重试 {r.retried} 条，"
                  f"失败 {r.dead} 条，取消 {r.cancelled} 条")  # fmt: skip
    for error in dict.fromkeys(r.errors):
        console.print(f"  {error}", markup=False)


@cli.command()
def outbox(
    ctx: typer.Context,
    failed: bool = typer.Option(False, "--failed", help="只看失败（死信）的消息"),
    requeue_ids: list[int] = typer.Option(
        [], "--requeue", help="把失败的消息重新放回队列（编号，可多次给出）"
    ),
    limit: int = typer.Option(50, min=1, help="最多显示条数"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """查看发件箱；--requeue 重新发送失败的消息。"""
    st = state(ctx)
    app = st.app()
    if requeue_ids:
        n = requeue(app.engine, requeue_ids, st.now())
        if n != len(set(requeue_ids)):
            raise InvalidInput(
                "--requeue", ",".join(map(str, requeue_ids)), f"只有 {n} 条是失败或已取消的消息"
            )
        console.print(f"已重新排队 {n} 条消息")
        return
    q = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if failed:
        q = q.where(OutboxMessage.status == "dead")
    with app.sessions() as s:
        rows = list(s.scalars(q))
    if as_json:
        return emit_json([{"id": m.id, "kind": m.kind, "item_id": m.item_id, "recipient": m.recipient_name,
                           "channel": m.channel, "address": m.address, "status": m.status, "attempts": m.attempts,
                           "due_at": m.due_at.isoformat(), "last_error": m.last_error} for m in rows])  # fmt: skip
    table = Table(title="发件箱" + ("（失败）" if failed else ""))
    for label in ("编号", "类型", "事项", "收件人", "渠道", "状态", "次数", "发送时间", "错误"):
        table.add_column(label, overflow="fold")
    for m in rows:
        table.add_row(str(m.id), LEVEL_LABELS.get(m.kind, m.kind), str(m.item_id or ""), m.recipient_name, m.channel,
                      STATUS_LABELS[m.status], str(m.attempts), f"{m.due_at.astimezone(app.env.tz):%m-%d %H:%M}",
                      m.last_error or "")  # fmt: skip
    console.print(table)


@cli.command()
def scheduler(ctx: typer.Context) -> None:
    """运行内置调度器：工作日定时扫描，每分钟生成整改报告并发送消息（Ctrl-C 停止）。"""
    app = state(ctx).app()
    console.print(
        f"调度器已启动：每日 {app.policy.scan_time:%H:%M} 扫描（仅工作日），每分钟发送；Ctrl-C 停止"
    )
    try:
        build_scheduler(app).start()
    except KeyboardInterrupt:
        console.print("调度器已停止")


@cli.command()
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="监听地址（内网访问可用 0.0.0.0）"),
    port: int = typer.Option(8000, min=1, max=65535, help="端口"),
    no_scheduler: bool = typer.Option(False, "--no-scheduler", help="只提供网页与接口，不运行内置调度器（多进程部署时用）"),
    workers: int = typer.Option(1, min=1, max=64, help="网页与接口的工作进程数（调度器只在主进程运行一个）"),
) -> None:
    """运行网页、接口（/api/docs）和内置调度器（Ctrl-C 停止）。"""
    st = state(ctx)
    app = st.app()
    jobs = None if no_scheduler else build_scheduler(app, blocking=False)
    if jobs is not None:
        jobs.start()
    console.print(f"整改督办系统已启动：http://{host}:{port}/ （接口文档 /api/docs，{workers} 个工作进程）；Ctrl-C 停止")
    try:
        if workers == 1:
            uvicorn.run(create_app(app), host=host, port=port, log_level="warning")
        else:  # each worker builds its runtime from the environment: pass the global options down
            os.environ["RECTIFLOW_DATABASE_URL"] = app.engine.url.render_as_string(hide_password=False)
            if st.today_arg:
                os.environ["RECTIFLOW_TODAY"] = st.today_arg
            uvicorn.run("app.web.asgi:app_from_env", factory=True, workers=workers, host=host, port=port,
                        log_level="warning")  # fmt: skip
    finally:
        if jobs is not None:
            jobs.shutdown(wait=False)
        console.print("服务已停止")


@cli.command()
def report(
    ctx: typer.Context,
    notice: int = typer.Argument(..., help="通报编号"),
    fmt: str = typer.Option("docx", "--format", help="docx | html | md"),
    output: Path = typer.Option(..., "-o", "--output", help="输出文件"),
) -> None:
    """生成整改报告（事项未全部办结时为草稿）：DOCX 按公文格式排版，可修改、打印、盖章。"""
    st = state(ctx)
    path = write_report(st.app(), notice, fmt, output)
    console.print(f"整改报告已生成：{path}")


@cli.command("closure-record")
def closure_record(
    ctx: typer.Context,
    item: int = typer.Argument(..., help="事项编号（已销号）"),
    fmt: str = typer.Option("docx", "--format", help="docx | html | md"),
    output: Path = typer.Option(..., "-o", "--output", help="输出文件"),
) -> None:
    """出具已销号事项的销号单（整改措施、核验、销号、是否按期）。"""
    st = state(ctx)
    path = write_closure_record(st.app(), item, fmt, output)
    console.print(f"销号单已生成：{path}")
