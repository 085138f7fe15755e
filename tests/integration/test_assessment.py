"""Assessment scoring against real stores: results filed by a department and decided by the office,
bonus and veto records, rectification facts counted from real transitions, stored scorecards.

The rules are :data:`RULES_TOML` (医务科 has two indicators worth 15 points, 药剂科 one, 质控科 one
and no department in the database). Items are made on 2026-09-15: measures due 2026-09-29,
completion due 2026-10-26; :data:`LATE` is two days after that.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from states import assessment, digest, escalation, service
from states.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from states.escalation import Level, Policy
from states.model import IndicatorResult, Scorecard
from states.outbox import Delivery
from states.scoring import ItemRef, RectificationFacts, Rules
from states.service import Env
from tests.factories import Org, drive, item

RULES_TOML = """\
version = "t-1"
period = "2026"
bonus_cap = 6

[[indicators]]
code = "YW-01"
name = "病历书写合格"
points = 10
department = "医务科"
rule = { kind = "per_unit", deduct = 0.5, unit = "份" }

[[indicators]]
code = "YW-02"
name = "核心制度落实"
points = 5
department = "医务科"
rule = { kind = "all_or_nothing" }

[[indicators]]
code = "YJ-01"
name = "抗菌药物使用强度"
points = 5
department = "药剂科"
rule = { kind = "per_point_above", target = 40, deduct = 0.5, unit = "DDDs" }

[[indicators]]
code = "ZK-01"
name = "质控会议按期召开"
points = 5
department = "质控科"
rule = { kind = "all_or_nothing" }

[[bonuses]]
code = "JF-BZ"
name = "表彰或表扬"
levels = { "市级" = 1.5, "省级" = 3 }

[[vetoes]]
code = "DC-1"
name = "发生重大医疗事故"
effect = "lower_grade"

[grades]
scale = 100
bands = [{ min = 90, name = "优秀" }, { min = 75, name = "合格" }, { min = 0, name = "不合格" }]

[rectification]
late = 0.5
reopened = 1
talk = 2
cap = 3
on_time_bands = [{ min = 90, deduct = 0 }, { min = 0, deduct = 1 }]
"""

LATE = dt.datetime(2026, 10, 28, 1, 0, tzinfo=dt.UTC)
"""09:00 on Wednesday 2026-10-28 in Beijing: two days after the completion target."""
TALK_ONLY = Policy(levels=(Level(name="talk", offset=10, recipients=("office",)),), delivery=Delivery())


def write_rules(folder: Path, text: str = RULES_TOML) -> Path:
    path = folder / "scoring.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    return write_rules(tmp_path)


@pytest.fixture
def rules(rules_file: Path) -> Rules:
    return assessment.read_rules(rules_file)[0]


def score(session: Session, env: Env, org: Org, rules: Rules, now: dt.datetime, department: str = "医务科",
          period: str | None = None) -> Scorecard:  # fmt: skip
    """One department's scorecard as the office computes it, not stored."""
    (card,) = assessment.compute_scorecards(session, env, org.office, now, rules, "sha", period=period,
                                            departments=[department], record=False)  # fmt: skip
    return card


def line(card: Scorecard, code: str) -> dict[str, object]:
    return next(ln for ln in card.data["lines"] if ln["code"] == code)


def file_and_verify(
    session: Session, org: Org, rules: Rules, now: dt.datetime, code: str, value: str
) -> None:
    row = assessment.file_result(session, rules, org.medical, now, code=code, value=value)
    assessment.verify_result(session, org.office, now, row.id)


def test_a_department_files_and_the_office_verifies(
    session: Session, env: Env, org: Org, rules: Rules, now: dt.datetime
) -> None:
    row = assessment.file_result(session, rules, org.medical, now, code="YW-01", value="3", note="抽查3份不合格")
    assert (row.period, row.code, row.value, row.status) == ("2026", "YW-01", "3", "filed")
    assert (row.filed_by, row.department_id, row.version, row.history) == (org.medical.id, 1, 1, [])
    assert line(score(session, env, org, rules, now), "YW-01")["reason"] == "未填报结果"  # not verified yet
    done = assessment.verify_result(session, org.office, now, row.id, note="属实")
    assert (done.status, done.decided_by, done.decision_note) == ("verified", org.office.id, "属实")
    counted = line(score(session, env, org, rules, now), "YW-01")
    assert (counted["score"], counted["value"], counted["note"]) == ("8.5", "3", "抽查3份不合格")
    assert "少3份，扣1.5分" in str(counted["reason"])


