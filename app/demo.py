"""``rectiflow demo``: a hospital (as in seed 000) works through a notice over ~30 working days.

Everything goes through the service functions with an injected clock that steps over the
working days of the official calendar (National Day 2026 included), so the figures printed at
the end are the engine's own: most items closed on time, some late, one sent back at
verification and redone, one extension approved, one withdrawn.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import config
from app.ops_commands import LEVEL_LABELS
from app.render import department_table
from flows.jobs import run_scan
from flows.runtime import App, bootstrap
from notifications.dispatch import Dispatcher
from states import auth, extensions, intake, org, queries, service
from states.errors import InvalidInput
from states.model import OutboxMessage
from states.permissions import CONSOLE_READER, Actor
from states.store import upgrade

RECEIVED = dt.date(2026, 9, 15)
TIMELINE_WORKDAYS = 32

DEPARTMENTS = [
    "绩效考核办公室",
    "医务科",
    "输血科",
    "感染管理科",
    "药剂科",
    "财务科",
    "人事科",
    "医保办",
    "医患关系科",
    "物价科",
    "设备科",
]

# (username, name, role, department, title)
#: The demo accounts' password (a demo database only; real accounts get theirs with --password-stdin).
DEMO_PASSWORD = "demo-password"
PEOPLE = [
    ("admin", "系统管理员", "admin", None, None),
    ("jxb", "王敏", "office", "绩效考核办公室", "绩效考核办公室主任"),
    ("yz", "李建国", "leader", None, "院长"),
    ("fyz_yl", "张卫东", "leader", None, "分管医疗副院长"),
    ("fyz_cw", "陈静", "leader", None, "分管财务副院长"),
    ("ywk", "赵立新", "department", "医务科", "医务科科长"),
    ("gk", "孙丽", "department", "感染管理科", "感染管理科科长"),
    ("yjk", "周海", "department", "药剂科", "药剂科主任"),
    ("cwk", "吴芳", "department", "财务科", "财务科科长"),
    ("yhk", "郑强", "department", "医患关系科", "医患关系科科长"),
    ("wjk", "冯雪", "department", "物价科", "物价科科长"),
]


@dataclass(frozen=True, slots=True)
class Plan:
    """What happens to one item, in working days after receipt (None: never)."""

    spec: intake.ItemSpec
    filer: str
    file_on: int | None
    close_on: int | None
    rejected_on: int | None = None
    extension_on: int | None = None
    withdraw_on: int | None = None


def _spec(
    category: str, title: str, lead: str, leader: str, coop: tuple[str, ...] = (), detail: str | None = None
) -> intake.ItemSpec:
    return intake.ItemSpec(
        category=category,
        title=title,
        detail=detail,
        lead_departments=[lead],
        cooperating_departments=coop,
        lead_leader=leader,
        measures_rule="workdays:10",
        completion_rule="workdays:25",
    )


PLANS = [
    Plan(
        _spec(
            "医疗方面",
            "临床核心制度管理落实不到位",
            "医务科",
            "fyz_yl",
            detail="(1)存在丙级病历现象。随机抽取10份病例，1份丙级病历。\n(2)违背疑难病例讨论制度。",
        ),
        "ywk",
        file_on=6,
        close_on=14,
        rejected_on=8,
    ),
    Plan(
        _spec(
            "医疗方面",
            "临床输血管理不规范",
            "医务科",
            "fyz_yl",
            coop=("输血科",),
            detail="个别非紧急输血申请单中，传染八项情况未填写或填写不规范。",
        ),
        "ywk",
        file_on=5,
        close_on=9,
    ),
    Plan(
        _spec(
            "药事管理方面", "未严格执行临床合理用药管理", "药剂科", "fyz_yl", detail="存在不合理用药现象。"
        ),
        "yjk",
        file_on=7,
        close_on=12,
    ),
    Plan(
        _spec(
            "药事管理方面",
            "药品采购管理不规范",
            "药剂科",
            "fyz_cw",
            detail="国家基本药物采购金额占总采购金额的比例未达到50%基准值。",
        ),
        "yjk",
        file_on=None,
        close_on=None,
        withdraw_on=4,
    ),
    Plan(
        _spec(
            "医院感染管理方面",
            "医院感染防控存在安全隐患",
            "感染管理科",
            "fyz_yl",
            detail="普通临床科室医护人员手卫生依从性有待提高，需加强院感培训。",
        ),
        "gk",
        file_on=8,
        close_on=16,
    ),
    Plan(
        _spec(
            "医疗纠纷方面",
            "医疗纠纷处理不规范",
            "医患关系科",
            "fyz_yl",
            detail="医疗纠纷处理资料存在不规范现象。未购买医疗责任保险。",
        ),
        "yhk",
        file_on=12,
        close_on=29,
    ),
    Plan(
        _spec(
            "财务管理方面",
            "医务人员支出占业务支出比重较低",
            "财务科",
            "fyz_cw",
            coop=("人事科",),
            detail="医务人员支出占业务支出占比为34.86%，小于40%目标值。",
        ),
        "cwk",
        file_on=9,
        close_on=30,
        extension_on=20,
    ),
    Plan(
        _spec(
            "财务管理方面",
            "次均住院费用增长幅度大",
            "财务科",
            "fyz_cw",
            coop=("医保办",),
            detail="次均住院费用增幅为15.37%。",
        ),
        "cwk",
        file_on=13,
        close_on=None,
    ),
    Plan(
        _spec("财务管理方面", "价格管理不规范", "物价科", "fyz_cw", detail="存在分解项目收费现象。"),
        "wjk",
        file_on=4,
        close_on=8,
    ),
]


def run_demo(db: str, *, fresh: bool, console: Console) -> None:
    """Build the demo organisation and notice, run the timeline, print the department table."""
    if fresh and Path(db).exists():
        Path(db).unlink()
    app = bootstrap(config.load(), database_url=db, channels=("console",))
    upgrade(app.engine)
    with app.sessions() as s:
        if queries.notices(s, CONSOLE_READER):
            raise InvalidInput("数据库", db, "已有数据；演示需要空数据库")
        _organisation(s)
    days = _working_days(app, TIMELINE_WORKDAYS)
    notice_id, item_ids = _register(app, days[0])
    console.print(
        f"[bold]通报已登记[/bold]：关于20xx年县级公立医院综合绩效考评情况的通报（x卫健医[2026]5号），"
        f"{len(item_ids)} 个整改事项；收文 {RECEIVED}，整改措施期限10个工作日，整改完成期限25个工作日。"
    )
    printed = io.StringIO()  # the console channel's output: one sample is shown at the end
    dispatcher = app.dispatcher(console=printed)
    for n, day in enumerate(days, start=1):
        for line in [*_escalate(app, dispatcher, day), *_day(app, n, day, item_ids)]:
            console.print(f"{day} 第{n:>2}个工作日  {line}", markup=False)
    today = days[-1]
    _messages_summary(app, console, printed.getvalue())
    with app.sessions() as s:
        reader = org.actor(s, "yz")
        rows = queries.department_stats(s, app.env.calendar, reader, today)
        total = queries.overall_stats(s, app.env.calendar, reader, today)
    department_table(console, rows, total, title=f"各科室整改情况（截至 {today}）")
    console.print(f"网页演示：rectiflow --db {db} --today {today} serve，浏览器打开 http://127.0.0.1:8000/ ，"
                  f"用 jxb（督查办）、ywk（医务科）或 yz（院长）登录，密码 {DEMO_PASSWORD}", markup=False)  # fmt: skip
    app.engine.dispose()


def _escalate(app: App, dispatcher: Dispatcher, day: dt.date) -> list[str]:
    """The morning of a working day: the 08:30 scan, then the 09:00 dispatch (console channel)."""
    scanned = run_scan(app, _at(app, day, 8, 30), today=day)
    sent = dispatcher.run(_at(app, day, 9))
    lines = [f"扫描：{LEVEL_LABELS[k]} {v} 项，{scanned.messages.get(k, 0)} 条消息"
             for k, v in scanned.queued.items() if v]  # fmt: skip
    if sent.deliveries:
        lines.append(f"发送消息 {sent.deliveries} 封（含 {sent.sent} 条通知，同一收件人当天合并）")
    return lines


def _messages_summary(app: App, console: Console, printed: str) -> None:
    with app.engine.connect() as conn:
        rows = conn.execute(
            select(OutboxMessage.kind, func.count())
            .where(OutboxMessage.status == "sent")
            .group_by(OutboxMessage.kind)
        ).all()
    table = Table(title="已发送的通知（按类型）")
    table.add_column("类型")
    table.add_column("条数", justify="right")
    for kind, count in sorted(rows, key=lambda r: list(LEVEL_LABELS).index(r[0])):
        table.add_row(LEVEL_LABELS[kind], str(count))
    console.print(table)
    sample = next((b for b in printed.split("─" * 60) if "【整改督办】督办通知" in b), None)
    if sample:
        console.print("[bold]示例：一封督办通知（控制台渠道）[/bold]")
        console.print(sample.strip(), markup=False)


def _organisation(s: Session) -> None:
    for name in DEPARTMENTS:
        org.add_department(s, None, name)
    admin = None
    password = auth.hash_password(DEMO_PASSWORD)  # the demo's accounts share one password
    for username, name, role, dept, title in PEOPLE:
        org.add_user(
            s,
            admin,
            username=username,
            name=name,
            role=role,
            department=dept,
            title=title,
            email=f"{username}@hospital.example.cn",
            password_hash=password,
        )
        admin = admin or org.actor(s, "admin")


def _working_days(app: App, count: int) -> list[dt.date]:
    """The receipt day, then the next ``count`` working days (the clock steps over rest days)."""
    cal = app.env.calendar
    return [RECEIVED] + [cal.add_workdays(RECEIVED, k).date for k in range(1, count + 1)]


def _register(app: App, day: dt.date) -> tuple[int, list[int]]:
    now = _at(app, day, 9)
    with app.sessions() as s:
        office = org.actor(s, "jxb")
        notice = intake.create_notice(
            s,
            app.env,
            office,
            now,
            title="关于20xx年县级公立医院综合绩效考评情况的通报",
            issuer="xx县卫生健康委员会",
            doc_number="x卫健医[2026]5号",
            received_on=day,
        )
        items = intake.create_items(s, app.env, notice.id, [p.spec for p in PLANS], office, now)
        return notice.id, [i.id for i in items]


def _at(app: App, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=app.env.tz).astimezone(dt.UTC)


def _day(app: App, n: int, day: dt.date, item_ids: list[int]) -> list[str]:
    """Everything that happens on working day ``n``; returns one line per action."""
    lines: list[str] = []
    with app.sessions() as s:
        office, leader = org.actor(s, "jxb"), org.actor(s, "fyz_cw")
        for plan, item_id in zip(PLANS, item_ids, strict=True):
            lines += _act(app, s, n, day, plan, item_id, office, leader)
    return lines


def _act(
    app: App, s: Session, n: int, day: dt.date, plan: Plan, item_id: int, office: Actor, leader: Actor
) -> list[str]:
    env, title = app.env, plan.spec.title
    dept = org.actor(s, plan.filer)
    if n == 1:
        service.assign(s, env, item_id, office, _at(app, day, 9), note="请按期整改")
        return [f"交办：{title}"]
    if n == plan.withdraw_on:
        service.withdraw(
            s, env, item_id, office, _at(app, day, 10), reason="经核实，采购比例符合省平台要求，撤销该事项"
        )
        return [f"撤销：{title}（经核实符合规定）"]
    out = []
    if n in (plan.file_on, _refile(plan)):
        service.file_measures(s, env, item_id, dept, _at(app, day, 15), measures=f"已落实整改：{title}")
        out.append(f"提交整改措施：{title}")
    if n == plan.rejected_on:
        service.reject(s, env, item_id, office, _at(app, day, 10), reason="佐证材料不全，请补充病历抽查记录")
        out.append(f"退回：{title}（佐证材料不全）")
    if n == plan.extension_on:
        out += _extend(app, s, day, item_id, dept, leader, title)
    if n == plan.close_on:
        service.verify(s, env, item_id, office, _at(app, day, 10))
        service.close(s, env, item_id, office, _at(app, day, 11))
        out.append(f"核验通过并销号：{title}")
    return out


def _refile(plan: Plan) -> int | None:
    return None if plan.rejected_on is None else plan.rejected_on + 2


def _extend(
    app: App, s: Session, day: dt.date, item_id: int, dept: Actor, leader: Actor, title: str
) -> list[str]:
    item = service.get_item(s, item_id)
    assert item.completion_due is not None
    new_due = app.env.calendar.add_workdays(item.completion_due, 10).date
    ext = extensions.request_extension(
        s,
        app.env,
        item_id,
        dept,
        _at(app, day, 9),
        target="completion_due",
        new_due=new_due,
        reason="需待年度绩效分配方案经职代会通过",
    )
    extensions.decide_extension(s, app.env, ext.id, leader, _at(app, day, 16), approve=True, note="同意")
    return [f"延期获批：{title}，完成期限延至 {new_due}"]
