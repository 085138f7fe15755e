"""Service functions against real stores: transitions, refusals that change nothing, permissions,
extensions, deadlines, visibility and the figures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import chinese_calendar
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from states import extensions, intake, queries, service
from states.calendar_files import load_calendar
from states.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from states.model import Item, ItemEvent
from states.service import Env
from tests.factories import Org, drive, item, item_spec, notice

LATER = dt.timedelta(days=1)


def nth_workday(start: dt.date, n: int) -> dt.date:
    """Independent oracle: walk the days with chinese_calendar (start day not counted)."""
    day = start
    while n:
        day += dt.timedelta(days=1)
        n -= chinese_calendar.is_workday(day)
    return day


def _events(session: Session, item_id: int) -> list[tuple[str, str | None, str | None]]:
    rows = session.scalars(select(ItemEvent).where(ItemEvent.item_id == item_id).order_by(ItemEvent.id))
    return [(e.action, e.from_state, e.to_state) for e in rows]


def test_main_path_writes_state_version_and_events(
    session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    it = item(session, env, org, now)
    drive(session, env, org, it.id, "closed", now + LATER)
    session.expire_all()
    got = service.get_item(session, it.id)
    assert (got.state, got.version, got.closed_on) == ("closed", 5, dt.date(2026, 9, 16))
    assert _events(session, it.id) == [
        ("create", None, "issued"),
        ("assign", "issued", "assigned"),
        ("file_measures", "assigned", "measures_filed"),
        ("verify", "measures_filed", "verified"),
        ("close", "verified", "closed"),
    ]


def test_persistence_round_trip(
    sessions: sessionmaker[Session], env: Env, org: Org, now: dt.datetime
) -> None:
    with sessions() as s:
        it = item(s, env, org, now)
        drive(s, env, org, it.id, "measures_filed", now)
        service.reject(s, env, it.id, org.office, now, reason="佐证材料不全")
        before = (it.state, it.version, _events(s, it.id))
    with sessions() as fresh:
        again = service.get_item(fresh, it.id)
        assert (again.state, again.version, _events(fresh, it.id)) == before
        assert again.lead_names == ["医务科"] and again.measures == "已组织全员培训"


@pytest.mark.parametrize(
    ("state", "action", "why"),
    [
        ("assigned", "close", "尚未核验"),
        ("issued", "file_measures", "只有「已交办」的事项可以提交整改措施"),
        ("closed", "withdraw", "事项已销号"),
        ("assigned", "verify", "尚未提交整改措施"),
    ],
)
def test_invalid_transition_is_refused_and_changes_nothing(
    session: Session, env: Env, org: Org, now: dt.datetime, state: str, action: str, why: str
) -> None:
    it = item(session, env, org, now)
    drive(session, env, org, it.id, state, now)
    version, events = it.version, _events(session, it.id)
    who = org.medical if action == "file_measures" else org.office
    kw = {"measures": "x"} if action == "file_measures" else {"reason": "x"} if action == "withdraw" else {}
    with pytest.raises(InvalidTransition) as exc:
        service.LIFECYCLE[action](session, env, it.id, who, now, **kw)
    assert why in str(exc.value) and exc.value.state == state
    session.expire_all()
    assert (service.get_item(session, it.id).version, _events(session, it.id)) == (version, events)


@pytest.mark.parametrize("action", ["reject", "reopen", "withdraw"])
def test_send_backs_need_a_reason(
    session: Session, env: Env, org: Org, now: dt.datetime, action: str
) -> None:
    it = item(session, env, org, now)
    drive(
        session,
        env,
        org,
        it.id,
        {"reject": "measures_filed", "reopen": "closed", "withdraw": "assigned"}[action],
        now,
    )
    with pytest.raises(InvalidInput, match="必须填写原因"):
        service.LIFECYCLE[action](session, env, it.id, org.office, now, reason="  ")


def test_reopen_returns_to_the_department(session: Session, env: Env, org: Org, now: dt.datetime) -> None:
    it = item(session, env, org, now)
    drive(session, env, org, it.id, "closed", now)
    service.reopen(session, env, it.id, org.office, now + LATER, reason="回头看发现输血申请单仍不规范")
    assert (it.state, it.closed_on) == ("assigned", None)
    drive(session, env, org, it.id, "closed", now + 2 * LATER)
    assert it.state == "closed"


@pytest.mark.parametrize("state", ["issued", "assigned", "measures_filed", "verified"])
def test_withdraw_from_every_open_state(
    session: Session, env: Env, org: Org, now: dt.datetime, state: str
) -> None:
    it = item(session, env, org, now)
    drive(session, env, org, it.id, state, now)
    service.withdraw(session, env, it.id, org.office, now, reason="经核实不属于本院问题")
    assert it.state == "withdrawn"
    assert service.available_actions(it, org.office) == []


def test_permissions_are_enforced_and_change_nothing(
    session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    it = item(session, env, org, now)
    with pytest.raises(PermissionDenied):
        service.assign(session, env, it.id, org.leader, now)
    with pytest.raises(PermissionDenied):
        service.assign(session, env, it.id, org.medical, now)
    service.assign(session, env, it.id, org.office, now)
    with pytest.raises(PermissionDenied, match="本科室牵头"):
        service.file_measures(session, env, it.id, org.pharmacy, now, measures="不是我们的事")
    with pytest.raises(PermissionDenied):
        service.file_measures(session, env, it.id, org.office, now, measures="代填")
    service.file_measures(session, env, it.id, org.medical, now, measures="已整改")
    with pytest.raises(PermissionDenied):
        service.verify(session, env, it.id, org.medical, now)
    assert [a for a, *_ in _events(session, it.id)] == ["create", "assign", "file_measures"]


def test_available_actions_per_role(session: Session, env: Env, org: Org, now: dt.datetime) -> None:
    it = item(session, env, org, now)
    drive(session, env, org, it.id, "measures_filed", now)
    assert service.available_actions(it, org.office) == ["verify", "reject", "withdraw"]
    assert service.available_actions(it, org.medical) == ["request_extension"]
    assert service.available_actions(it, org.pharmacy) == []
    assert service.available_actions(it, org.leader) == []


def test_expected_version_detects_a_stale_form(
    session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    it = item(session, env, org, now)
    with pytest.raises(Conflict, match="已被他人同时修改"):
        service.assign(session, env, it.id, org.office, now, expected_version=it.version - 1)
    assert service.get_item(session, it.id).state == "issued"


def test_unknown_item_and_department(session: Session, env: Env, org: Org, now: dt.datetime) -> None:
    with pytest.raises(NotFound, match="事项「999」不存在"):
        service.assign(session, env, 999, org.office, now)
    nid = notice(session, env, org, now)
    with pytest.raises(NotFound, match="科室「宣传科、后勤科」不存在"):
        intake.create_items(
            session, env, nid, [item_spec(lead=("宣传科",), coop=("后勤科",))], org.office, now
        )


def test_create_items_is_all_or_nothing(session: Session, env: Env, org: Org, now: dt.datetime) -> None:
    nid = notice(session, env, org, now)
    specs = [item_spec(title="第一项"), item_spec(title="第二项", measures="workdays:ten")]
    with pytest.raises(InvalidInput, match="期限规则"):
        intake.create_items(session, env, nid, specs, org.office, now)
    assert session.scalar(select(func.count(Item.id))) == 0


@pytest.mark.parametrize(
    ("coop", "due"),
    [((), nth_workday(dt.date(2026, 9, 15), 5)), (("输血科",), nth_workday(dt.date(2026, 9, 15), 10))],
    ids=["one-department-5-workdays", "two-departments-10-workdays"],
)
def test_complaint_rule_depends_on_departments(
    session: Session, env: Env, org: Org, now: dt.datetime, coop: tuple[str, ...], due: dt.date
) -> None:
    nid = notice(session, env, org, now)
    spec = item_spec(title="患者投诉输血等候时间过长", coop=coop, measures="complaint", completion=None)
    (it,) = intake.create_items(session, env, nid, [spec], org.office, now)
    assert (it.measures_due, it.completion_due, it.provisional) == (due, None, False)


def test_extension_moves_the_deadline_not_the_state(
    session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    it = item(session, env, org, now)
    drive(session, env, org, it.id, "assigned", now)
    old = it.completion_due
    assert old is not None
    ext = extensions.request_extension(session, env, it.id, org.medical, now, target="completion_due",
                                    new_due=old + dt.timedelta(days=14), reason="需等待设备到货")  # fmt: skip
    with pytest.raises(InvalidTransition, match="已有待审批"):
        extensions.request_extension(session, env, it.id, org.medical, now, target="completion_due",
                                  new_due=old + dt.timedelta(days=20), reason="再次申请")  # fmt: skip
    with pytest.raises(PermissionDenied):
        extensions.decide_extension(session, env, ext.id, org.medical, now, approve=True)
    extensions.decide_extension(session, env, ext.id, org.leader, now, approve=True, note="同意")
    assert (it.state, it.completion_due, it.completion_rule) == ("assigned", old + dt.timedelta(days=14),
                                                                 f"fixed:{old + dt.timedelta(days=14)}")  # fmt: skip
    with pytest.raises(InvalidTransition, match="已审批"):
        extensions.decide_extension(session, env, ext.id, org.office, now, approve=False)
    assert [a for a, *_ in _events(session, it.id)][-2:] == ["request_extension", "approve_extension"]


def test_denied_extension_keeps_the_deadline(session: Session, env: Env, org: Org, now: dt.datetime) -> None:
    it = item(session, env, org, now)
    old = it.completion_due
    assert old is not None
    ext = extensions.request_extension(session, env, it.id, org.medical, now, target="completion_due",
                                    new_due=old + LATER, reason="人手不足")  # fmt: skip
    extensions.decide_extension(session, env, ext.id, org.office, now, approve=False, note="理由不充分")
    assert (it.completion_due, ext.status) == (old, "denied")


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"target": "due", "new_due": dt.date(2026, 12, 1), "reason": "x"}, "期限类型"),
        ({"target": "completion_due", "new_due": dt.date(2026, 9, 1), "reason": "x"}, "须晚于当前期限"),
        ({"target": "completion_due", "new_due": dt.date(2026, 12, 1), "reason": " "}, "延期理由"),
    ],
    ids=["bad-target", "earlier-date", "no-reason"],
)
def test_bad_extension_requests(
    session: Session, env: Env, org: Org, now: dt.datetime, kw: dict[str, object], message: str
) -> None:
    it = item(session, env, org, now)
    with pytest.raises(InvalidInput, match=message):
        extensions.request_extension(session, env, it.id, org.medical, now, **kw)  # type: ignore[arg-type]
    assert extensions.extensions(session, org.office) == []


def test_department_sees_only_its_items(session: Session, env: Env, org: Org, now: dt.datetime) -> None:
    nid = notice(session, env, org, now)
    specs = [item_spec(title="输血", lead=("医务科",)), item_spec(title="合理用药", lead=("药剂科",)),
             item_spec(title="处方点评", lead=("药剂科",), coop=("医务科",))]  # fmt: skip
    intake.create_items(session, env, nid, specs, org.office, now)
    today = now.date()
    seen = {who: [v.title for v in queries.list_items(session, env.calendar, getattr(org, who), today)]
            for who in ("medical", "pharmacy", "office", "leader")}  # fmt: skip
    assert seen == {"medical": ["输血", "处方点评"], "pharmacy": ["合理用药", "处方点评"],
                    "office": ["输血", "合理用药", "处方点评"], "leader": ["输血", "合理用药", "处方点评"]}  # fmt: skip


def test_overdue_and_department_figures(session: Session, env: Env, org: Org, now: dt.datetime) -> None:
    nid = notice(session, env, org, now)
    specs = [item_spec(title=t, lead=(d,)) for t, d in
             [("按期", "医务科"), ("逾期销号", "医务科"), ("仍逾期", "药剂科"), ("撤销", "药剂科")]]  # fmt: skip
    a, b, c, d = intake.create_items(session, env, nid, specs, org.office, now)
    received = dt.date(2026, 9, 15)
    assert (a.measures_due, a.completion_due) == (nth_workday(received, 10), nth_workday(received, 25))
    assert a.measures_due == dt.date(2026, 9, 29)
    drive(session, env, org, a.id, "closed", now + LATER)
    drive(session, env, org, b.id, "measures_filed", now + LATER)
    service.verify(session, env, b.id, org.office, now + 45 * LATER)
    service.close(session, env, b.id, org.office, now + 45 * LATER)  # 2026-10-30, after its 10-26 target
    service.withdraw(session, env, d.id, org.office, now, reason="重复登记")
    # measures due 09-29 (Mid-Autumn 09-25 and the 调休 Sunday 09-20 counted right); National Day is not overdue time
    today = dt.date(2026, 10, 9)
    views = {v.title: v for v in queries.list_items(session, env.calendar, org.office, today)}
    assert (views["仍逾期"].pending_target, views["仍逾期"].overdue_workdays) == ("measures_due", 3)
    assert [v.title for v in queries.list_items(session, env.calendar, org.office, today, overdue=True)] == [
        "仍逾期"
    ]
    stats = {
        s.department: s.as_json() for s in queries.department_stats(session, env.calendar, org.office, today)
    }
    assert stats["医务科"] | {} == {"department": "医务科", "total": 2, "closed": 2, "closed_on_time": 1, "overdue": 0,
                                    "withdrawn": 0, "closure_rate": 1.0, "on_time_rate": 0.5}  # fmt: skip
    assert (stats["药剂科"]["total"], stats["药剂科"]["overdue"], stats["药剂科"]["withdrawn"]) == (1, 1, 1)
    assert [s.department for s in queries.department_stats(session, env.calendar, org.pharmacy, today)] == [
        "药剂科"
    ]
    total = queries.overall_stats(session, env.calendar, org.office, today)
    assert (total.total, total.closed, total.closed_on_time, total.overdue) == (3, 2, 1, 1)


def test_provisional_deadline_recomputed_when_the_year_arrives(
    session: Session, env: Env, org: Org, now: dt.datetime, tmp_path: Path
) -> None:
    nid = notice(session, env, org, now)
    spec = item_spec(title="跨年整改", measures="workdays:10", completion=None, start=dt.date(2026, 12, 20))
    (it,) = intake.create_items(session, env, nid, [spec], org.office, now)
    assert (it.measures_due, it.provisional) == (dt.date(2027, 1, 1), True)  # Mon–Fri fallback for 2027
    (tmp_path / "2027.toml").write_text(
        'year = 2027\nrest_days = ["2027-01-01"]\nworkdays = []\n', encoding="utf-8"
    )
    official = Env(calendar=load_calendar(tmp_path))
    assert intake.recompute_deadlines(session, official, org.office, now) == [it.id]
    session.expire_all()
    again = service.get_item(session, it.id)
    assert (again.measures_due, again.provisional) == (dt.date(2027, 1, 4), False)
    assert _events(session, it.id)[-1] == ("recompute_deadlines", "issued", "issued")
    assert intake.recompute_deadlines(session, official, org.office, now) == []


def test_no_extension_decision_once_the_item_is_done(
    session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    it = item(session, env, org, now)
    old = it.completion_due
    assert old is not None
    ext = extensions.request_extension(session, env, it.id, org.medical, now, target="completion_due",
                                       new_due=old + 10 * LATER, reason="设备未到货")  # fmt: skip
    service.withdraw(session, env, it.id, org.office, now, reason="重复登记")
    with pytest.raises(InvalidTransition, match="事项已办结"):
        extensions.decide_extension(session, env, ext.id, org.leader, now, approve=True)
    session.expire_all()
    assert (service.get_item(session, it.id).completion_due, ext.status) == (old, "pending")


def test_not_overdue_while_the_days_after_the_target_are_holidays(
    session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    nid = notice(session, env, org, now)
    (it,) = intake.create_items(session, env, nid, [item_spec(measures="fixed:2026-09-30", completion=None)],
                                org.office, now)  # fmt: skip
    in_holiday = dt.date(2026, 10, 5)  # National Day: no working day has passed since 09-30
    (v,) = queries.list_items(session, env.calendar, org.office, in_holiday)
    assert v.overdue_workdays == 0
    assert queries.list_items(session, env.calendar, org.office, in_holiday, overdue=True) == []
    assert queries.overall_stats(session, env.calendar, org.office, in_holiday).overdue == 0
    after = dt.date(2026, 10, 8)
    assert [
        x.overdue_workdays for x in queries.list_items(session, env.calendar, org.office, after, overdue=True)
    ] == [1]
    assert queries.overall_stats(session, env.calendar, org.office, after).overdue == 1
