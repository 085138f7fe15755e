"""Log-in accounts: passwords for the web pages and tokens for the HTTP API (账号与令牌)."""

from __future__ import annotations

import typer

from app.cli import cli, console, emit_json, read_password, state
from states import auth

token_cli = typer.Typer(help="接口令牌：创建、列表、吊销", no_args_is_help=True)
cli.add_typer(token_cli, name="token")


@cli.command("passwd")
def passwd(ctx: typer.Context, username: str) -> None:
    """设置用户的网页登录密码（从标准输入读取，至少 8 个字符；管理员或本人）。"""
    st = state(ctx)
    password = read_password()
    with st.session() as s:
        auth.set_password(s, st.actor(s, required=False), username, password)
    console.print(f"已设置用户 {username} 的登录密码")


@token_cli.command("create")
def token_create(
    ctx: typer.Context,
    username: str,
    name: str = typer.Option("api", help="令牌用途，如 OA对接"),
) -> None:
    """为用户创建接口令牌（管理员）；令牌只显示这一次，请妥善保存。"""
    st = state(ctx)
    with st.session() as s:
        new = auth.create_token(s, st.actor(s, required=False), username, name, st.now())
    console.print(f"已为 {new.username} 创建令牌 #{new.id}（只显示这一次）：", highlight=False)
    console.print(new.token, highlight=False, soft_wrap=True)


@token_cli.command("list")
def token_list(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """列出接口令牌（不显示令牌本身）。"""
    st = state(ctx)
    with st.session() as s:
        rows = [
            {"id": t.id, "user": t.user.username, "name": t.name, "created_at": t.created_at.isoformat(),
             "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
             "revoked": t.revoked_at is not None}
            for t in auth.tokens(s, st.actor(s))
        ]  # fmt: skip
    if as_json:
        return emit_json(rows)
    for r in rows:
        console.print(f"#{r['id']:<4} {r['user']:<12} {r['name']}  {'已吊销' if r['revoked'] else '有效'}")


@token_cli.command("revoke")
def token_revoke(ctx: typer.Context, token_id: int) -> None:
    """吊销接口令牌（管理员）。"""
    st = state(ctx)
    with st.session() as s:
        auth.revoke_token(s, st.actor(s, required=False), token_id, st.now())
    console.print(f"已吊销令牌 #{token_id}")
