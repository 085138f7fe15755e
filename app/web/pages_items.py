"""One item (事项详情): details, deadlines, history, evidence, and a form per action the user may take."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import FileResponse, Response
from sqlalchemy import select

from app import files
from app.render import EVENT_LABELS
from app.web.deps import Web, page_user
from app.web.pages_common import (
    UploadLimit,
    attachment,
    local_time,
    read_uploads,
    required_date,
    see_other,
    upload_limit,
    visible_item,
)
from states import extensions, service
from states.errors import STATE_LABELS, NotFound
from states.escalation import LEVEL_LABELS
from states.lifecycle import REASON_REQUIRED
from states.model import Escalation, Evidence, Extension, ItemEvent
from states.permissions import can_see
from states.queries import escalations, events, view

router = APIRouter(route_class=UploadLimit, include_in_schema=False)

#: Actions whose form is a version and one text (a note, or a reason where one is required).
TEXT_ACTIONS = frozenset(service.LIFECYCLE) - {"file_measures"}
TARGET_LABELS = {"measures_due": "整改措施期限", "completion_due": "整改完成期限"}
#: Content types evidence is served with, by its stored (sniffed) extension.
CONTENT_TYPES = {
    ".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".gif": "image/gif",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".txt": "text/plain; charset=utf-8", ".csv": "text/csv; charset=utf-8",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Step:
    """One line of the item's history (办理记录)."""

    at: str
    who: str
    action: str
    change: str
    reason: str | None
    detail: str | None


@dataclass(frozen=True, slots=True)
class Rung:
    """One level the item reached (催办督办记录)."""

    day: str
    level: str
    target: str
    due: str
    send: str


def _rung(web: Web, e: Escalation) -> Rung:
    tz = web.runtime.env.tz
    return Rung(day=f"{e.created_at.astimezone(tz):%Y-%m-%d}", level=LEVEL_LABELS.get(e.level, e.level),
                target=TARGET_LABELS.get(e.target, e.target), due=e.due.isoformat(),
                send=f"{e.due_at.astimezone(tz):%Y-%m-%d %H:%M}")  # fmt: skip


@router.get("/items/{item_id}")
def item_page(item_id: int, web: Web = Depends(page_user)) -> Response:
    item = visible_item(web, item_id)
    return web.render(
        "item.html",
        item=item,
        v=view(item, web.today, web.runtime.env.calendar),
        actions=service.available_actions(item, web.actor),
        history=[_step(web, e, who) for e, who in events(web.session, item_id)],
        escalations=[_rung(web, e) for e in escalations(web.session, item_id)],
        evidence=_evidence(web, item_id),
        requests=_requests(web, item_id),
        targets=[(t, label, getattr(item, t)) for t, label in TARGET_LABELS.items() if getattr(item, t)],
        TARGET_LABELS=TARGET_LABELS,
        EXTENSION_LABELS=extensions.EXTENSION_LABELS,
        REASON_REQUIRED=REASON_REQUIRED,
        TEXT_ACTIONS=TEXT_ACTIONS,
        max_upload_mb=web.runtime.settings.max_upload_mb,
    )


@router.post("/items/{item_id}/actions/{action}")
def act(item_id: int, action: str, csrf: str = Form(""), version: int = Form(...), text: str = Form(""),
        web: Web = Depends(page_user)) -> Response:  # fmt: skip
    """交办、核验、退回、销号、重新打开、撤销: the service checks the state, the role and the version."""
    web.check_csrf(csrf)
    if action not in TEXT_ACTIONS:
        raise NotFound("操作", action)
    visible_item(web, item_id)
    words = {"reason" if action in REASON_REQUIRED else "note": text.strip() or None}
    service.LIFECYCLE[action](web.session, web.runtime.env, item_id, web.actor, web.now, expected_version=version,
                              **words)  # fmt: skip
    return see_other(f"/items/{item_id}")