def test_two_first_filings_at_once_one_wins_and_the_other_gets_a_conflict(
    sessions: sessionmaker[Session], session: Session, org: Org, rules: Rules, now: dt.datetime
) -> None:
    """Two browsers file the same result for the first time: the second one read "no result yet",
    then the first committed before it wrote. It gets a Chinese conflict, and the first stands."""
    with sessions() as late:

        raced: list[bool] = []

        def other_browser_commits_first(*_: object) -> None:
            if raced:
                return
            raced.append(True)
            with sessions() as first:
                assessment.file_result(first, rules, org.medical, now, code="YW-01", value="1", note="先提交")

        event.listen(late, "before_flush", other_browser_commits_first)
        with pytest.raises(Conflict, match="指标 YW-01 的结果 已被他人同时修改，本次「填报考核结果」未生效"):
            assessment.file_result(late, rules, org.medical, now, code="YW-01", value="2", note="后提交")
    session.expire_all()
    (row,) = session.scalars(select(IndicatorResult)).all()
    assert (row.value, row.note, row.status) == ("1", "先提交", "filed")


def test_who_may_file_and_decide(session: Session, org: Org, rules: Rules, now: dt.datetime) -> None:
    with pytest.raises(PermissionDenied, match="只能填报本科室负责的指标"):
        assessment.file_result(session, rules, org.pharmacy, now, code="YW-01", value="1")
    with pytest.raises(PermissionDenied, match="角色无此权限"):
        assessment.file_result(session, rules, org.office, now, code="YW-01", value="1")
    row = assessment.file_result(session, rules, org.medical, now, code="YW-01", value="1")
    for fn, kw in ((assessment.verify_result, {}), (assessment.reject_result, {"reason": "不实"})):
        with pytest.raises(PermissionDenied):
            fn(session, org.medical, now, row.id, **kw)  # type: ignore[operator]
    assessment.verify_result(session, org.office, now, row.id)
    with pytest.raises(InvalidInput, match="已核验，不能重新填报"):
        assessment.file_result(session, rules, org.medical, now, code="YW-01", value="2")
    with pytest.raises(NotFound, match="考核结果「99」不存在"):
        assessment.verify_result(session, org.office, now, 99)


@pytest.mark.parametrize(("code", "value", "why"), [
    ("YW-01", "-1", "不能为负数"), ("YW-01", "abc", "应为数字"), ("YW-01", "1e99", "有限数字"),
    ("YW-02", "也许", "应为 是/否"), ("XX-9", "1", "考核方案中没有此指标"),
])  # fmt: skip
def test_values_are_checked_against_the_rule(
    session: Session, org: Org, rules: Rules, now: dt.datetime, code: str, value: str, why: str
) -> None:
    with pytest.raises(InvalidInput, match=why):
        assessment.file_result(session, rules, org.medical, now, code=code, value=value)
    assert session.scalar(select(func.count(IndicatorResult.id))) == 0


def test_a_rejected_result_is_not_used_until_filed_again_and_verified(
    session: Session, env: Env, org: Org, rules: Rules, now: dt.datetime
) -> None:
    first = assessment.file_result(session, rules, org.medical, now, code="YW-02", value="是")
    with pytest.raises(InvalidInput, match="退回原因"):
        assessment.reject_result(session, org.office, now, first.id, reason="  ")
    assessment.reject_result(session, org.office, now, first.id, reason="缺少会议记录")
    assert line(score(session, env, org, rules, now), "YW-02")["reason"] == "未填报结果"
    again = assessment.file_result(session, rules, org.medical, now, code="YW-02", value="完成", note="补交会议记录")
    assert (again.id, again.status, again.decided_by) == (first.id, "filed", None)
    earlier = [(h["status"], h["decision_note"], h["value"]) for h in again.history]
    assert earlier == [("rejected", "缺少会议记录", "true")]
    assert line(score(session, env, org, rules, now), "YW-02")["score"] == "0"  # filed, not verified
    assessment.verify_result(session, org.office, now, again.id)
    assert line(score(session, env, org, rules, now), "YW-02")["score"] == "5"


