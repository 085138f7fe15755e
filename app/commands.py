"""The ``rectiflow`` commands. Each one parses input, calls a service in ``states`` and prints."""

from __future__ import annotations

import typer

from app.cli import cli, console, emit_json, parse_date, read_password, split_names, state
from app.render import department_table, item_detail, items_table
from states import auth, intake, org, queries, service
from states.deadlines import compute_due, parse_rule
from states.errors import InvalidInput, NotFound
from states.lifecycle import STATES
from states.permissions import CONSOLE_READER, can_see
from states.store import upgrade

DEMO_DB = "rectiflow-demo.db"

dept_cli = typer.Typer(help="科室：新增、列表", no_args_is_help=True)
user_cli = typer.Typer(help="用户：新增、列表", no_args_is_help=True)
notice_cli = typer.Typer(help="通报：登记、列表", no_args_is_help=True)
item_cli = typer.Typer(help="整改事项：登记、查看", no_args_is_help=True)
cli.add_typer(dept_cli, name="dept")
cli.add_typer(user_cli, name="user")
cli.add_typer(notice_cli, name="notice")
cli.add_typer(item_cli, name="item")


@cli.command()
def init(
    ctx: typer.Context,
    admin: str | None = typer.Option(None, help="同时创建第一个管理员（用户名）"),
    name: str = typer.Option("系统管理员", help="管理员姓名"),
) -> None:
    """创建或升级数据库结构（已有数据保留）。"""
    st = state(ctx)
    app = st.app(migrated=False)
    upgrade(app.engine)
    console.print(f"数据库已就绪：{app.engine.url.render_as_string()}")
    if admin:
        with app.sessions() as s:
            actor = st.actor(s, required=False) if org.has_users(s) else None  # the first admin needs no --as
            org.add_user(s, actor, username=admin, name=name, role="admin")
        console.print(f"已创建管理员 {admin}")


@cli.command()
def demo(
    ctx: typer.Context,
    db: str = typer.Option(DEMO_DB, help="演示数据库（默认文件每次重建；其他数据库须为空）"),
) -> None:
    """演示：建立示例医院、登记通报、模拟约30个工作日的整改过程并输出各科室统计。"""
    from app.demo import run_demo

    st = state(ctx)
    # Only the demo's own file is rebuilt on each run; any other database must be empty.
    path = st.db or db
    run_demo(path, fresh=path == DEMO_DB, console=console)


@dept_cli.command("add")
def dept_add(
    ctx: typer.Context, name: str, kind: str = typer.Option("functional", help="functional|clinical|other")
) -> None:
    """新增科室。"""
    st = state(ctx)
    with st.session() as s:
        d = org.add_department(s, st.actor(s, required=False), name, kind)
    console.print(f"已新增科室 {d.id} {d.name}")