@router.post("/items/{item_id}/measures")
def file_measures(item_id: int, csrf: str = Form(""), version: int = Form(...), measures: str = Form(""),
                  evidence: list[UploadFile | str] = File([]), web: Web = Depends(page_user)) -> Response:  # fmt: skip
    """提交整改措施: evidence is stored by content; if the filing is refused, the new files are removed."""
    web.check_csrf(csrf)
    visible_item(web, item_id)
    limit = upload_limit(web.request)
    uploads = read_uploads(evidence, limit)
    with files.staged_uploads(uploads, web.runtime.settings.evidence_dir, limit=limit) as stored:
        service.file_measures(web.session, web.runtime.env, item_id, web.actor, web.now, measures=measures,
                              evidence=stored, expected_version=version)  # fmt: skip
    return see_other(f"/items/{item_id}")


@router.post("/items/{item_id}/extension")
def request_extension(item_id: int, csrf: str = Form(""), target: str = Form(""), new_due: str = Form(""),
                      reason: str = Form(""), web: Web = Depends(page_user)) -> Response:  # fmt: skip
    """申请延期 (the lead department)."""
    web.check_csrf(csrf)
    visible_item(web, item_id)
    extensions.request_extension(web.session, web.runtime.env, item_id, web.actor, web.now, target=target,
                                 new_due=required_date(new_due, "延期至"), reason=reason)  # fmt: skip
    return see_other(f"/items/{item_id}")


@router.get("/evidence/{evidence_id}")
def evidence_file(evidence_id: int, web: Web = Depends(page_user)) -> Response:
    """A stored evidence file, to those who may see its item, always as a download."""
    found = web.session.get(Evidence, evidence_id)
    path = _readable(web, found)
    if found is None or path is None:
        raise NotFound("佐证材料", evidence_id)
    headers = {"Content-Disposition": attachment(found.file_name), "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": "sandbox", "Cache-Control": "private, no-store"}  # fmt: skip
    return FileResponse(
        path, media_type=CONTENT_TYPES.get(path.suffix, "application/octet-stream"), headers=headers
    )


def _evidence(web: Web, item_id: int) -> list[Evidence]:
    return list(
        web.session.scalars(select(Evidence).where(Evidence.item_id == item_id).order_by(Evidence.id))
    )


def _requests(web: Web, item_id: int) -> list[Extension]:
    """The item's extension requests, newest first."""
    q = select(Extension).where(Extension.item_id == item_id).order_by(Extension.id.desc())
    return list(web.session.scalars(q))


def _readable(web: Web, evidence: Evidence | None) -> Path | None:
    """The stored file, when the user may see its item and it lies inside the evidence folder."""
    if evidence is None or not can_see(web.actor, service.get_item(web.session, evidence.item_id)):
        return None
    path = Path(evidence.stored_path).resolve()
    root = web.runtime.settings.evidence_dir.resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


def _step(web: Web, event: ItemEvent, who: str | None) -> Step:
    change = ""
    if event.to_state and event.from_state != event.to_state:
        change = f"{STATE_LABELS.get(event.from_state or '', '—')} → {STATE_LABELS.get(event.to_state, event.to_state)}"
    return Step(at=local_time(web, event.at), who=who or "系统", action=EVENT_LABELS.get(event.action, event.action),
                change=change, reason=event.reason, detail=_detail(event))  # fmt: skip


def _detail(event: ItemEvent) -> str | None:
    """What an event's data says, in words: the measures filed, the dates an extension moves."""
    data = event.data or {}
    if event.action == "file_measures":
        names = "、".join(f["file_name"] for f in data.get("evidence", []))
        return data.get("measures", "") + (f"（佐证材料：{names}）" if names else "")
    if "target" in data and "to" in data:
        return (
            f"{TARGET_LABELS.get(data['target'], data['target'])}：{data.get('from') or '—'} → {data['to']}"
        )
    if event.action == "recompute_deadlines":
        before, after = data.get("before", {}), data.get("after", {})
        return "；".join(f"{label}：{before.get(t) or '—'} → {after.get(t) or '—'}"
                        for t, label in TARGET_LABELS.items() if before.get(t) != after.get(t))  # fmt: skip
    return None
