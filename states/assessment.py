"""Assessment scoring in the database (考核评分): indicator results, bonus and veto records, the
rectification record's facts and stored scorecards. The arithmetic is :mod:`states.scoring`'s.

Results. There is one current result per period and indicator code. A member of the indicator's
responsible department files it (value, note, evidence files); the office verifies it, or rejects
it with a reason. Filing again (after a rejection, or before the office decided) updates the row in
place: the earlier filing and its decision are appended to ``history`` and ``version`` goes up. A
verified result stays until the office rejects it. Only verified results are scored; any other
counts as not reported (未填报结果).

Records. The office records bonuses (加分事项, with level and count) and vetoes (否决事项) per
department and period; codes and levels are checked against the rules when recorded.

Rectification facts (整改扣分) of a department and period come from the items it leads, counted
up to ``today``:

- late (逾期销号): closed in the period after its last target (the ledger's on-time rule,
  :data:`states.queries.CLOSED_ON_TIME`); an item reopened since is not closed, so not late;
- reopened (重新打开): a ``reopen`` event in the period, each item once;
- talks (约谈): the item reached the ``talk`` level in the period (an escalation the scan
  recorded, whoever its messages went to), each item once;
- on-time rate (按期销号率): of the items (not withdrawn) whose last target falls in the period and
  which are closed or past that target (:func:`states.queries.overdue_cutoff`), the share closed on
  time, in percent; ``None`` when there is none, so no band applies (没有到期事项的科室不计此项).

Departments. A department of the rules that does not exist in the database is still scored: nobody
can have filed for it and no record can name it, so it has no results, records or facts.

Scorecards. :func:`compute_scorecards` stores one :class:`~states.model.Scorecard` row per
department with the rules' version and the SHA-256 of the rules file's bytes, so a past score can
be shown with the rules it used. The same data and rules give the same scorecard.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from states import scoring
from states.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from states.model import (
    AssessmentRecord,
    Department,
    Escalation,
    IndicatorResult,
    Item,
    ItemDepartment,
    ItemEvent,
    Scorecard,
)
from states.org import department_ids
from states.permissions import ROLES_SEEING_ALL, Actor, require
from states.queries import CLOSED_ON_TIME, FINAL_DUE, overdue_cutoff
from states.service import Env, EvidenceFile
from states.store import transaction

RESULT_LABELS = {"filed": "待核验", "verified": "已核验", "rejected": "已退回"}
RECORD_LABELS = {"bonus": "加分", "veto": "否决"}
#: How a done / not done result may be written.
DONE_WORDS = {"true": True, "1": True, "是": True, "完成": True, "已完成": True,
              "false": False, "0": False, "否": False, "未完成": False}  # fmt: skip
PERIOD = re.compile(r"([1-9]\d{3})(?:-(\d{2}))?")
MAX_DIGITS = 15


# ----------------------------------------------------------------------------------------------
# Rules, periods, values
# ----------------------------------------------------------------------------------------------


def read_rules(path: Path) -> tuple[scoring.Rules, str]:
    """The rules in ``path`` and the SHA-256 of the file's bytes (kept with every stored scorecard).

    Raises:
        InvalidInput: what :func:`states.scoring.load_rules` refuses (the message names the file).
    """
    try:
        raw = path.read_bytes()  # read once: the hash is of exactly the bytes parsed
    except OSError as exc:
        raise InvalidInput("评分规则文件", str(path), f"无法读取：{exc.strerror or exc}") from exc
    return scoring.rules_from_bytes(raw, path), hashlib.sha256(raw).hexdigest()


def period_span(period: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a period written ``2026`` (a year) or ``2026-09`` (a month).

    Raises:
        InvalidInput: any other form.
    """
    found = PERIOD.fullmatch(period.strip())
    month = int(found[2]) if found and found[2] else None
    if found is None or (month is not None and not 1 <= month <= 12):
        raise InvalidInput("考核期", period, "应为年份（如 2026）或年月（如 2026-09）")
    year = int(found[1])
    if month is None:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    first = dt.date(year, month, 1)
    return first, (first + dt.timedelta(days=31)).replace(day=1) - dt.timedelta(days=1)


