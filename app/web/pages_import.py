"""Import (导入): upload a list (.xlsx / .csv) or a notice text (.txt), preview it, then confirm.

The preview writes nothing. The uploaded bytes wait for the confirmation in a staging folder beside
the evidence (outside the web root), under a random name inside a folder derived from the user's
session: another session cannot name them, and a confirmation reads only its own session's file.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import Response

from app.cli import split_names
from app.files import TEXT_SUFFIXES, read_text
from app.web.deps import Web, page_user
from app.web.pages_common import MB, UploadLimit, optional_int, see_other, upload_limit
from states.deadlines import parse_rule
from states.errors import InvalidInput, NotFound
from states.importers.apply import plan_import, run_import
from states.importers.model import ParsedImport, Problem
from states.importers.table import parse_table
from states.importers.text import parse_notice_text
from states.model import Notice
from states.permissions import require
from states.queries import notices

router = APIRouter(route_class=UploadLimit, include_in_schema=False)

SUFFIXES = (".xlsx", ".csv", *TEXT_SUFFIXES)
STAGING = "_imports"
#: Staged uploads older than this are removed when the next one is staged.
STAGED_SECONDS = 24 * 3600
TOKEN = re.compile(r"[A-Za-z0-9_-]{32}\.(xlsx|csv|txt|md)")
#: The importer's hints name the CLI's options; the page names its own fields.
HINTS = {"（可加 --create-departments 新建）": "（可勾选「新建清单中未知的科室」）",
         "（可用 --lead 指定）": "（可填写「默认牵头科室」）"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """The options of ``rectiflow import``, as the form sends them."""

    create_departments: bool = False
    lead: str = ""
    measures: str = ""

    def kwargs(self) -> dict[str, Any]:
        return {"create_departments": self.create_departments, "measures_rule": self.measures or None,
                "default_lead": tuple(split_names(self.lead))}  # fmt: skip

    def check(self) -> None:
        """Say a wrong deadline rule at the preview, not after the confirmation."""
        if self.measures:
            parse_rule(self.measures)


def import_options(
    create_departments: str = Form(""), lead: str = Form(""), measures: str = Form("")
) -> ImportOptions:
    return ImportOptions(
        create_departments=bool(create_departments), lead=lead.strip(), measures=measures.strip()
    )


@router.get("/import")
def import_form(notice: str = "", web: Web = Depends(page_user)) -> Response:
    require(web.actor, "create_item")
    return web.render("import.html", notices=notices(web.session, web.actor), chosen=optional_int(notice, "通报"),
                      max_upload_mb=web.runtime.settings.max_upload_mb)  # fmt: skip


@router.post("/import")
def preview(csrf: str = Form(""), notice: int = Form(...), file: UploadFile = File(...),
            options: ImportOptions = Depends(import_options), web: Web = Depends(page_user)) -> Response:  # fmt: skip
    """The CLI's ``--dry-run``: rows, expansions and problems; nothing is written."""
    web.check_csrf(csrf)
    require(web.actor, "create_item")
    options.check()
    target = _notice(web, notice)
    staged = _stage(web, file)
    plan = plan_import(web.session, _parse(staged, target), **options.kwargs())
    return web.render("import_preview.html", notice=target, plan=plan, problems=[_for_page(p) for p in plan.problems],
                      rows=list(zip(plan.rows, plan.specs, strict=True)), upload=staged.name,
                      file_name=Path(file.filename or "").name, options=options)  # fmt: skip


@router.post("/import/confirm")
def confirm(csrf: str = Form(""), notice: int = Form(...), upload: str = Form(""),
            options: ImportOptions = Depends(import_options), web: Web = Depends(page_user)) -> Response:  # fmt: skip
    """Import the previewed file: every item, or none with the list of problems."""
    web.check_csrf(csrf)
    require(web.actor, "create_item")
    target = _notice(web, notice)
    staged = _staged(web, upload)
    done = run_import(web.session, web.runtime.env, target.id, _parse(staged, target), web.actor, web.now,
                      **options.kwargs())  # fmt: skip
    staged.unlink(missing_ok=True)
    return see_other(f"/notices/{target.id}?imported={len(done.item_ids)}")


def _for_page(problem: Problem) -> Problem:
    message = problem.message
    for cli_hint, page_hint in HINTS.items():
        message = message.replace(cli_hint, page_hint)
    return replace(problem, message=message)


def _notice(web: Web, notice_id: int) -> Notice:
    found = web.session.get(Notice, notice_id)
    if found is None:
        raise NotFound("通报", notice_id)
    return found


def _parse(path: Path, notice: Notice) -> ParsedImport:
    if path.suffix in TEXT_SUFFIXES:
        return parse_notice_text(read_text(path))
    return parse_table(path, notice_year=notice.received_on.year)


def _folder(web: Web) -> Path:
    """This session's staging folder."""
    key = hashlib.sha256(f"import:{web.csrf}".encode()).hexdigest()[:32]
    return web.runtime.settings.evidence_dir / STAGING / key


def _stage(web: Web, upload: UploadFile) -> Path:
    """Keep the upload until it is confirmed, under a random name of this session."""
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInput("文件", upload.filename or "", f"请上传 {'、'.join(SUFFIXES)} 文件")
    limit = upload_limit(web.request)
    data = upload.file.read(limit + 1)
    if not data:
        raise InvalidInput("文件", upload.filename, "文件为空")
    if len(data) > limit:
        raise InvalidInput("文件", upload.filename, f"超过大小上限 {limit // MB} MB")
    _prune(web.runtime.settings.evidence_dir / STAGING)
    path = _folder(web) / f"{secrets.token_urlsafe(24)}{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _staged(web: Web, upload: str) -> Path:
    path = _folder(web) / upload
    if not TOKEN.fullmatch(upload) or not path.is_file():
        raise InvalidInput("待导入的文件", upload, "已过期或不属于本次登录，请重新上传")
    return path


def _prune(root: Path) -> None:
    """Remove staged uploads nobody confirmed within :data:`STAGED_SECONDS`."""
    cutoff = time.time() - STAGED_SECONDS
    for path in root.glob("*/*"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