@dept_cli.command("list")
def dept_list(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """列出科室。"""
    with state(ctx).session() as s:
        rows = [{"id": d.id, "name": d.name, "kind": d.kind} for d in org.departments(s)]
    if as_json:
        return emit_json(rows)
    for r in rows:
        console.print(f"{r['id']:>4}  {r['name']}  ({r['kind']})")


@user_cli.command("add")
def user_add(
    ctx: typer.Context,
    username: str,
    name: str = typer.Option(..., help="姓名"),
    role: str = typer.Option(..., help="office|department|leader|admin"),
    dept: str | None = typer.Option(None, help="所属科室"),
    email: str | None = typer.Option(None),
    title: str | None = typer.Option(None, help="职务，如 分管副院长"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="从标准输入读取登录密码（网页登录用）"),
) -> None:
    """新增用户；--password-stdin 同时设置网页登录密码。"""
    st = state(ctx)
    hashed = auth.hash_password(auth.check_new_password(read_password())) if password_stdin else None
    with st.session() as s:
        u = org.add_user(
            s,
            st.actor(s, required=False),
            username=username,
            name=name,
            role=role,
            department=dept,
            email=email,
            title=title,
            password_hash=hashed,
        )
    console.print(f"已新增用户 {u.username}（{u.name}，{u.role}）")


@user_cli.command("list")
def user_list(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """列出用户。"""
    with state(ctx).session() as s:
        rows = [
            {
                "username": u.username,
                "name": u.name,
                "role": u.role,
                "department": u.department.name if u.department else None,
                "email": u.email,
            }
            for u in org.users(s, state(ctx).actor(s, required=False) or CONSOLE_READER)
        ]
    if as_json:
        return emit_json(rows)
    for r in rows:
        console.print(f"{r['username']:<12} {r['name']}  {r['role']}  {r['department'] or ''}")


@notice_cli.command("add")
def notice_add(
    ctx: typer.Context,
    title: str = typer.Option(..., help="通报标题"),
    issuer: str = typer.Option(..., help="发文单位"),
    received: str = typer.Option(..., help="收文日期 YYYY-MM-DD"),
    doc: str | None = typer.Option(None, help="文号，如 绍市中医〔2024〕61号"),
) -> None:
    """登记通报。"""
    st = state(ctx)
    received_on = parse_date(received, "--received")
    assert received_on is not None
    with st.session() as s:
        n = intake.create_notice(
            s,
            st.app().env,
            st.actor(s),
            st.now(),
            title=title,
            issuer=issuer,
            received_on=received_on,
            doc_number=doc,
        )
    console.print(f"已登记通报 {n.id}：{n.title}")


@notice_cli.command("list")
def notice_list(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """列出通报。"""
    with state(ctx).session() as s:
        rows = [
            {
                "id": n.id,
                "title": n.title,
                "issuer": n.issuer,
                "doc_number": n.doc_number,
                "received_on": n.received_on.isoformat(),
            }
            for n in queries.notices(s, state(ctx).actor(s, required=False) or CONSOLE_READER)
        ]
    if as_json:
        return emit_json(rows)
    for r in rows:
        console.print(f"{r['id']:>4}  {r['received_on']}  {r['title']}  {r['doc_number'] or ''}")


@item_cli.command("add")
def item_add(
    ctx: typer.Context,
    notice: int = typer.Option(..., help="通报编号"),
    category: str = typer.Option(..., help="方面，如 医疗方面"),
    title: str = typer.Option(..., help="问题"),
    lead: str = typer.Option(..., help="牵头科室，多个用逗号分隔"),
    coop: str | None = typer.Option(None, help="配合科室，多个用逗号分隔"),
    detail: str | None = typer.Option(None, help="问题详情"),
    leader: str | None = typer.Option(None, help="牵头领导（用户名）"),
    measures: str | None = typer.Option(
        None, help="整改措施期限规则：workdays:N | days:N | fixed:YYYY-MM-DD | complaint"
    ),
    completion: str | None = typer.Option(None, help="整改完成期限规则（同上）"),
    start: str | None = typer.Option(None, help="起算日（不计入），默认为收文日期"),
) -> None:
    """登记整改事项。"""
    st = state(ctx)
    spec = intake.ItemSpec(
        category=category,
        title=title,
        detail=detail,
        lead_departments=split_names(lead),
        cooperating_departments=split_names(coop),
        lead_leader=leader,
        measures_rule=measures,
        completion_rule=completion,
        start_on=parse_date(start, "--start"),
    )
    with st.session() as s:
        (item,) = intake.create_items(s, st.app().env, notice, [spec], st.actor(s), st.now())
        v = queries.view(item, st.today(), st.app().env.calendar)
    console.print(
        f"已登记事项 {v.id}：{v.title}  整改措施期限 {v.measures_due or '—'}  完成期限 {v.completion_due or '—'}"
        + ("（暂定）" if v.provisional else "")
    )


@item_cli.command("show")
def item_show(ctx: typer.Context, item_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """查看事项详情、办理记录和当前可做的操作。"""
    st = state(ctx)
    with st.session() as s:
        actor = st.actor(s, required=False)
        item = service.get_item(s, item_id)
        if actor is not None and not can_see(actor, item):
            raise NotFound("事项", item_id)
        v = queries.view(item, st.today(), st.app().env.calendar)
        events = queries.events(s, item_id)
        actions = service.available_actions(item, actor) if actor else []
    if as_json:
        return emit_json(
            v.as_json()
            | {
                "actions": actions,
                "events": [
                    {
                        "at": e.at.isoformat(),
                        "actor": name,
                        "action": e.action,
                        "from": e.from_state,
                        "to": e.to_state,
                        "reason": e.reason,
                    }
                    for e, name in events
                ],
            }
        )
    item_detail(console, v, events, actions, st.app().env)


@cli.command("items")
def items_list(
    ctx: typer.Context,
    notice: int | None = typer.Option(None, help="只看此通报"),
    dept: str | None = typer.Option(None, help="只看此科室（牵头或配合）"),
    state_: str | None = typer.Option(None, "--state", help="只看此状态"),
    overdue: bool = typer.Option(False, "--overdue", help="只看逾期事项"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """列出事项（台账），按角色只显示可见的事项。"""
    st = state(ctx)
    if state_ is not None and state_ not in STATES:
        raise InvalidInput("--state", state_, f"可选值：{', '.join(STATES)}")
    with st.session() as s:
        actor = st.actor(s, required=False) or CONSOLE_READER
        if dept:
            org.department_ids(s, [dept])  # an unknown department is an error, not an empty list
        rows = queries.list_items(
            s,
            st.app().env.calendar,
            actor,
            st.today(),
            notice_id=notice,
            department=dept,
            state=state_,
            overdue=overdue,
        )
    if as_json:
        return emit_json([r.as_json() for r in rows])
    items_table(console, rows)


@cli.command()
def deadline(
    ctx: typer.Context,
    from_: str = typer.Option(..., "--from", help="起算日 YYYY-MM-DD（当日不计入）"),
    workdays: int | None = typer.Option(None, help="N 个工作日"),
    days: int | None = typer.Option(None, help="N 日（自然日，末日为休息日则顺延）"),
    rule: str | None = typer.Option(None, help="规则：workdays:N | days:N | fixed:YYYY-MM-DD | complaint"),
    departments: int = typer.Option(
        1, min=1, help="涉及科室数（complaint 规则：1个科室5个工作日，多个10个工作日）"
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """计算期限：打印到期日 YYYY-MM-DD，暂定时后跟 provisional。"""
    chosen = [
        r
        for r in (
            f"workdays:{workdays}" if workdays is not None else None,
            f"days:{days}" if days is not None else None,
            rule,
        )
        if r
    ]
    if len(chosen) != 1:
        raise InvalidInput(
            "期限", " ".join(chosen) or "（未给出）", "请给出 --workdays、--days 或 --rule 中的一个"
        )
    start = parse_date(from_, "--from")
    assert start is not None
    parsed = parse_rule(chosen[0])
    due = compute_due(parsed, start, departments, state(ctx).app(migrated=False).env.calendar)
    if as_json:
        return emit_json({"due": due.date.isoformat(), "provisional": due.provisional})
    console.print(due.date.isoformat() + (" provisional" if due.provisional else ""), highlight=False)


@cli.command()
def stats(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """各科室整改统计：事项数、已销号、按期销号、逾期、销号率、按期率。"""
    st = state(ctx)
    with st.session() as s:
        actor = st.actor(s, required=False) or CONSOLE_READER
        rows = queries.department_stats(s, st.app().env.calendar, actor, st.today())
        total = queries.overall_stats(s, st.app().env.calendar, actor, st.today())
    if as_json:
        return emit_json([r.as_json() for r in rows])
    department_table(console, rows, total, title=f"各科室整改情况（截至 {st.today()}）")


@cli.command()
def recompute(ctx: typer.Context) -> None:
    """新年度日历数据到位后，重新计算暂定期限（有变化的事项记入办理记录）。"""
    st = state(ctx)
    with st.session() as s:
        changed = intake.recompute_deadlines(s, st.app().env, st.actor(s), st.now())
    console.print(f"已重新计算，{len(changed)} 个事项的期限有变化" + (f"：{changed}" if changed else ""))