def _period(period: str) -> str:
    period_span(period)
    return period.strip()


def parse_value(indicator: scoring.Indicator, raw: object) -> bool | Decimal:
    """A reported value as the indicator's rule reads it, checked by scoring it once.

    ``all_or_nothing`` takes 是/否 (完成/未完成, true/false, 1/0); the other rules take a number.

    Raises:
        InvalidInput: a value the rule cannot use (not a number, negative units …).
    """
    where = f"指标 {indicator.code} 的结果"
    value: bool | Decimal | None
    if isinstance(indicator.rule, scoring.AllOrNothing):
        value = raw if isinstance(raw, bool) else DONE_WORDS.get(str(raw).strip().lower())
        if value is None:
            raise InvalidInput(where, raw, "应为 是/否（也可写 完成/未完成、true/false、1/0）")
    else:
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation as exc:
            raise InvalidInput(where, raw, "应为数字") from exc
        if not value.is_finite() or max(abs(value.adjusted()), len(value.as_tuple().digits)) > MAX_DIGITS:
            raise InvalidInput(where, raw, f"应为不超过{MAX_DIGITS}位有效数字的有限数字")
    scoring.score_indicator(indicator, scoring.IndicatorResult(indicator.code, value))
    return value


def value_text(value: bool | Decimal) -> str:
    """How a value is stored: ``true`` / ``false`` or the exact decimal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return scoring.fmt(value)


def stored_value(text: str) -> bool | Decimal:
    """The value :func:`value_text` stored."""
    if text in ("true", "false"):
        return text == "true"
    return Decimal(text)


def _indicator(rules: scoring.Rules, code: str) -> scoring.Indicator:
    found = next((i for i in rules.indicators if i.code == code), None)
    if found is None:
        raise InvalidInput("指标代码", code, "考核方案中没有此指标")
    return found


def _rules_department(rules: scoring.Rules, department: str) -> None:
    if not rules.indicators_of(department):
        raise InvalidInput("科室", department, f"考核方案中没有该科室的指标；现有科室：{'、'.join(rules.departments())}")


def _clean(text: str | None) -> str | None:
    return text.strip() if text and text.strip() else None


def _department_name(session: Session, department_id: int | None) -> str | None:
    if department_id is None:
        return None
    return session.scalar(select(Department.name).where(Department.id == department_id))


def _visible_department(session: Session, actor: Actor) -> str | None:
    """``None`` when the actor sees every department's scores, else the one department they see."""
    if actor.role in ROLES_SEEING_ALL:
        return None
    return _department_name(session, actor.department_id) or ""


# ----------------------------------------------------------------------------------------------
# Results (考核结果): filed by departments, decided by the office
# ----------------------------------------------------------------------------------------------


@transaction
def file_result(
    session: Session,
    rules: scoring.Rules,
    actor: Actor,
    now: dt.datetime,
    *,
    code: str,
    value: object,
    note: str | None = None,
    evidence: Sequence[EvidenceFile] = (),
    period: str | None = None,
) -> IndicatorResult:
    """填报考核结果: a member of the indicator's responsible department reports its value.

    Args:
        period: the period (the rules' period by default).

    Raises:
        PermissionDenied: not a department member, or the indicator is another department's.
        InvalidInput: an unknown code, a value the rule cannot use, a bad period, or the current
            result is verified already.
        Conflict: another filing of the same result was committed between this one's read and
            write (two browsers at once); nothing was written.
    """
    require(actor, "file_result")
    indicator = _indicator(rules, code)
    if actor.department_id is None or _department_name(session, actor.department_id) != indicator.department:
        raise PermissionDenied(actor.username, "file_result",
                               f"指标 {code} 由「{indicator.department}」负责，只能填报本科室负责的指标")  # fmt: skip
    stored = value_text(parse_value(indicator, value))
    period = _period(period or rules.period)
    row = session.scalar(
        select(IndicatorResult).where(IndicatorResult.period == period, IndicatorResult.code == code)
    )
    if row is not None and row.status == "verified":
        raise InvalidInput(f"指标 {code} 的结果", row.value, "已核验，不能重新填报；如需更正，请督查办先退回")
    if row is None:
        row = IndicatorResult(period=period, code=code, history=[])
        session.add(row)
    else:
        row.history = [*row.history, _snapshot(row)]
    row.department_id, row.value, row.note, row.status = actor.department_id, stored, _clean(note), "filed"
    row.evidence = [_evidence(f) for f in evidence]
    row.filed_by, row.filed_at = actor.id, now
    row.decided_by, row.decided_at, row.decision_note = None, None, None
    try:
        session.flush()
    except (IntegrityError, StaleDataError) as exc:  # another filing of this result committed meanwhile
        raise Conflict(code, "file_result", subject=f"指标 {code} 的结果") from exc
    return row


