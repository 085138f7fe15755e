"""The JSON API (/api/v1): token authentication, the same services and permission rules as the CLI.

Every endpoint authenticates with ``Authorization: Bearer <token>`` (tokens come from
``rectiflow token create USER``) and acts as the token's user: reads are filtered by role like the
CLI's, and every change calls the same service function the CLI calls, which checks permissions
and writes the item and its event in one transaction. Engine errors become JSON
``{"error": {"code", "message"}}`` with 400/401/403/404/409 (see :func:`app.web.create_app`).

An item a department may not see answers 404 (its existence is not revealed), for reads and for
changes alike.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Security, UploadFile
from fastapi.security import HTTPBearer
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError
from sqlalchemy import select

from app import files
from app.render import EVENT_LABELS
from app.web.deps import Api, api_user
from states import extensions, intake, queries, service
from states.errors import ACTION_LABELS, STATE_LABELS, InvalidInput, ItemNotFound, NotFound
from states.escalation import LEVEL_LABELS
from states.lifecycle import STATES
from states.model import ROLE_LABELS, Department, Evidence, Extension, Item, Notice, User
from states.permissions import can_see

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
TARGET_LABELS = {"measures_due": "整改措施期限", "completion_due": "整改完成期限"}

#: The fields of a ledger row, read straight off the view (``ItemView.as_json``'s ``asdict`` copies
#: every list and costs ~10× more for a page; the response model formats the dates).
VIEW_FIELDS = tuple(f.name for f in dataclasses.fields(queries.ItemView))

T_ME, T_ITEMS, T_ACTIONS = "账户 Account", "事项 Items", "办理 Item actions"
T_EXT, T_NOTICES, T_STATS = "延期 Extensions", "通报 Notices", "统计 Statistics"

# Only documents the scheme in OpenAPI (the "Authorize" button of /api/docs); ``api_user`` checks the token.
BEARER = HTTPBearer(auto_error=False, scheme_name="令牌 Bearer token",
                    description="接口令牌：rectiflow token create 用户名（Authorization: Bearer rf_…）")  # fmt: skip


class ErrorBody(BaseModel):
    code: str = Field(description="错误类别：unauthenticated, forbidden, not_found, conflict, invalid_transition, "
                                  "invalid_input …")  # fmt: skip
    message: str = Field(description="中文说明")


class ErrorOut(BaseModel):
    error: ErrorBody


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "输入有误 Invalid input"},
    401: {"model": ErrorOut, "description": "缺少或无效的令牌 Missing, unknown or revoked token"},
    403: {"model": ErrorOut, "description": "无权操作 Not allowed for this user"},
    404: {"model": ErrorOut, "description": "不存在或不可见 Not found (or not visible to this user)"},
    409: {"model": ErrorOut, "description": "状态不允许或已被他人修改 Invalid transition or stale version"},
}

router = APIRouter(prefix="/api/v1", dependencies=[Security(BEARER), Depends(api_user)], responses=ERRORS)

# --- input -------------------------------------------------------------------------------------------------

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date(value: object) -> object:
    """``YYYY-MM-DD`` only, refused with a Chinese message."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and ISO_DATE.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise PydanticCustomError("date_format", "应为 YYYY-MM-DD 格式的有效日期")


