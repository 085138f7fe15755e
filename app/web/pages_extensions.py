"""Extension requests (延期审批): pending ones with approve / deny forms, and those already decided."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response
from sqlalchemy import select

from app.web.deps import Web, page_user
from app.web.pages_common import UploadLimit, see_other
from app.web.pages_items import TARGET_LABELS
from states import extensions
from states.errors import InvalidInput, NotFound
from states.model import Item, User
from states.permissions import refusal

router = APIRouter(route_class=UploadLimit, include_in_schema=False)

DECISIONS = {"approve": True, "deny": False}


@router.get("/extensions")
def extension_list(web: Web = Depends(page_user)) -> Response:
    rows = extensions.extensions(web.session, web.actor)
    item_ids = {e.item_id for e in rows}
    user_ids = {e.requested_by for e in rows} | {e.decided_by for e in rows if e.decided_by}
    titles = dict(
        web.session.execute(select(Item.id, Item.title).where(Item.id.in_(item_ids))).tuples().all()
    )
    names = dict(web.session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).tuples().all())
    return web.render("extensions.html", pending=[e for e in rows if e.status == "pending"],
                      decided=[e for e in rows if e.status != "pending"], titles=titles, names=names,
                      may_decide=refusal(web.actor, "decide_extension") is None, TARGET_LABELS=TARGET_LABELS,
                      EXTENSION_LABELS=extensions.EXTENSION_LABELS)  # fmt: skip


@router.post("/extensions/{extension_id}/{decision}")
def decide(extension_id: int, decision: str, csrf: str = Form(""), note: str = Form(""),
           web: Web = Depends(page_user)) -> Response:  # fmt: skip
    """批准 / 驳回 (a leader or the office); a denial says why."""
    web.check_csrf(csrf)
    if decision not in DECISIONS:
        raise NotFound("操作", decision)
    if not DECISIONS[decision] and not note.strip():
        raise InvalidInput("驳回理由", note, "不能为空")
    extensions.decide_extension(web.session, web.runtime.env, extension_id, web.actor, web.now,
                                approve=DECISIONS[decision], note=note.strip() or None)  # fmt: skip
    return see_other("/extensions")