def _evidence(f: EvidenceFile) -> dict[str, Any]:
    return {"file_name": f.file_name, "sha256": f.sha256, "size": f.size, "stored_path": f.stored_path}


def _snapshot(row: IndicatorResult) -> dict[str, Any]:
    """An earlier filing and its decision, as kept in ``history``."""
    return {
        "version": row.version, "value": row.value, "note": row.note, "evidence": row.evidence,
        "status": row.status, "filed_by": row.filed_by, "filed_at": row.filed_at.isoformat(),
        "decided_by": row.decided_by, "decided_at": row.decided_at.isoformat() if row.decided_at else None,
        "decision_note": row.decision_note,
    }  # fmt: skip


@transaction
def verify_result(
    session: Session, actor: Actor, now: dt.datetime, result_id: int, *, note: str | None = None,
    expected_version: int | None = None,
) -> IndicatorResult:  # fmt: skip
    """核验考核结果: the office accepts a filed result; from now on it is scored.

    Args:
        expected_version: the result's version the office saw; a result filed again since then
            is not decided on (:class:`Conflict`).

    Raises:
        NotFound: no such result.
        InvalidInput: the result is not waiting for a decision.
        Conflict: the result changed since ``expected_version``.
    """
    require(actor, "verify_result")
    row = _result(session, result_id, "verify_result", expected_version)
    if row.status != "filed":
        raise InvalidInput("考核结果", result_id, f"当前为「{RESULT_LABELS[row.status]}」，只有待核验的结果可以核验")
    return _decide(session, row, "verified", actor, now, _clean(note))


@transaction
def reject_result(
    session: Session, actor: Actor, now: dt.datetime, result_id: int, *, reason: str,
    expected_version: int | None = None,
) -> IndicatorResult:  # fmt: skip
    """退回考核结果: the office sends a filed (or verified) result back, saying why; it is not scored.

    Args:
        expected_version: as for :func:`verify_result`.

    Raises:
        NotFound: no such result.
        InvalidInput: no reason, or the result is rejected already.
        Conflict: the result changed since ``expected_version``.
    """
    require(actor, "reject_result")
    row = _result(session, result_id, "reject_result", expected_version)
    why = _clean(reason)
    if why is None:
        raise InvalidInput("退回原因", reason, "不能为空")
    if row.status == "rejected":
        raise InvalidInput("考核结果", result_id, "已退回，等待科室重新填报")
    return _decide(session, row, "rejected", actor, now, why)


def _result(session: Session, result_id: int, action: str, expected_version: int | None) -> IndicatorResult:
    row = session.get(IndicatorResult, result_id)
    if row is None:
        raise NotFound("考核结果", result_id)
    if expected_version is not None and row.version != expected_version:
        raise Conflict(result_id, action, subject=f"指标 {row.code} 的结果")
    return row


def _decide(session: Session, row: IndicatorResult, status: str, actor: Actor, now: dt.datetime,
            note: str | None) -> IndicatorResult:  # fmt: skip
    row.status, row.decided_by, row.decided_at, row.decision_note = status, actor.id, now, note
    try:
        session.flush()
    except StaleDataError as exc:  # filed again between this read and this write
        raise Conflict(row.id, "verify_result" if status == "verified" else "reject_result",
                       subject=f"指标 {row.code} 的结果") from exc  # fmt: skip
    return row


