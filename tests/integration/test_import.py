"""Import planning and writing against real stores: all or nothing, departments and leaders resolved."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from states.importers.apply import ImportRefused, plan_import, run_import
from states.importers.model import ImportedItem, ParsedImport, Problem
from states.model import Department, Item
from states.service import Env, get_item
from tests.factories import Org, notice


def row(n: int, title: str, lead: tuple[str, ...] = ("医务科",), **kw: object) -> ImportedItem:
    return ImportedItem(row=n, category=str(kw.pop("category", "省目标任务")), title=title, lead_departments=lead,
                        **kw)  # type: ignore[arg-type]  # fmt: skip


def count(session: Session) -> tuple[int, int]:
    return session.scalar(select(func.count(Item.id))) or 0, session.scalar(
        select(func.count(Department.id))
    ) or 0


def test_groups_expand_and_leaders_match_by_name(
    session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    s = session  # the fixture's departments (医务科, 药剂科 …) are "functional"
    s.add(Department(name="心内科", kind="clinical"))
    s.commit()
    nid = notice(s, env, org, now)
    parsed = ParsedImport(items=[
        row(4, "国家三级公立医院绩效考核达到A等", lead=("医务科",), cooperating_departments=("各职能科",),
            lead_leader="张卫东", deadline=dt.date(2026, 12, 31), points=5.0, standard="降等次扣1分"),
        row(5, "病历质量持续改进", lead=("各临床科室",), lead_leader="不存在的领导"),
    ])  # fmt: skip
    plan = run_import(s, env, nid, parsed, org.office, now)
    first, second = (get_item(s, i) for i in plan.item_ids)
    assert first.lead_leader_id == org.leader.id and first.completion_due == dt.date(2026, 12, 31)
    assert (first.points, first.standard) == (5.0, "降等次扣1分")
    assert "医务科" not in first.cooperating_names and "药剂科" in first.cooperating_names
    assert "心内科" not in first.cooperating_names
    assert second.lead_names == ["心内科"] and second.lead_leader_name == "不存在的领导"
    assert any("各职能科" in n and "展开为" in n for n in plan.notes)
    assert any("不存在的领导" in n for n in plan.notes)


def test_unknown_departments_refuse_everything(
    session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    nid = notice(session, env, org, now)
    parsed = ParsedImport(
        items=[row(3, "第一项"), row(4, "第二项", lead=("宣传科",)), row(7, "第三项", lead=("后勤科",))]
    )
    before = count(session)
    with pytest.raises(ImportRefused) as exc:
        run_import(session, env, nid, parsed, org.office, now)
    assert [str(p) for p in exc.value.problems] == [
        "第 4 行「科室」列：未知科室「宣传科」（可加 --create-departments 新建）",
        "第 7 行「科室」列：未知科室「后勤科」（可加 --create-departments 新建）",
    ]
    assert count(session) == before
    plan = run_import(session, env, nid, parsed, org.office, now, create_departments=True)
    assert len(plan.item_ids) == 3 and plan.new_departments == ["宣传科", "后勤科"]
    assert org_exists(session, "宣传科") and org_exists(session, "后勤科")
    assert count(session) == (before[0] + 3, before[1] + 2)


def test_parse_problems_refuse_everything(session: Session, env: Env, org: Org, now: dt.datetime) -> None:
    nid = notice(session, env, org, now)
    parsed = ParsedImport(items=[row(3, "第一项")],
                          problems=[Problem(row=5, column="完成时限", message="「2026年2月30日」不是有效日期")])  # fmt: skip
    before = count(session)
    with pytest.raises(ImportRefused, match="第 5 行「完成时限」列"):
        run_import(session, env, nid, parsed, org.office, now)
    assert count(session) == before


def test_dry_run_plan_writes_nothing(session: Session, env: Env, org: Org, now: dt.datetime) -> None:
    notice(session, env, org, now)
    before = count(session)
    plan = plan_import(
        session, ParsedImport(items=[row(3, "第一项", lead=("新科室",))]), create_departments=True
    )
    assert plan.new_departments == ["新科室"] and len(plan.specs) == 1
    session.rollback()
    assert count(session) == before
    assert org_exists(session, "新科室") is False


def org_exists(session: Session, name: str) -> bool:
    return session.scalar(select(Department.id).where(Department.name == name)) is not None