def _names(value: object) -> object:
    """Department names as a JSON list, or typed ``A,B`` / ``A，B`` / ``A、B`` like the CLI."""
    if isinstance(value, str):
        return [v.strip() for v in re.split(r"[,，、;；]", value) if v.strip()]
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_date)]
Names = Annotated[list[str], BeforeValidator(_names)]
Version = Annotated[int | None, Field(description="读取时的版本号；与当前版本不符则 409、不做修改")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoteBody(Body):
    expected_version: Version = None
    note: str | None = Field(None, description="说明（可选）")


class ReasonBody(Body):
    expected_version: Version = None
    reason: str | None = Field(None, description="原因（必填）")


class MeasuresBody(Body):
    expected_version: Version = None
    measures: str | None = Field(None, description="整改措施（必填）")


class ExtensionIn(Body):
    target: str = Field("completion_due", description="measures_due（整改措施）| completion_due（整改完成）")
    new_due: IsoDate = Field(description="延期至 YYYY-MM-DD")
    reason: str = Field(description="延期理由")


class DecisionIn(Body):
    approve: bool = Field(description="true 批准，false 驳回")
    note: str | None = Field(None, description="审批意见（驳回时必填）")


class NoticeIn(Body):
    title: str = Field(description="通报标题")
    issuer: str = Field(description="发文单位")
    received_on: IsoDate = Field(description="收文日期 YYYY-MM-DD")
    doc_number: str | None = Field(None, description="文号，如 绍市中医〔2024〕61号")


class ItemIn(Body):
    """The fields of ``rectiflow item add``."""

    category: str = Field(description="方面，如 医疗方面")
    title: str = Field(description="问题")
    lead: Names = Field(description="牵头科室（列表，或用逗号分隔）")
    coop: Names = Field(default_factory=list, description="配合科室（列表，或用逗号分隔）")
    detail: str | None = Field(None, description="问题详情")
    leader: str | None = Field(None, description="牵头领导（用户名）")
    measures: str | None = Field(
        None, description="整改措施期限规则：workdays:N | days:N | fixed:YYYY-MM-DD | complaint"
    )
    completion: str | None = Field(None, description="整改完成期限规则（同上）")
    start: IsoDate | None = Field(None, description="起算日（不计入），默认为收文日期")


# --- output ------------------------------------------------------------------------------------------------


class MeOut(BaseModel):
    id: int
    username: str
    name: str
    role: str
    role_label: str
    department: str | None


class ItemOut(BaseModel):
    """One ledger row (:class:`states.queries.ItemView`)."""

    id: int
    notice_id: int
    seq: int
    category: str
    title: str
    state: str
    state_label: str
    lead_departments: list[str]
    cooperating_departments: list[str]
    lead_leader: str | None
    measures_due: dt.date | None
    completion_due: dt.date | None
    provisional: bool = Field(description="期限暂定（日历数据未到位）")
    pending_target: str | None = Field(description="当前待完成的期限：measures_due | completion_due")
    pending_due: dt.date | None
    overdue_workdays: int = Field(description="逾期工作日数")
    closed_on: dt.date | None
    closed_on_time: bool | None
    version: int = Field(description="版本号：办理时作为 expected_version 传回")
    light: str | None = Field(description="红绿灯：red 逾期，yellow 2个工作日内到期，green 正常")


class ItemPage(BaseModel):
    items: list[ItemOut]
    total: int = Field(description="符合条件的事项总数")
    limit: int
    offset: int


class EventOut(BaseModel):
    id: int
    at: dt.datetime
    actor: str | None = Field(description="操作人姓名")
    action: str
    action_label: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    data: dict[str, Any] | None


class EvidenceOut(BaseModel):
    id: int
    file_name: str
    size: int
    sha256: str
    event_id: int | None
    uploaded_by: str | None
    uploaded_at: dt.datetime


class ExtensionOut(BaseModel):
    id: int
    item_id: int
    item_title: str
    target: str
    target_label: str
    current_due: dt.date | None
    requested_due: dt.date
    reason: str
    status: str
    status_label: str
    requested_by: str | None
    requested_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_note: str | None


class EscalationOut(BaseModel):
    level: str = Field(description="reminder | due_today | overdue | supervision | talk")
    level_label: str
    target: str
    due: dt.date = Field(description="该级别针对的期限")
    scanned_at: dt.datetime
    send_at: dt.datetime


class ItemDetail(ItemOut):
    notice_title: str
    detail: str | None
    measures: str | None
    measures_filed_on: dt.date | None
    available_actions: list[str] = Field(description="当前用户现在可做的操作")
    history: list[EventOut] = Field(description="办理记录，按时间先后")
    evidence: list[EvidenceOut]
    extensions: list[ExtensionOut]
    escalations: list[EscalationOut] = Field(description="催办督办记录：事项到达过的升级级别，按时间先后")


class TransitionOut(BaseModel):
    item_id: int
    action: str
    action_label: str
    from_state: str
    to_state: str
    to_state_label: str
    version: int
    event_id: int
    at: dt.datetime


class ActionResult(BaseModel):
    message: str
    transition: TransitionOut
    item: ItemOut


class ExtensionResult(BaseModel):
    message: str
    extension: ExtensionOut
    item: ItemOut


class NoticeOut(BaseModel):
    id: int
    title: str
    issuer: str
    doc_number: str | None
    received_on: dt.date


class NoticeDetail(NoticeOut):
    items: list[ItemOut] = Field(description="本通报中当前用户可见的事项（分页）")
    total: int
    limit: int
    offset: int


class StatsRow(BaseModel):
    department: str
    total: int
    closed: int
    closed_on_time: int
    overdue: int
    withdrawn: int
    closure_rate: float
    on_time_rate: float


class StatsOut(BaseModel):
    as_of: dt.date
    departments: list[StatsRow]
    overall: StatsRow


# --- helpers -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    limit: int
    offset: int


async def page(
    limit: int = Query(DEFAULT_LIMIT, description=f"每页条数（1–{MAX_LIMIT}）"),
    offset: int = Query(0, description="跳过的条数（≥0）"),
) -> Page:
    """The page asked for. ``async``: it only checks numbers, so it runs on the event loop, not in a thread."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("每页条数 limit", limit, f"应为 1 至 {MAX_LIMIT} 之间的整数")
    if offset < 0:
        raise InvalidInput("跳过条数 offset", offset, "不能为负数")
    return Page(limit, offset)


def _visible_item(api: Api, item_id: int) -> Item:
    """The item, or 404 when it does not exist or the actor may not see it (the same answer)."""
    item = service.get_item(api.session, item_id)
    if not can_see(api.actor, item):
        raise ItemNotFound(item_id)
    return item


def _row(view: queries.ItemView) -> dict[str, Any]:
    return {f: getattr(view, f) for f in VIEW_FIELDS}


def _item(api: Api, item: Item) -> dict[str, Any]:
    return _row(queries.view(item, api.today, api.runtime.env.calendar))


def _names_of(api: Api, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {i: name for i, name in api.session.execute(select(User.id, User.name).where(User.id.in_(wanted)))}


def _extensions_json(api: Api, rows: list[Extension]) -> list[dict[str, Any]]:
    names = _names_of(api, [i for e in rows for i in (e.requested_by, e.decided_by)])
    item_ids = {e.item_id for e in rows}
    titles = {i: t for i, t in api.session.execute(select(Item.id, Item.title).where(Item.id.in_(item_ids)))}
    return [
        {
            "id": e.id, "item_id": e.item_id, "item_title": titles.get(e.item_id, ""), "target": e.target,
            "target_label": TARGET_LABELS.get(e.target, e.target), "current_due": e.current_due,
            "requested_due": e.requested_due, "reason": e.reason, "status": e.status,
            "status_label": extensions.EXTENSION_LABELS.get(e.status, e.status),
            "requested_by": names.get(e.requested_by), "requested_at": e.requested_at,
            "decided_by": names.get(e.decided_by) if e.decided_by else None, "decided_at": e.decided_at,
            "decision_note": e.decision_note,
        }
        for e in rows
    ]  # fmt: skip


def _transition(api: Api, item_id: int, action: str, **kw: Any) -> dict[str, Any]:
    """Run one lifecycle service on a visible item; the new item comes back with the transition."""
    item = _visible_item(api, item_id)
    done = service.LIFECYCLE[action](api.session, api.runtime.env, item_id, api.actor, api.now, **kw)
    return {
        "message": f"事项 {done.item_id} 已{ACTION_LABELS[action]}，当前状态：{STATE_LABELS[done.to_state]}",
        "transition": {
            "item_id": done.item_id, "action": action, "action_label": ACTION_LABELS[action],
            "from_state": done.from_state, "to_state": done.to_state,
            "to_state_label": STATE_LABELS[done.to_state], "version": done.version, "event_id": done.event_id,
            "at": done.at,
        },
        "item": _item(api, item),
    }  # fmt: skip


def _check_state(state: str | None) -> None:
    if state is not None and state not in STATES:
        raise InvalidInput("状态 state", state, f"可选值：{', '.join(STATES)}")


def _check_department(api: Api, department: str | None) -> None:
    """An unknown department is an error, not an empty list (as in the CLI)."""
    if department and api.session.scalar(select(Department.id).where(Department.name == department)) is None:
        raise InvalidInput("科室 department", department, "没有这个科室")


# --- account -----------------------------------------------------------------------------------------------


@router.get("/me", tags=[T_ME], response_model=MeOut, summary="当前用户 / The token's user")
def me(api: Api = Depends(api_user)) -> dict[str, Any]:
    """令牌所代表的用户：角色与所属科室。"""
    a = api.actor
    dept = api.session.get(Department, a.department_id) if a.department_id is not None else None
    return {"id": a.id, "username": a.username, "name": a.name, "role": a.role,
            "role_label": ROLE_LABELS.get(a.role, a.role), "department": dept.name if dept else None}  # fmt: skip


# --- items -------------------------------------------------------------------------------------------------


@router.get("/items", tags=[T_ITEMS], response_model=ItemPage, summary="事项列表（台账） / List items")
def list_items(
    notice_id: int | None = Query(None, description="只看此通报"),
    department: str | None = Query(None, description="只看此科室（牵头或配合）"),
    state: str | None = Query(None, description=f"只看此状态：{', '.join(STATES)}"),
    overdue: bool = Query(False, description="只看逾期事项"),
    pg: Page = Depends(page),
    api: Api = Depends(api_user),
) -> dict[str, Any]:
    """按角色只列出可见的事项（督查办、院领导看全部，科室看本科室牵头或配合的），按通报和序号排列。"""
    _check_state(state)
    _check_department(api, department)
    filters: dict[str, Any] = {"notice_id": notice_id, "department": department, "state": state,
                               "overdue": overdue}  # fmt: skip
    calendar = api.runtime.env.calendar
    rows = queries.list_items(api.session, calendar, api.actor, api.today, limit=pg.limit, offset=pg.offset,
                              **filters)  # fmt: skip
    total = queries.count_items(api.session, calendar, api.actor, api.today, **filters)
    return {"items": [_row(r) for r in rows], "total": total, "limit": pg.limit, "offset": pg.offset}


@router.get("/items/{item_id}", tags=[T_ITEMS], response_model=ItemDetail,
            summary="事项详情 / Item with history, evidence and available actions")  # fmt: skip
def get_item(item_id: int, api: Api = Depends(api_user)) -> dict[str, Any]:
    """事项详情、办理记录、佐证材料、延期申请，以及当前用户现在可做的操作。看不到的事项回答 404。"""
    item = _visible_item(api, item_id)
    history = [
        {"id": e.id, "at": e.at, "actor": name, "action": e.action,
         "action_label": EVENT_LABELS.get(e.action, e.action), "from_state": e.from_state,
         "to_state": e.to_state, "reason": e.reason, "data": e.data}
        for e, name in queries.events(api.session, item_id)
    ]  # fmt: skip
    evidence = list(
        api.session.scalars(select(Evidence).where(Evidence.item_id == item_id).order_by(Evidence.id))
    )
    uploaders = _names_of(api, [f.uploaded_by for f in evidence])
    exts = list(
        api.session.scalars(select(Extension).where(Extension.item_id == item_id).order_by(Extension.id))
    )
    return _item(api, item) | {
        "notice_title": item.notice.title, "detail": item.detail, "measures": item.measures,
        "measures_filed_on": item.measures_filed_on,
        "available_actions": service.available_actions(item, api.actor),
        "history": history,
        "evidence": [{"id": f.id, "file_name": f.file_name, "size": f.size, "sha256": f.sha256,
                      "event_id": f.event_id, "uploaded_by": uploaders.get(f.uploaded_by),
                      "uploaded_at": f.uploaded_at} for f in evidence],
        "extensions": _extensions_json(api, exts),
        "escalations": [{"level": e.level, "level_label": LEVEL_LABELS.get(e.level, e.level), "target": e.target,
                         "due": e.due, "scanned_at": e.created_at, "send_at": e.due_at}
                        for e in queries.escalations(api.session, item_id)],
    }  # fmt: skip


# --- lifecycle actions (the CLI's assign … withdraw) ----------------------------------------------------------


@router.post("/items/{item_id}/assign", tags=[T_ACTIONS], response_model=ActionResult,
             summary="交办 / Assign (office)")  # fmt: skip
def assign(item_id: int, body: NoteBody | None = None, api: Api = Depends(api_user)) -> dict[str, Any]:
    """督查办把「已下发」的事项交办给牵头科室。"""
    b = body or NoteBody()
    return _transition(api, item_id, "assign", note=b.note, expected_version=b.expected_version)


@router.post("/items/{item_id}/file_measures", tags=[T_ACTIONS], response_model=ActionResult,
             summary="提交整改措施 / File measures (lead department)")  # fmt: skip
def file_measures(
    item_id: int, body: MeasuresBody | None = None, api: Api = Depends(api_user)
) -> dict[str, Any]:
    """牵头科室提交整改措施（不带附件；带佐证材料请用 ``file_measures/upload``）。"""
    b = body or MeasuresBody()
    return _transition(api, item_id, "file_measures", measures=b.measures or "",
                       expected_version=b.expected_version)  # fmt: skip


@router.post("/items/{item_id}/file_measures/upload", tags=[T_ACTIONS], response_model=ActionResult,
             summary="提交整改措施和佐证材料 / File measures with evidence files (multipart)")  # fmt: skip
def file_measures_upload(
    item_id: int,
    measures: str = Form("", description="整改措施（必填）"),
    expected_version: int | None = Form(None, description="读取时的版本号"),
    evidence: list[UploadFile] = File(default=[], description="佐证材料，可多个；按内容识别类型"),
    api: Api = Depends(api_user),
) -> dict[str, Any]:
    """multipart/form-data 提交整改措施和佐证材料。文件按内容识别类型（改了扩展名的程序等会被拒绝，400）；
    任何一步被拒绝，已保存的文件都会删除，事项不变。"""
    _visible_item(api, item_id)  # nothing is stored for an item the caller may not see
    settings = api.runtime.settings
    limit = settings.max_upload_mb * 1024 * 1024
    uploads = [(u.filename, u.file.read(limit + 1)) for u in evidence if u.filename]
    with files.staged_uploads(uploads, root=settings.evidence_dir, limit=limit) as stored:
        return _transition(api, item_id, "file_measures", measures=measures, evidence=stored,
                           expected_version=expected_version)  # fmt: skip


@router.post("/items/{item_id}/verify", tags=[T_ACTIONS], response_model=ActionResult,
             summary="核验通过 / Verify (office)")  # fmt: skip
def verify(item_id: int, body: NoteBody | None = None, api: Api = Depends(api_user)) -> dict[str, Any]:
    """督查办核验通过已提交的整改措施。"""
    b = body or NoteBody()
    return _transition(api, item_id, "verify", note=b.note, expected_version=b.expected_version)


@router.post("/items/{item_id}/reject", tags=[T_ACTIONS], response_model=ActionResult,
             summary="退回 / Send back (office, reason required)")  # fmt: skip
def reject(item_id: int, body: ReasonBody | None = None, api: Api = Depends(api_user)) -> dict[str, Any]:
    """督查办退回整改措施，须写原因。"""
    b = body or ReasonBody()
    return _transition(api, item_id, "reject", reason=b.reason, expected_version=b.expected_version)


@router.post("/items/{item_id}/close", tags=[T_ACTIONS], response_model=ActionResult,
             summary="销号 / Close (office)")  # fmt: skip
def close(item_id: int, body: NoteBody | None = None, api: Api = Depends(api_user)) -> dict[str, Any]:
    """督查办对已核验的事项销号。"""
    b = body or NoteBody()
    return _transition(api, item_id, "close", note=b.note, expected_version=b.expected_version)


@router.post("/items/{item_id}/reopen", tags=[T_ACTIONS], response_model=ActionResult,
             summary="重新打开 / Reopen (office, reason required)")  # fmt: skip
def reopen(item_id: int, body: ReasonBody | None = None, api: Api = Depends(api_user)) -> dict[str, Any]:
    """督查办重新打开已销号的事项（如回头看发现反弹），须写原因。"""
    b = body or ReasonBody()
    return _transition(api, item_id, "reopen", reason=b.reason, expected_version=b.expected_version)


@router.post("/items/{item_id}/withdraw", tags=[T_ACTIONS], response_model=ActionResult,
             summary="撤销 / Withdraw (office, reason required)")  # fmt: skip
def withdraw(item_id: int, body: ReasonBody | None = None, api: Api = Depends(api_user)) -> dict[str, Any]:
    """督查办撤销未办结的事项，须写原因。"""
    b = body or ReasonBody()
    return _transition(api, item_id, "withdraw", reason=b.reason, expected_version=b.expected_version)


# --- extensions --------------------------------------------------------------------------------------------


@router.post("/items/{item_id}/extensions", tags=[T_EXT], response_model=ExtensionResult, status_code=201,
             summary="申请延期 / Request an extension (lead department)")  # fmt: skip
def request_extension(item_id: int, body: ExtensionIn, api: Api = Depends(api_user)) -> dict[str, Any]:
    """牵头科室申请把一项期限延后，待院领导或督查办审批。"""
    item = _visible_item(api, item_id)
    ext = extensions.request_extension(api.session, api.runtime.env, item_id, api.actor, api.now,
                                       target=body.target, new_due=body.new_due, reason=body.reason)  # fmt: skip
    return {"message": f"已提交延期申请 {ext.id}：事项 {item_id} 延期至 {ext.requested_due}，待审批",
            "extension": _extensions_json(api, [ext])[0], "item": _item(api, item)}  # fmt: skip


@router.get("/extensions", tags=[T_EXT], response_model=list[ExtensionOut],
            summary="延期申请列表 / List extension requests")  # fmt: skip
def list_extensions(
    pending: bool = Query(False, description="只看待审批"), api: Api = Depends(api_user)
) -> list[dict[str, Any]]:
    """可见事项的延期申请，新的在前。"""
    return _extensions_json(api, extensions.extensions(api.session, api.actor, pending_only=pending))


@router.post("/extensions/{extension_id}/decision", tags=[T_EXT], response_model=ExtensionResult,
             summary="审批延期 / Approve or deny an extension (leader, office)")  # fmt: skip
def decide_extension(extension_id: int, body: DecisionIn, api: Api = Depends(api_user)) -> dict[str, Any]:
    """院领导或督查办批准（期限随之改变）或驳回（须写理由）待审批的延期申请。"""
    if not body.approve and not (body.note and body.note.strip()):
        raise InvalidInput("驳回理由 note", body.note or "", "驳回延期须写明理由")
    ext = extensions.decide_extension(api.session, api.runtime.env, extension_id, api.actor, api.now,
                                      approve=body.approve, note=body.note)  # fmt: skip
    item = service.get_item(api.session, ext.item_id)
    return {"message": f"延期申请 {ext.id} 已{'批准' if body.approve else '驳回'}",
            "extension": _extensions_json(api, [ext])[0], "item": _item(api, item)}  # fmt: skip


# --- notices -----------------------------------------------------------------------------------------------


def _notice(n: Notice) -> dict[str, Any]:
    return {"id": n.id, "title": n.title, "issuer": n.issuer, "doc_number": n.doc_number,
            "received_on": n.received_on}  # fmt: skip


@router.get("/notices", tags=[T_NOTICES], response_model=list[NoticeOut], summary="通报列表 / List notices")
def list_notices(api: Api = Depends(api_user)) -> list[dict[str, Any]]:
    """可见的通报：督查办、院领导看全部，科室看含有本科室事项的通报。"""
    return [_notice(n) for n in queries.notices(api.session, api.actor)]


@router.get("/notices/{notice_id}", tags=[T_NOTICES], response_model=NoticeDetail,
            summary="通报及其事项 / A notice with its items")  # fmt: skip
def get_notice(notice_id: int, pg: Page = Depends(page), api: Api = Depends(api_user)) -> dict[str, Any]:
    """通报和其中当前用户可见的事项（分页）。科室看不到的通报回答 404。"""
    notice = api.session.get(Notice, notice_id)
    calendar = api.runtime.env.calendar
    total = (
        queries.count_items(api.session, calendar, api.actor, api.today, notice_id=notice_id) if notice else 0
    )
    if notice is None or (total == 0 and queries.visible(api.actor) is not None):
        raise NotFound("通报", notice_id)
    rows = queries.list_items(api.session, calendar, api.actor, api.today, notice_id=notice_id,
                              limit=pg.limit, offset=pg.offset)  # fmt: skip
    return _notice(notice) | {"items": [_row(r) for r in rows], "total": total, "limit": pg.limit,
                              "offset": pg.offset}  # fmt: skip


@router.post("/notices", tags=[T_NOTICES], response_model=NoticeOut, status_code=201,
             summary="登记通报 / Register a notice (office)")  # fmt: skip
def create_notice(body: NoticeIn, api: Api = Depends(api_user)) -> dict[str, Any]:
    """督查办登记一份通报（同 rectiflow notice add）。"""
    n = intake.create_notice(api.session, api.runtime.env, api.actor, api.now, title=body.title,
                             issuer=body.issuer, received_on=body.received_on, doc_number=body.doc_number)  # fmt: skip
    return _notice(n)


@router.post("/notices/{notice_id}/items", tags=[T_NOTICES], response_model=ItemOut, status_code=201,
             summary="登记整改事项 / Add an item to a notice (office)")  # fmt: skip
def create_item(notice_id: int, body: ItemIn, api: Api = Depends(api_user)) -> dict[str, Any]:
    """督查办在通报下登记一个整改事项，期限按规则自动计算（同 rectiflow item add）。"""
    spec = intake.ItemSpec(category=body.category, title=body.title, detail=body.detail,
                           lead_departments=body.lead, cooperating_departments=body.coop,
                           lead_leader=body.leader, measures_rule=body.measures,
                           completion_rule=body.completion, start_on=body.start)  # fmt: skip
    try:
        (item,) = intake.create_items(api.session, api.runtime.env, notice_id, [spec], api.actor, api.now)
    except NotFound as exc:
        if exc.kind == "通报":
            raise
        raise InvalidInput(exc.kind, exc.key, "不存在") from exc  # a name in the body: bad input, not a 404
    return _item(api, item)


# --- figures -----------------------------------------------------------------------------------------------


@router.get("/stats", tags=[T_STATS], response_model=StatsOut,
            summary="各科室整改统计 / Figures per lead department and overall")  # fmt: skip
def stats(api: Api = Depends(api_user)) -> dict[str, Any]:
    """各牵头科室及合计：事项数、已销号、按期销号、逾期、撤销、销号率、按期率（同 rectiflow stats --json）。"""
    calendar = api.runtime.env.calendar
    rows = queries.department_stats(api.session, calendar, api.actor, api.today)
    total = queries.overall_stats(api.session, calendar, api.actor, api.today)
    return {"as_of": api.today, "departments": [r.as_json() for r in rows], "overall": total.as_json()}