def results(session: Session, actor: Actor, period: str) -> list[IndicatorResult]:
    """The period's results the actor may see (a department member: their department's), by code."""
    q = select(IndicatorResult).where(IndicatorResult.period == period).order_by(IndicatorResult.code)
    if actor.role not in ROLES_SEEING_ALL:
        q = q.where(IndicatorResult.department_id == actor.department_id)
    return list(session.scalars(q))


# ----------------------------------------------------------------------------------------------
# Bonus and veto records (加分事项、否决事项)
# ----------------------------------------------------------------------------------------------


@transaction
def record_bonus(
    session: Session,
    rules: scoring.Rules,
    actor: Actor,
    now: dt.datetime,
    *,
    department: str,
    code: str,
    level: str | None = None,
    count: int = 1,
    note: str | None = None,
    period: str | None = None,
) -> AssessmentRecord:
    """登记加分事项 (office): ``count`` awards of bonus ``code`` at ``level`` for a department.

    Raises:
        InvalidInput: an unknown code or level, a count below 1, a department without indicators.
        NotFound: the department does not exist.
    """
    require(actor, "record_assessment")
    bonus = next((b for b in rules.bonuses if b.code == code), None)
    if bonus is None:
        raise InvalidInput("加分事项", code, f"考核方案中没有此代码；可选：{'、'.join(b.code for b in rules.bonuses)}")
    bonus.points_for(_clean(level))
    if isinstance(count, bool) or count < 1:
        raise InvalidInput("次数", count, "应为正整数")
    return _record(session, rules, actor, now, "bonus", department, code, period, level=_clean(level),
                   count=count, note=note)  # fmt: skip


@transaction
def record_veto(
    session: Session,
    rules: scoring.Rules,
    actor: Actor,
    now: dt.datetime,
    *,
    department: str,
    code: str,
    note: str | None = None,
    period: str | None = None,
) -> AssessmentRecord:
    """登记否决事项 (office): veto ``code`` applies to a department.

    Raises:
        InvalidInput: an unknown code, a department without indicators.
        NotFound: the department does not exist.
    """
    require(actor, "record_assessment")
    if code not in {v.code for v in rules.vetoes}:
        raise InvalidInput("否决事项", code, f"考核方案中没有此代码；可选：{'、'.join(v.code for v in rules.vetoes)}")
    return _record(session, rules, actor, now, "veto", department, code, period, level=None, count=1,
                   note=note)  # fmt: skip


