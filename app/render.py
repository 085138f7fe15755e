"""Terminal rendering of ledgers and figures (rich handles the width of Chinese characters)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from states.errors import ACTION_LABELS, STATE_LABELS
from states.model import ItemEvent
from states.queries import DepartmentStats, ItemView
from states.service import Env

EVENT_LABELS = ACTION_LABELS | {
    "create": "登记",
    "approve_extension": "批准延期",
    "deny_extension": "驳回延期",
    "recompute_deadlines": "重算期限",
}


def pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def department_table(
    console: Console, rows: Sequence[DepartmentStats], total: DepartmentStats, title: str
) -> None:
    """各科室统计表: items, closed, closed on time, overdue, closure rate, on-time rate."""
    t = Table(title=title, show_footer=True)
    t.add_column("科室", footer=total.department)
    for label, attr in (
        ("事项", "total"),
        ("已销号", "closed"),
        ("按期销号", "closed_on_time"),
        ("逾期", "overdue"),
    ):
        t.add_column(label, justify="right", footer=str(getattr(total, attr)))
    t.add_column("销号率", justify="right", footer=pct(total.closure_rate))
    t.add_column("按期率", justify="right", footer=pct(total.on_time_rate))
    for r in rows:
        t.add_row(
            r.department,
            str(r.total),
            str(r.closed),
            str(r.closed_on_time),
            f"[red]{r.overdue}[/red]" if r.overdue else "0",
            pct(r.closure_rate),
            pct(r.on_time_rate),
        )
    console.print(t)
    if total.withdrawn:
        console.print(f"另有 {total.withdrawn} 个事项已撤销，不计入上述比率。")


def items_table(console: Console, rows: Sequence[ItemView]) -> None:
    """The ledger (台账) of items."""
    t = Table(title=f"整改事项台账（{len(rows)} 项）")
    for label in ("编号", "方面", "问题", "牵头科室", "状态", "待办期限", "逾期工作日"):
        t.add_column(label, overflow="fold")
    for v in rows:
        due = f"{v.pending_due}{'（暂定）' if v.provisional else ''}" if v.pending_due else "—"
        late = f"[red]{v.overdue_workdays}[/red]" if v.overdue_workdays else ""
        t.add_row(str(v.id), v.category, v.title, "、".join(v.lead_departments), v.state_label, due, late)
    console.print(t)


def item_detail(
    console: Console,
    v: ItemView,
    events: Sequence[tuple[ItemEvent, str | None]],
    actions: Sequence[str],
    env: Env,
) -> None:
    """One item: its facts, its targets, its history and what the actor may do now."""
    console.print(f"[bold]事项 {v.id}[/bold]（通报 {v.notice_id} 第 {v.seq} 项）{v.category}")
    console.print(f"问题：{v.title}", markup=False)
    console.print(
        f"牵头科室：{'、'.join(v.lead_departments)}  配合科室：{'、'.join(v.cooperating_departments) or '—'}"
        f"  牵头领导：{v.lead_leader or '—'}"
    )
    console.print(
        f"状态：{v.state_label}  整改措施期限：{v.measures_due or '—'}  整改完成期限：{v.completion_due or '—'}"
        + ("（暂定：涉及尚无官方日历的年份）" if v.provisional else "")
    )
    if v.overdue_workdays:
        console.print(f"[red]已逾期 {v.overdue_workdays} 个工作日[/red]")
    t = Table(title="办理记录")
    for label in ("时间", "操作人", "操作", "状态变化", "说明"):
        t.add_column(label, overflow="fold")
    for e, name in events:
        change = f"{STATE_LABELS.get(e.from_state or '', '')}→{STATE_LABELS.get(e.to_state or '', '')}"
        t.add_row(
            e.at.astimezone(env.tz).strftime("%Y-%m-%d %H:%M"),
            name or "系统",
            EVENT_LABELS.get(e.action, e.action),
            change,
            e.reason or "",
        )
    console.print(t)
    console.print("可做操作：" + ("、".join(ACTION_LABELS.get(a, a) for a in actions) or "无"))
