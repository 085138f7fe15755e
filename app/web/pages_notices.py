"""Notices (通报): the list, one notice with its items and report links, registering notices and items."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response
from sqlalchemy import func, select

from app.cli import split_names
from app.web.deps import Web, page_user
from app.web.pages_common import UploadLimit, required_date, see_other
from states import intake, org
from states.errors import NotFound
from states.model import Item, Notice
from states.permissions import refusal
from states.queries import list_items, notices, visible

router = APIRouter(route_class=UploadLimit, include_in_schema=False)


@router.get("/notices")
def notice_list(web: Web = Depends(page_user)) -> Response:
    counts = select(Item.notice_id, func.count()).group_by(Item.notice_id)
    mine = visible(web.actor)
    if mine is not None:
        counts = counts.where(mine)
    return web.render("notices.html", notices=notices(web.session, web.actor),
                      counts=dict(web.session.execute(counts).tuples().all()),
                      may_create=refusal(web.actor, "create_notice") is None)  # fmt: skip


@router.post("/notices")
def create_notice(csrf: str = Form(""), title: str = Form(""), issuer: str = Form(""), received_on: str = Form(""),
                  doc_number: str = Form(""), web: Web = Depends(page_user)) -> Response:  # fmt: skip
    """登记通报 (the office)."""
    web.check_csrf(csrf)
    notice = intake.create_notice(web.session, web.runtime.env, web.actor, web.now, title=title, issuer=issuer,
                                  received_on=required_date(received_on, "收文日期"),
                                  doc_number=doc_number.strip() or None)  # fmt: skip
    return see_other(f"/notices/{notice.id}")


@router.get("/notices/{notice_id}")
def notice_page(notice_id: int, imported: int | None = None, web: Web = Depends(page_user)) -> Response:
    notice = web.session.get(Notice, notice_id)
    views = list_items(web.session, web.runtime.env.calendar, web.actor, web.today, notice_id=notice_id)
    if notice is None or (visible(web.actor) is not None and not views):  # a department sees its notices only
        raise NotFound("通报", notice_id)
    may_add = refusal(web.actor, "create_item") is None
    leaders = [u for u in org.users(web.session, web.actor) if u.role == "leader"] if may_add else []
    return web.render("notice.html", notice=notice, views=views, may_add=may_add, imported=imported,
                      departments=org.departments(web.session), leaders=leaders)  # fmt: skip


@router.post("/notices/{notice_id}/items")
def add_item(notice_id: int, csrf: str = Form(""), category: str = Form(""), title: str = Form(""),
             detail: str = Form(""), lead: str = Form(""), coop: str = Form(""), leader: str = Form(""),
             measures_rule: str = Form(""), completion_rule: str = Form(""),
             web: Web = Depends(page_user)) -> Response:  # fmt: skip
    """登记事项 (the office): deadlines are computed from the rules and the notice's received date."""
    web.check_csrf(csrf)
    spec = intake.ItemSpec(category=category, title=title, detail=detail.strip() or None,
                           lead_departments=split_names(lead), cooperating_departments=split_names(coop),
                           lead_leader=leader.strip() or None, measures_rule=measures_rule.strip() or None,
                           completion_rule=completion_rule.strip() or None)  # fmt: skip
    intake.create_items(web.session, web.runtime.env, notice_id, [spec], web.actor, web.now)
    return see_other(f"/notices/{notice_id}")