def _record(session: Session, rules: scoring.Rules, actor: Actor, now: dt.datetime, kind: str,
            department: str, code: str, period: str | None, *, level: str | None, count: int,
            note: str | None) -> AssessmentRecord:  # fmt: skip
    _rules_department(rules, department)
    dept_id = department_ids(session, [department])[department]
    row = AssessmentRecord(
        period=_period(period or rules.period), department_id=dept_id, kind=kind, code=code, level=level,
        count=count, note=_clean(note), recorded_by=actor.id, recorded_at=now,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


@transaction
def revoke_record(
    session: Session, actor: Actor, now: dt.datetime, record_id: int, *, reason: str
) -> AssessmentRecord:
    """撤销加分或否决事项 (office): a mistaken record stops counting; it is kept with who, when and why.

    Raises:
        NotFound: no such record.
        InvalidInput: no reason, or the record is revoked already.
    """
    require(actor, "revoke_assessment")
    row = session.get(AssessmentRecord, record_id)
    if row is None:
        raise NotFound("加分或否决事项", record_id)
    why = _clean(reason)
    if why is None:
        raise InvalidInput("撤销原因", reason, "不能为空")
    if row.revoked_at is not None:
        raise InvalidInput("加分或否决事项", record_id, "已撤销")
    row.revoked_by, row.revoked_at, row.revoke_reason = actor.id, now, why
    session.flush()
    return row


def records(session: Session, actor: Actor, period: str) -> list[AssessmentRecord]:
    """The period's bonus and veto records the actor may see (revoked ones too), in the order recorded."""
    q = select(AssessmentRecord).where(AssessmentRecord.period == period).order_by(AssessmentRecord.id)
    if actor.role not in ROLES_SEEING_ALL:
        q = q.where(AssessmentRecord.department_id == actor.department_id)
    return list(session.scalars(q))


# ----------------------------------------------------------------------------------------------
# Rectification facts (整改扣分的依据)
# ----------------------------------------------------------------------------------------------


def rectification_facts(
    session: Session, env: Env, department: str, period: str, today: dt.date
) -> scoring.RectificationFacts:
    """What the rectification record of ``department`` holds for ``period``, up to ``today``.

    See the module's docstring for each definition. A department not in the database has none.
    """
    dept_id = session.scalar(select(Department.id).where(Department.name == department))
    first, period_last = period_span(period)
    last = min(period_last, today)
    if dept_id is None or last < first:
        return scoring.RectificationFacts()
    led = select(ItemDepartment.item_id).where(
        ItemDepartment.department_id == dept_id, ItemDepartment.role == "lead"
    )
    start, end = _utc(env.tz, first), _utc(env.tz, last + dt.timedelta(days=1))
    reopened = select(ItemEvent.item_id).where(
        ItemEvent.action == "reopen", ItemEvent.at >= start, ItemEvent.at < end
    )
    talks = select(Escalation.item_id).where(
        Escalation.level == "talk", Escalation.created_at >= start, Escalation.created_at < end
    )
    return scoring.RectificationFacts(
        late=_refs(
            session, led, Item.state == "closed", Item.closed_on.between(first, last), ~CLOSED_ON_TIME
        ),
        reopened=_refs(session, led, Item.id.in_(reopened)),
        talks=_refs(session, led, Item.id.in_(talks)),
        on_time_rate=_on_time_rate(session, led, first, period_last, overdue_cutoff(env.calendar, today)),
    )


def _utc(tz: ZoneInfo, day: dt.date) -> dt.datetime:
    """The start of a local calendar day, in UTC."""
    return dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)


def _refs(
    session: Session, led: Select[Any], *conditions: ColumnElement[bool]
) -> tuple[scoring.ItemRef, ...]:
    q = select(Item.id, Item.title).where(Item.id.in_(led), *conditions).order_by(Item.id)
    return tuple(scoring.ItemRef(item_id=i, title=t) for i, t in session.execute(q).tuples())


def _on_time_rate(session: Session, led: Select[Any], first: dt.date, last: dt.date,
                  cutoff: dt.date) -> Decimal | None:  # fmt: skip
    q = select(func.count(Item.id), func.count(Item.id).filter(CLOSED_ON_TIME)).where(
        Item.id.in_(led), Item.state != "withdrawn", FINAL_DUE.between(first, last),
        or_(Item.state == "closed", FINAL_DUE < cutoff),
    )  # fmt: skip
    total, on_time = session.execute(q).one()
    if not total:
        return None
    return (Decimal(on_time) * 100 / Decimal(total)).quantize(scoring.CENT, rounding=ROUND_HALF_UP)


# ----------------------------------------------------------------------------------------------
# Scorecards (评分表)
# ----------------------------------------------------------------------------------------------


@transaction
def compute_scorecards(
    session: Session,
    env: Env,
    actor: Actor,
    now: dt.datetime,
    rules: scoring.Rules,
    rules_sha256: str,
    *,
    period: str | None = None,
    departments: Sequence[str] | None = None,
    record: bool = True,
) -> list[Scorecard]:
    """Score departments from the verified results, the records and the rectification record.

    Args:
        period: the period (the rules' period by default).
        departments: whom to score, as the rules name them (every department of the rules by
            default; a department member: only their own).
        record: store the scorecards (the office); otherwise only compute them.

    Returns:
        One scorecard per department, in the rules' order: stored rows, or unsaved ones.

    Raises:
        PermissionDenied: storing without the office's right; another department's scorecard.
        InvalidInput: a bad period, a department without indicators, a stored code the rules no
            longer know.
    """
    if record:
        require(actor, "compute_scores")
    rules = replace(rules, period=_period(period or rules.period))
    today = env.local_date(now)
    verified = _verified(session, rules.period)
    claims = _claims(session, rules.period)
    rows = []
    for name in _to_score(session, actor, rules, departments):
        bonuses, vetoes = claims.get(name, ([], []))
        card = scoring.score_department(
            rules, name, [verified[i.code] for i in rules.indicators_of(name) if i.code in verified],
            bonuses, vetoes, rectification_facts(session, env, name, rules.period, today),
        )  # fmt: skip
        rows.append(Scorecard(
            period=rules.period, department=name, rules_version=rules.version, rules_sha256=rules_sha256,
            computed_at=now, computed_by=actor.id, total=scoring.fmt(card.total), grade=card.grade,
            data=card.as_dict(),
        ))  # fmt: skip
    if record:
        session.add_all(rows)
        session.flush()
    return rows


