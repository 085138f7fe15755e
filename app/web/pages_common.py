"""What the office and department pages share: the upload limit, the redirect after a form, the
item a user may open, reading uploaded files within the limit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Coroutine, Sequence
from typing import Any
from urllib.parse import quote

from fastapi import Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.types import Message, Receive

from app.cli import parse_date
from app.web.deps import Web, error_page, runtime
from states.errors import InvalidInput, ItemNotFound
from states.model import Item
from states.permissions import can_see
from states.service import get_item

MB = 1024 * 1024


class BodyTooLarge(HTTPException):
    """A request body passed the upload limit while it arrived."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413, f"上传内容过大：每次提交不能超过 {limit // MB} MB，未保存任何内容。请压缩或分次上传。"
        )


class UploadLimit(APIRoute):
    """A route whose request body is counted as it arrives: past ``max_upload_mb`` the request is
    refused with a 413 page before the handler runs (nothing is stored)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            limit = upload_limit(request)
            try:
                if _declared_length(request) > limit:
                    raise BodyTooLarge(limit)
                return await handler(Request(request.scope, _counted(request.receive, limit)))
            except BodyTooLarge as exc:
                return error_page(request, exc.status_code, exc.detail)

        return limited


def upload_limit(request: Request) -> int:
    """The largest request body (and evidence file) accepted, in bytes."""
    return runtime(request).settings.max_upload_mb * MB


def _declared_length(request: Request) -> int:
    value = request.headers.get("content-length", "")
    return int(value) if value.isdigit() else 0


def _counted(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises :class:`BodyTooLarge` once more than ``limit`` body bytes came in."""
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            raise BodyTooLarge(limit)
        return message

    return counted


def see_other(url: str) -> RedirectResponse:
    """The answer to a successful form post (Post/Redirect/Get)."""
    return RedirectResponse(url, status_code=303)


def visible_item(web: Web, item_id: int) -> Item:
    """The item, when the user may see it; another department's item is "not found" (404)."""
    item = get_item(web.session, item_id)
    if not can_see(web.actor, item):
        raise ItemNotFound(item_id)
    return item


def read_uploads(uploads: Sequence[UploadFile | str], limit: int) -> list[tuple[str, bytes]]:
    """The chosen files' names and contents, reading at most ``limit`` bytes of each.

    An empty file input (no file chosen: the browser sends an empty string) is skipped.

    Raises:
        InvalidInput: a file is larger than ``limit``.
    """
    out = []
    for upload in uploads:
        if isinstance(upload, str) or not upload.filename:
            continue
        data = upload.file.read(limit + 1)
        if len(data) > limit:
            raise InvalidInput("佐证材料", upload.filename, f"超过大小上限 {limit // MB} MB")
        out.append((upload.filename, data))
    return out


def local_time(web: Web, at: dt.datetime) -> str:
    """A stored (UTC) time as the office reads it: ``2026-09-15 09:00``."""
    return at.astimezone(web.runtime.env.tz).strftime("%Y-%m-%d %H:%M")


def optional_int(value: str, field: str) -> int | None:
    """A number typed in a filter or form field; blank means none."""
    value = value.strip()
    if not value:
        return None
    if not value.isdigit():
        raise InvalidInput(field, value, "应为数字")
    return int(value)


def attachment(file_name: str) -> str:
    """A ``Content-Disposition`` that downloads under ``file_name`` (UTF-8, RFC 6266)."""
    return f"attachment; filename*=UTF-8''{quote(file_name, safe='')}"


def required_date(value: str, field: str) -> dt.date:
    """A date typed as ``YYYY-MM-DD`` (what ``<input type="date">`` sends)."""
    day = parse_date(value.strip() or None, field)
    if day is None:
        raise InvalidInput(field, value, "不能为空")
    return day
