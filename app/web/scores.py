"""Assessment scorecards (考核评分): the latest stored scorecard of each department, one department's
explanation, and the office's recomputation. Leaders, the office and admins see every department;
a department member sees their own card only."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response

from app.web.deps import Web, page_user
from app.web.pages_common import local_time, see_other
from states import assessment, scoring
from states.permissions import refusal

router = APIRouter(include_in_schema=False)


def rules_path(web: Web) -> Path:
    return web.runtime.settings.config_dir / "scoring.toml"


def _link(department: str, period: str) -> str:
    """The URL of one department's scorecard (any character of the name is safe in it)."""
    return f"/scores/{quote(department, safe='')}?period={quote(period, safe='')}"


@router.get("/scores")
def scores_page(period: str = "", web: Web = Depends(page_user)) -> Response:
    rules, sha = assessment.read_rules(rules_path(web))
    chosen = period.strip() or rules.period
    cards = assessment.latest_scorecards(web.session, web.actor, chosen)
    return web.render(
        "scores.html", cards=cards, period=chosen, rules=rules, sha=sha, link=_link,
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


@router.get("/scores/{department:path}")
def score_detail(department: str, period: str = "", web: Web = Depends(page_user)) -> Response:
    """One department's newest scorecard: every step, the indicator lines, bonuses and deductions."""
    rules, sha = assessment.read_rules(rules_path(web))
    card = assessment.latest_scorecard(web.session, web.actor, period.strip() or rules.period, department)
    return web.render("score_explain.html", card=card, data=card.data, current_sha=sha,
                      computed=local_time(web, card.computed_at),
                      EFFECT_LABELS=scoring.EFFECT_LABELS)  # fmt: skip