def test_rectification_facts_come_from_real_transitions(
    session: Session, env: Env, org: Org, rules: Rules, now: dt.datetime
) -> None:
    late, reopened, talked, on_time, withdrawn = (item(session, env, org, now, title=f"事项{k}")
                                                  for k in "甲乙丙丁戊")  # fmt: skip
    others = item(session, env, org, now, title="药剂科的事项", lead=("药剂科",))
    drive(session, env, org, reopened.id, "closed", now)
    drive(session, env, org, on_time.id, "closed", now)
    drive(session, env, org, late.id, "verified", now)
    service.assign(session, env, talked.id, org.office, now)  # its measures target (2026-09-29) passes
    service.withdraw(session, env, withdrawn.id, org.office, now, reason="重复立项")
    service.assign(session, env, others.id, org.office, now)
    escalation.scan(session.connection(), TALK_ONLY, env.calendar, LATE.date(), LATE)
    session.commit()
    service.close(session, env, late.id, org.office, LATE)  # closed 2026-10-28, after 2026-10-26
    service.reopen(session, env, reopened.id, org.office, LATE, reason="回头看发现反弹")

    facts = assessment.rectification_facts(session, env, "医务科", "2026", LATE.date())
    assert facts.late == (ItemRef(late.id, "事项甲"),)
    assert facts.reopened == (ItemRef(reopened.id, "事项乙"),)
    assert facts.talks == (ItemRef(talked.id, "事项丙"),)  # 药剂科's item also reached 约谈: not counted here
    # Due in 2026 and due or closed: 甲 (late), 乙 (reopened), 丙 (open), 丁 (on time); 戊 is withdrawn.
    assert facts.on_time_rate == 25
    assert assessment.rectification_facts(session, env, "医务科", "2025", LATE.date()) == RectificationFacts()
    assert assessment.rectification_facts(session, env, "药剂科", "2026", LATE.date()).talks == (
        ItemRef(others.id, "药剂科的事项"),
    )

    card = score(session, env, org, rules, LATE)
    rect = card.data["rectification_lines"]
    assert [(r["kind"], r["item_id"], r["deduction"]) for r in rect] == [
        ("late", late.id, "0.5"), ("reopened", reopened.id, "1"), ("talk", talked.id, "2"),
        ("on_time_rate", None, "1"), ("cap", None, "-1.5"),
    ]  # fmt: skip
    assert f"事项 {late.id}「事项甲」" in rect[0]["reason"] and "逾期销号" in rect[0]["reason"]
    assert f"事项 {talked.id}「事项丙」" in rect[2]["reason"] and "约谈" in rect[2]["reason"]
    assert "超过每科室上限3分" in rect[4]["reason"]
    assert (card.data["rectification"], card.total) == ("3", "-3")


def test_bonus_and_veto_records_change_total_and_grade(
    session: Session, env: Env, org: Org, rules: Rules, now: dt.datetime
) -> None:
    file_and_verify(session, org, rules, now, "YW-01", "1")
    file_and_verify(session, org, rules, now, "YW-02", "true")
    plain = score(session, env, org, rules, now)
    assert (plain.total, plain.data["graded"], plain.grade) == ("14.5", "96.67", "优秀")
    with pytest.raises(PermissionDenied):
        assessment.record_bonus(session, rules, org.medical, now, department="医务科", code="JF-BZ", level="省级")
    with pytest.raises(InvalidInput, match="可选级别：市级、省级"):
        assessment.record_bonus(session, rules, org.office, now, department="医务科", code="JF-BZ", level="县级")
    with pytest.raises(InvalidInput, match="考核方案中没有该科室的指标"):
        assessment.record_bonus(session, rules, org.office, now, department="财务科", code="JF-BZ", level="市级")
    assessment.record_bonus(session, rules, org.office, now, department="医务科", code="JF-BZ", level="省级")
    bonus = score(session, env, org, rules, now)
    assert (bonus.total, bonus.data["graded"], bonus.grade) == ("17.5", "99.67", "优秀")
    assessment.record_veto(session, rules, org.office, now, department="医务科", code="DC-1", note="9月事故")
    vetoed = score(session, env, org, rules, now)
    assert (vetoed.total, vetoed.grade) == ("17.5", "合格")
    assert "发生重大医疗事故" in vetoed.data["grade_reason"]
    assert score(session, env, org, rules, now, "药剂科").data["bonus_lines"] == []
    assert score(session, env, org, rules, now, period="2027").total == "0"  # the records are 2026's


def test_a_stored_scorecard_keeps_the_rules_version_and_sha256(
    session: Session, env: Env, org: Org, rules_file: Path, now: dt.datetime
) -> None:
    rules, sha = assessment.read_rules(rules_file)
    assert sha == hashlib.sha256(rules_file.read_bytes()).hexdigest()
    file_and_verify(session, org, rules, now, "YW-01", "2")
    stored = assessment.compute_scorecards(session, env, org.office, now, rules, sha)
    assert [c.department for c in stored] == ["医务科", "药剂科", "质控科"]  # 质控科 is not in the database
    session.expire_all()
    rows = session.scalars(select(Scorecard).order_by(Scorecard.id)).all()
    assert [(r.department, r.rules_version, r.rules_sha256, r.computed_at, r.computed_by) for r in rows] == [
        (d, "t-1", sha, now, org.office.id) for d in ("医务科", "药剂科", "质控科")
    ]
    assert (rows[0].total, rows[0].grade, rows[0].data["lines"][0]["score"]) == ("9", "不合格", "9")
    assert rows[2].data["rectification_lines"] == []

    edited = RULES_TOML.replace('"t-1"', '"t-2"').replace("deduct = 0.5, unit", "deduct = 1, unit")
    newer_rules, newer_sha = assessment.read_rules(write_rules(rules_file.parent, edited))
    later = now + dt.timedelta(days=1)
    assessment.compute_scorecards(session, env, org.office, later, newer_rules, newer_sha,
                                  departments=["医务科"])  # fmt: skip
    latest = {c.department: c for c in assessment.latest_scorecards(session, org.leader, "2026")}
    medical = latest["医务科"]
    assert (medical.rules_version, medical.total, medical.computed_at) == ("t-2", "8", later)
    assert latest["药剂科"].rules_version == "t-1"
    old = session.get(Scorecard, rows[0].id)
    assert old is not None and (old.rules_version, old.rules_sha256, old.total) == ("t-1", sha, "9")