def _to_score(
    session: Session, actor: Actor, rules: scoring.Rules, departments: Sequence[str] | None
) -> list[str]:
    known = rules.departments()
    wanted = list(dict.fromkeys(departments)) if departments else known
    for name in wanted:
        _rules_department(rules, name)
    own = _visible_department(session, actor)
    if own is None:
        return wanted
    if departments and any(name != own for name in wanted):
        raise PermissionDenied(actor.username, "view_scores", "只能查看本科室的考核评分")
    return [name for name in wanted if name == own]


def _verified(session: Session, period: str) -> dict[str, scoring.IndicatorResult]:
    q = select(IndicatorResult).where(IndicatorResult.period == period, IndicatorResult.status == "verified")
    return {
        r.code: scoring.IndicatorResult(r.code, stored_value(r.value), r.note) for r in session.scalars(q)
    }


def _claims(session: Session, period: str) -> dict[str, tuple[list[scoring.BonusClaim], list[str]]]:
    """Per department name: its bonus claims and veto codes, in the order recorded."""
    out: dict[str, tuple[list[scoring.BonusClaim], list[str]]] = {}
    q = (
        select(AssessmentRecord)
        .where(AssessmentRecord.period == period, AssessmentRecord.revoked_at.is_(None))
        .order_by(AssessmentRecord.id)
    )
    for r in session.scalars(q):
        bonuses, vetoes = out.setdefault(r.department.name, ([], []))
        if r.kind == "bonus":
            bonuses.append(scoring.BonusClaim(r.code, r.level, r.count, r.note))
        else:
            vetoes.append(r.code)
    return out


def _latest(session: Session, actor: Actor, period: str) -> Select[tuple[Scorecard]]:
    newest = select(func.max(Scorecard.id)).where(Scorecard.period == period).group_by(Scorecard.department)
    q = select(Scorecard).where(Scorecard.id.in_(newest)).order_by(Scorecard.id)
    own = _visible_department(session, actor)
    return q if own is None else q.where(Scorecard.department == own)


def latest_scorecards(session: Session, actor: Actor, period: str) -> list[Scorecard]:
    """The newest stored scorecard of each department for ``period`` the actor may see."""
    return list(session.scalars(_latest(session, actor, period)))


def latest_scorecard(session: Session, actor: Actor, period: str, department: str) -> Scorecard:
    """The newest stored scorecard of one department.

    Raises:
        NotFound: none stored, or the actor may not see it.
    """
    card = session.scalar(_latest(session, actor, period).where(Scorecard.department == department))
    if card is None:
        raise NotFound("考核评分表", f"{department}（{period}）")
    return card


def scored_periods(session: Session) -> list[str]:
    """Periods with stored scorecards, newest first."""
    return list(session.scalars(select(Scorecard.period).distinct().order_by(Scorecard.period.desc())))


def deductions(card: Scorecard) -> int:
    """How many lines of a scorecard take points away (indicators and the rectification record)."""
    amounts = [ln["deduction"] for ln in card.data["lines"]]
    amounts += [r["deduction"] for r in card.data["rectification_lines"] if r["kind"] != "cap"]
    return sum(Decimal(a) > 0 for a in amounts)


def scorecard_json(card: Scorecard) -> dict[str, Any]:
    """A scorecard as :meth:`states.scoring.Scorecard.as_dict` gives it, with where it is kept."""
    where = {"id": card.id, "rules_sha256": card.rules_sha256, "computed_at": card.computed_at.isoformat()}
    return card.data | where
