"""Documents served to the browser: a notice's rectification report (整改报告, a draft while items are
open) and a closed item's closure record (销号单), written on request from the same code as the CLI."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from app.web.deps import Web, page_user
from flows.closure_record import write_closure_record
from flows.reports import write_report
from flows.runtime import App
from states.errors import ItemNotFound, PermissionDenied
from states.permissions import ROLES_SEEING_ALL, can_see
from states.service import get_item

router = APIRouter(include_in_schema=False)

MEDIA = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}
#: An HTML document is shown in the browser but may run nothing and load nothing.
SANDBOX = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def document(name: str, data: bytes, fmt: str) -> Response:
    """A generated document: HTML shown inline under a strict policy, the others downloaded."""
    disposition = "inline" if fmt == "html" else "attachment"
    headers = {"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}",
               "X-Content-Type-Options": "nosniff", "Content-Security-Policy": SANDBOX}  # fmt: skip
    return Response(data, media_type=MEDIA[fmt], headers=headers)


def _written(write: Callable[[App, int, str, Path], Path], runtime: App, key: int, fmt: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return write(runtime, key, fmt, Path(folder) / f"doc.{fmt}").read_bytes()


@router.get("/notices/{notice_id}/report.{fmt}")
def notice_report(notice_id: int, fmt: str, web: Web = Depends(page_user)) -> Response:
    """整改报告 of a notice (office, leaders): the whole notice, so not for one department."""
    if web.actor.role not in ROLES_SEEING_ALL:
        raise PermissionDenied(web.actor.username, "report", "整改报告涉及全部科室，仅督查办和院领导可下载")
    data = _written(write_report, web.runtime, notice_id, fmt)
    return document(f"整改报告-{notice_id}.{fmt}", data, fmt)


@router.get("/items/{item_id}/closure.{fmt}")
def closure_record(item_id: int, fmt: str, web: Web = Depends(page_user)) -> Response:
    """销号单 of a closed item, for whoever may see the item."""
    item = get_item(web.session, item_id)
    if not can_see(web.actor, item):
        raise ItemNotFound(item_id)  # another department's item: as if it did not exist
    data = _written(write_closure_record, web.runtime, item_id, fmt)
    return document(f"销号单-{item_id}.{fmt}", data, fmt)
