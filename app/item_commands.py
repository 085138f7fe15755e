"""Lifecycle and extension commands: ``assign`` … ``withdraw``, ``extension request|approve|deny|list``."""

from __future__ import annotations

from pathlib import Path

import typer

from app import files
from app.cli import cli, console, parse_date, state
from states import extensions, service
from states.errors import ACTION_LABELS, STATE_LABELS
from states.permissions import CONSOLE_READER

ext_cli = typer.Typer(help="延期申请：申请、审批、列表", no_args_is_help=True)
cli.add_typer(ext_cli, name="extension")


def _lifecycle(ctx: typer.Context, action: str, **kw: object) -> None:
    st = state(ctx)
    item_id = kw.pop("item_id")
    with st.session() as s:
        done = service.LIFECYCLE[action](s, st.app().env, item_id, st.actor(s), st.now(), **kw)
    console.print(f"事项 {done.item_id} 已{ACTION_LABELS[action]}，当前状态：{STATE_LABELS[done.to_state]}")


@cli.command()
def assign(ctx: typer.Context, item_id: int, note: str | None = typer.Option(None, help="交办说明")) -> None:
    """交办（督查办）。"""
    _lifecycle(ctx, "assign", item_id=item_id, note=note)


@cli.command("file-measures")
def file_measures(
    ctx: typer.Context,
    item_id: int,
    measures: str = typer.Option(..., help="整改措施"),
    evidence: list[Path] = typer.Option([], "--evidence", help="佐证材料文件，可多次给出"),
) -> None:
    """提交整改措施和佐证材料（牵头科室）。"""
    st = state(ctx)
    with files.staged(evidence, st.app().settings.evidence_dir) as stored:
        _lifecycle(ctx, "file_measures", item_id=item_id, measures=measures, evidence=stored)


@cli.command()
def verify(ctx: typer.Context, item_id: int, note: str | None = typer.Option(None, help="核验意见")) -> None:
    """核验通过（督查办）。"""
    _lifecycle(ctx, "verify", item_id=item_id, note=note)


@cli.command()
def reject(ctx: typer.Context, item_id: int, reason: str = typer.Option(..., help="退回原因")) -> None:
    """退回整改措施（督查办，须写原因）。"""
    _lifecycle(ctx, "reject", item_id=item_id, reason=reason)


@cli.command()
def close(ctx: typer.Context, item_id: int, note: str | None = typer.Option(None, help="销号说明")) -> None:
    """销号（督查办）。"""
    _lifecycle(ctx, "close", item_id=item_id, note=note)


@cli.command()
def reopen(
    ctx: typer.Context, item_id: int, reason: str = typer.Option(..., help="重新打开原因（如回头看发现反弹）")
) -> None:
    """重新打开已销号事项（督查办，须写原因）。"""
    _lifecycle(ctx, "reopen", item_id=item_id, reason=reason)


@cli.command()
def withdraw(ctx: typer.Context, item_id: int, reason: str = typer.Option(..., help="撤销原因")) -> None:
    """撤销事项（督查办，须写原因）。"""
    _lifecycle(ctx, "withdraw", item_id=item_id, reason=reason)


@ext_cli.command("request")
def ext_request(
    ctx: typer.Context,
    item_id: int,
    to: str = typer.Option(..., help="延期至 YYYY-MM-DD"),
    reason: str = typer.Option(..., help="延期理由"),
    target: str = typer.Option("completion_due", help="measures_due（整改措施）| completion_due（整改完成）"),
) -> None:
    """申请延期（牵头科室）。"""
    st = state(ctx)
    new_due = parse_date(to, "--to")
    assert new_due is not None
    with st.session() as s:
        ext = extensions.request_extension(
            s, st.app().env, item_id, st.actor(s), st.now(), target=target, new_due=new_due, reason=reason
        )
    console.print(f"已提交延期申请 {ext.id}：事项 {item_id} 延期至 {ext.requested_due}，待审批")


def _decide(ctx: typer.Context, extension_id: int, approve: bool, note: str | None) -> None:
    st = state(ctx)
    with st.session() as s:
        ext = extensions.decide_extension(
            s, st.app().env, extension_id, st.actor(s), st.now(), approve=approve, note=note
        )
    console.print(f"延期申请 {ext.id} 已{'批准' if approve else '驳回'}")


@ext_cli.command("approve")
def ext_approve(ctx: typer.Context, extension_id: int, note: str | None = typer.Option(None)) -> None:
    """批准延期（院领导或督查办）。"""
    _decide(ctx, extension_id, True, note)


@ext_cli.command("deny")
def ext_deny(ctx: typer.Context, extension_id: int, note: str = typer.Option(..., help="驳回理由")) -> None:
    """驳回延期（院领导或督查办）。"""
    _decide(ctx, extension_id, False, note)


@ext_cli.command("list")
def ext_list(ctx: typer.Context, pending: bool = typer.Option(False, "--pending", help="只看待审批")) -> None:
    """列出延期申请。"""
    with state(ctx).session() as s:
        rows = extensions.extensions(
            s, state(ctx).actor(s, required=False) or CONSOLE_READER, pending_only=pending
        )
    for e in rows:
        console.print(
            f"{e.id:>4}  事项 {e.item_id}  {e.target}  {e.current_due} → {e.requested_due}  "
            f"{extensions.EXTENSION_LABELS[e.status]}  {e.reason}"
        )
