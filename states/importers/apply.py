"""From a parsed file to items: resolve departments and leaders, then write everything or nothing.

:func:`plan_import` checks a :class:`~states.importers.model.ParsedImport` against the database
(unknown departments, 各职能科 expanded over the departments of that kind, leaders matched by
name) and builds one :class:`~states.intake.ItemSpec` per row; :func:`run_import` writes them in
one transaction, or raises :class:`ImportRefused` listing every problem, with nothing written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from states.errors import RectiflowError
from states.importers.model import ImportedItem, ParsedImport, Problem
from states.intake import ItemSpec, add_items
from states.model import Department, Notice, User
from states.permissions import Actor, require
from states.service import Env
from states.store import transaction

#: Words that mean "every department of a kind" (None: every department).
GROUPS: dict[str, str | None] = {
    "各职能科": "functional", "各职能科室": "functional", "各职能部门": "functional",
    "各临床科室": "clinical", "各临床医技科室": "clinical", "各科室": None, "全院各科室": None,
}  # fmt: skip
UNCATEGORISED = "未分类"


class ImportRefused(RectiflowError, ValueError):
    """The file has problems; nothing was written.

    Attributes:
        problems: one per row and column that could not be used.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(str(p) for p in problems)
        super().__init__(f"导入未执行，共 {len(problems)} 个问题，未写入任何数据：\n{lines}")


@dataclass(slots=True, kw_only=True)
class ImportPlan:
    """What an import would create, and why it cannot when ``problems`` is not empty."""

    rows: list[ImportedItem] = field(default_factory=list)
    specs: list[ItemSpec] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    new_departments: list[str] = field(default_factory=list)
    item_ids: list[int] = field(default_factory=list)


def plan_import(session: Session, parsed: ParsedImport, *, create_departments: bool = False,
                measures_rule: str | None = None, default_lead: tuple[str, ...] = ()) -> ImportPlan:  # fmt: skip
    """Check the parsed rows against the organisation and build the item specs (writes nothing).

    Args:
        default_lead: lead departments for rows that name none (a notice text rarely does).
    """
    plan = ImportPlan(problems=list(parsed.problems), notes=list(parsed.notes))
    existing = dict(session.execute(select(Department.name, Department.kind)).tuples().all())
    kinds = dict(existing)
    if create_departments:  # departments this import creates count when 各职能科 is expanded
        named = {
            n for r in parsed.items for n in (*r.lead_departments, *r.cooperating_departments, *default_lead)
        }
        kinds |= {n: "functional" for n in sorted(named - GROUPS.keys() - existing.keys())}
    leaders = _leaders(session)
    unknown: dict[str, int] = {}
    for row in parsed.items:
        leads = _expand(row.lead_departments or default_lead, kinds, plan, row.row)
        if not leads:
            plan.problems.append(
                Problem(row=row.row, column="牵头科室", message="缺少牵头科室（可用 --lead 指定）")
            )
        coops = _expand(row.cooperating_departments, kinds, plan, row.row)
        for name in (*leads, *coops):
            if name not in existing:
                unknown.setdefault(name, row.row)
        plan.rows.append(row)
        plan.specs.append(_spec(row, leads, coops, leaders, measures_rule, plan))
    if unknown and create_departments:
        plan.new_departments = list(unknown)
        plan.notes.append(f"将新建科室：{'、'.join(unknown)}")
    elif unknown:
        plan.problems += [Problem(row=r, column="科室", message=f"未知科室「{n}」（可加 --create-departments 新建）")
                          for n, r in unknown.items()]  # fmt: skip
    return plan


def _leaders(session: Session) -> dict[str, str]:
    """Leader names → usernames (a name two leaders share is ambiguous and left out)."""
    rows = session.execute(select(User.name, User.username).where(User.role == "leader")).tuples().all()
    names = [n for n, _ in rows]
    return {n: u for n, u in rows if names.count(n) == 1}


def _expand(names: Iterable[str], kinds: dict[str, str], plan: ImportPlan, row: int) -> list[str]:
    out: list[str] = []
    for name in names:
        if name in GROUPS:
            kind = GROUPS[name]
            members = [d for d, k in kinds.items() if kind is None or k == kind]
            out += members
            plan.notes.append(
                f"第 {row} 行「{name}」展开为 {len(members)} 个科室：{'、'.join(members) or '（无）'}"
            )
        else:
            out.append(name)
    return list(dict.fromkeys(out))


def _spec(row: ImportedItem, leads: list[str], coops: list[str], leaders: dict[str, str],
          measures_rule: str | None, plan: ImportPlan) -> ItemSpec:  # fmt: skip
    username = leaders.get(row.lead_leader or "")
    if row.lead_leader and username is None:
        plan.notes.append(f"第 {row.row} 行牵头领导「{row.lead_leader}」不是系统中的院领导，仅记录姓名")
    return ItemSpec(
        category=row.category.strip() or UNCATEGORISED, title=row.title, detail=row.detail,
        lead_departments=leads, cooperating_departments=[c for c in coops if c not in leads],
        lead_leader=username, lead_leader_name=None if username else row.lead_leader, standard=row.standard,
        points=row.points, responsible=row.responsible, proposed_measures=row.proposed_measures,
        measures_rule=measures_rule, completion_rule=f"fixed:{row.deadline.isoformat()}" if row.deadline else None,
    )  # fmt: skip


def _fill_notice(session: Session, notice_id: int, parsed: ParsedImport, plan: ImportPlan) -> None:
    """A notice registered without its 文号 takes the one the text carries (never overwritten)."""
    notice = session.get(Notice, notice_id)
    if notice is not None and parsed.doc_number and not notice.doc_number:
        notice.doc_number = parsed.doc_number
        plan.notes.append(f"通报文号已补记为「{parsed.doc_number}」")


@transaction
def run_import(session: Session, env: Env, notice_id: int, parsed: ParsedImport, actor: Actor, now: dt.datetime, *,
               create_departments: bool = False, measures_rule: str | None = None,
               default_lead: tuple[str, ...] = ()) -> ImportPlan:  # fmt: skip
    """Create every item of ``parsed`` in ``notice_id`` in one transaction.

    Raises:
        ImportRefused: the file or the organisation has problems; nothing is written.
        PermissionDenied: the actor may not register items.
    """
    require(actor, "create_item")
    plan = plan_import(session, parsed, create_departments=create_departments, measures_rule=measures_rule,
                       default_lead=default_lead)  # fmt: skip
    if plan.problems:
        raise ImportRefused(plan.problems)
    if not plan.specs:
        raise ImportRefused([Problem(row=None, column=None, message="文件中没有可导入的事项")])
    session.add_all(Department(name=n, kind="functional") for n in plan.new_departments)
    _fill_notice(session, notice_id, parsed, plan)
    session.flush()
    plan.item_ids = add_items(session, env, notice_id, plan.specs, actor, now)
    return plan
