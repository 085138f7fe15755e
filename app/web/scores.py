"""Assessment scorecards (考核评分): the latest stored scorecard of each department, one department's
explanation, and the office's recomputation. Leaders, the office and admins see every department;
a department member sees their own card only.

Indicator results (考核指标结果, ``/scores/results``) are filed like an item's measures: a member of
the indicator's responsible department files a value, a note and evidence files; the office verifies
the result or sends it back with a reason; leaders read. Another department's result and its evidence
are "not found" (404). The rules of filing and deciding are :mod:`states.assessment`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import FileResponse, Response

from app import files
from app.web.deps import Web, page_user
from app.web.pages_common import UploadLimit, attachment, local_time, read_uploads, see_other, upload_limit
from app.web.pages_items import CONTENT_TYPES
from states import assessment, scoring
from states.errors import NotFound
from states.model import Department, IndicatorResult
from states.permissions import ROLES_SEEING_ALL, refusal

router = APIRouter(route_class=UploadLimit, include_in_schema=False)
#: How a stored done / not done value reads.
VALUE_WORDS = {"true": "是", "false": "否"}


@dataclass(frozen=True, slots=True)
class ResultLine:
    """One indicator on the results page: the rule, its current result and the forms the user gets."""

    code: str
    indicator: scoring.Indicator | None
    """``None``: a stored result whose code the current rules no longer have."""
    result: IndicatorResult | None
    may_file: bool
    may_decide: bool

    @property
    def yes_no(self) -> bool:
        return self.indicator is not None and isinstance(self.indicator.rule, scoring.AllOrNothing)


def rules_path(web: Web) -> Path:
    return web.runtime.settings.config_dir / "scoring.toml"


def _link(department: str, period: str) -> str:
    """The URL of one department's scorecard (any character of the name is safe in it)."""
    return f"/scores/{quote(department, safe='')}?period={quote(period, safe='')}"


def _results_link(period: str) -> str:
    return f"/scores/results?period={quote(period, safe='')}"


@router.get("/scores")
def scores_page(period: str = "", web: Web = Depends(page_user)) -> Response:
    rules, sha = assessment.read_rules(rules_path(web))
    chosen = period.strip() or rules.period
    cards = assessment.latest_scorecards(web.session, web.actor, chosen)
    return web.render(
        "scores.html", cards=cards, period=chosen, rules=rules, sha=sha, link=_link,
        results_link=_results_link(chosen),
        periods=assessment.scored_periods(web.session), deductions=assessment.deductions,
        when=lambda c: local_time(web, c.computed_at),
        may_compute=refusal(web.actor, "compute_scores") is None,
    )  # fmt: skip


@router.post("/scores/recompute")
def recompute(csrf: str = Form(""), period: str = Form(""), web: Web = Depends(page_user)) -> Response:
    """重新计算并保存各科室评分表 (the office): the current rules, verified results and records."""
    web.check_csrf(csrf)
    rules, sha = assessment.read_rules(rules_path(web))
    cards = assessment.compute_scorecards(web.session, web.runtime.env, web.actor, web.now, rules, sha,
                                          period=period.strip() or None)  # fmt: skip
    chosen = cards[0].period if cards else period.strip() or rules.period
    return see_other(f"/scores?period={quote(chosen, safe='')}")


@router.get("/scores/results")
def results_page(period: str = "", web: Web = Depends(page_user)) -> Response:
    """考核指标结果: a department's indicators with their results and the filing form; everything
    for the office (with the verify and reject forms) and for leaders (read only)."""
    rules, _ = assessment.read_rules(rules_path(web))
    chosen = period.strip() or rules.period
    assessment.period_span(chosen)  # a bad period is a 400 page, not an empty list
    return web.render(
        "score_results.html", lines=_lines(web, rules, chosen), period=chosen, rules=rules,
        RESULT_LABELS=assessment.RESULT_LABELS, VALUE_WORDS=VALUE_WORDS, describe=scoring.describe_rule,
        when=lambda at: local_time(web, at), max_upload_mb=web.runtime.settings.max_upload_mb,
    )  # fmt: skip