def test_the_same_data_and_rules_give_the_same_scorecards(
    session: Session, env: Env, org: Org, rules: Rules, now: dt.datetime
) -> None:
    file_and_verify(session, org, rules, now, "YW-01", "4")
    assessment.record_bonus(session, rules, org.office, now, department="医务科", code="JF-BZ", level="市级",
                            count=2)  # fmt: skip
    it = item(session, env, org, now)
    drive(session, env, org, it.id, "closed", LATE)
    first = assessment.compute_scorecards(session, env, org.office, LATE, rules, "sha")
    later = LATE + dt.timedelta(hours=3)
    second = assessment.compute_scorecards(session, env, org.office, later, rules, "sha")

    def comparable(cards: list[Scorecard]) -> list[dict[str, object]]:
        return [{k: v for k, v in assessment.scorecard_json(c).items() if k not in ("id", "computed_at")}
                for c in cards]  # fmt: skip

    assert comparable(first) == comparable(second)
    assert [c.id for c in first] != [c.id for c in second]
    assert first[0].data["rectification_lines"][0]["item_id"] == it.id


def test_a_department_member_sees_only_their_own_scorecard(
    session: Session, env: Env, org: Org, rules: Rules, now: dt.datetime
) -> None:
    with pytest.raises(PermissionDenied, match="计算并保存考核评分"):
        assessment.compute_scorecards(session, env, org.medical, now, rules, "sha")
    own = assessment.compute_scorecards(session, env, org.medical, now, rules, "sha", record=False)
    assert [c.department for c in own] == ["医务科"]
    with pytest.raises(PermissionDenied, match="只能查看本科室的考核评分"):
        assessment.compute_scorecards(session, env, org.medical, now, rules, "sha", record=False,
                                      departments=["药剂科"])  # fmt: skip
    with pytest.raises(InvalidInput, match="考核方案中没有该科室的指标"):
        assessment.compute_scorecards(session, env, org.office, now, rules, "sha", departments=["财务科"])
    assessment.compute_scorecards(session, env, org.office, now, rules, "sha")
    assert [c.department for c in assessment.latest_scorecards(session, org.medical, "2026")] == ["医务科"]
    assert assessment.latest_scorecard(session, org.medical, "2026", "医务科").department == "医务科"
    with pytest.raises(NotFound):
        assessment.latest_scorecard(session, org.medical, "2026", "药剂科")
    assert len(assessment.latest_scorecards(session, org.leader, "2026")) == 3


@pytest.mark.parametrize(("period", "span"), [
    ("2026", (dt.date(2026, 1, 1), dt.date(2026, 12, 31))),
    ("2026-02", (dt.date(2026, 2, 1), dt.date(2026, 2, 28))),
    ("2026-12", (dt.date(2026, 12, 1), dt.date(2026, 12, 31))),
])  # fmt: skip
def test_period_spans(period: str, span: tuple[dt.date, dt.date]) -> None:
    assert assessment.period_span(period) == span


@pytest.mark.parametrize("period", ["26", "2026-13", "2026年", "0999", ""])
def test_a_bad_period_is_refused(period: str) -> None:
    with pytest.raises(InvalidInput, match="考核期"):
        assessment.period_span(period)


def test_the_weekly_bulletin_carries_a_score_line_per_department(
    session: Session, env: Env, org: Org, rules_file: Path, now: dt.datetime
) -> None:
    assert digest.bulletin(session, env.calendar, env.local_date(now), now)["scores"] is None  # nothing scored yet
    rules, sha = assessment.read_rules(rules_file)
    file_and_verify(session, org, rules, now, "YW-01", "2")
    assessment.compute_scorecards(session, env, org.office, now, rules, sha)
    scores = digest.bulletin(session, env.calendar, env.local_date(now), now)["scores"]
    assert (scores["period"], scores["rules_version"]) == ("2026", "t-1")
    assert [(r["department"], r["total"], r["grade"]) for r in scores["rows"]][0] == ("医务科", "9", "不合格")