@router.post("/scores/results/{code}")
def file_result(code: str, csrf: str = Form(""), period: str = Form(""), value: str = Form(""),
                note: str = Form(""), evidence: list[UploadFile | str] = File([]),
                web: Web = Depends(page_user)) -> Response:  # fmt: skip
    """填报考核结果: evidence is stored by content; if the filing is refused, the new files are removed."""
    web.check_csrf(csrf)
    rules, _ = assessment.read_rules(rules_path(web))
    limit = upload_limit(web.request)
    uploads = read_uploads(evidence, limit)
    with files.staged_uploads(uploads, web.runtime.settings.evidence_dir, limit=limit) as stored:
        row = assessment.file_result(web.session, rules, web.actor, web.now, code=code, value=value, note=note,
                                     evidence=stored, period=period.strip() or None)  # fmt: skip
    return see_other(_results_link(row.period))


@router.post("/scores/results/{result_id}/verify")
def verify_result(result_id: int, csrf: str = Form(""), version: int = Form(...), note: str = Form(""),
                  web: Web = Depends(page_user)) -> Response:  # fmt: skip
    """核验考核结果 (the office); a result filed again since the page was opened gives 409."""
    web.check_csrf(csrf)
    row = assessment.verify_result(
        web.session, web.actor, web.now, result_id, note=note, expected_version=version
    )
    return see_other(_results_link(row.period))


@router.post("/scores/results/{result_id}/reject")
def reject_result(result_id: int, csrf: str = Form(""), version: int = Form(...), reason: str = Form(""),
                  web: Web = Depends(page_user)) -> Response:  # fmt: skip
    """退回考核结果 (the office; a reason is required); a result filed again since gives 409."""
    web.check_csrf(csrf)
    row = assessment.reject_result(web.session, web.actor, web.now, result_id, reason=reason,
                                   expected_version=version)  # fmt: skip
    return see_other(_results_link(row.period))


@router.get("/scores/results/{result_id}/evidence/{n}")
def result_evidence(result_id: int, n: int, web: Web = Depends(page_user)) -> Response:
    """The ``n``-th (from 1) evidence file of a result, to those who may see the result, as a download."""
    row = _visible_result(web, result_id)
    found = row.evidence[n - 1] if row is not None and 1 <= n <= len(row.evidence) else None
    path = _readable(web, found["stored_path"]) if found else None
    if found is None or path is None:
        raise NotFound("佐证材料", f"{result_id}/{n}")
    headers = {"Content-Disposition": attachment(found["file_name"]), "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": "sandbox", "Cache-Control": "private, no-store"}  # fmt: skip
    return FileResponse(
        path, media_type=CONTENT_TYPES.get(path.suffix, "application/octet-stream"), headers=headers
    )


@router.get("/scores/{department:path}")
def score_detail(department: str, period: str = "", web: Web = Depends(page_user)) -> Response:
    """One department's newest scorecard: every step, the indicator lines, bonuses and deductions."""
    rules, sha = assessment.read_rules(rules_path(web))
    card = assessment.latest_scorecard(web.session, web.actor, period.strip() or rules.period, department)
    return web.render("score_explain.html", card=card, data=card.data, current_sha=sha,
                      computed=local_time(web, card.computed_at),
                      EFFECT_LABELS=scoring.EFFECT_LABELS)  # fmt: skip


def _lines(web: Web, rules: scoring.Rules, period: str) -> list[ResultLine]:
    """The indicators the user sees (a department member: their department's) in the rules' order,
    then results whose code the rules no longer have."""
    found = {r.code: r for r in assessment.results(web.session, web.actor, period)}
    mine = None
    if web.actor.role not in ROLES_SEEING_ALL:
        dept = web.session.get(Department, web.actor.department_id) if web.actor.department_id else None
        mine = dept.name if dept else ""
    may_file = refusal(web.actor, "file_result") is None
    may_decide = refusal(web.actor, "verify_result") is None
    lines = []
    for i in rules.indicators:
        if mine is None or i.department == mine:
            row = found.pop(i.code, None)
            open_ = row is None or row.status != "verified"  # a verified result is re-filed after a rejection
            lines.append(ResultLine(i.code, i, row, may_file and open_ and i.department == mine, may_decide))
    return lines + [ResultLine(code, None, r, False, may_decide) for code, r in found.items()]


def _visible_result(web: Web, result_id: int) -> IndicatorResult | None:
    """The result, when the user may see it (a department member: their department's)."""
    row = web.session.get(IndicatorResult, result_id)
    sees_all = web.actor.role in ROLES_SEEING_ALL
    return row if row is not None and (sees_all or row.department_id == web.actor.department_id) else None


def _readable(web: Web, stored_path: str) -> Path | None:
    """The stored file, when it lies inside the evidence folder."""
    path = Path(stored_path).resolve()
    root = web.runtime.settings.evidence_dir.resolve()
    return path if path.is_relative_to(root) and path.is_file() else None
