"""Office and department pages: ledger (台账), notices, import, items and their actions, extensions.

Each page module keeps its handlers thin (parse the form, call the service in ``states``, redirect);
their routes count uploads against ``max_upload_mb`` while the body arrives (:class:`UploadLimit`).
"""

from __future__ import annotations

from fastapi import APIRouter

from app.web import pages_extensions, pages_import, pages_items, pages_ledger, pages_notices

router = APIRouter(include_in_schema=False)
for _module in (pages_ledger, pages_notices, pages_import, pages_items, pages_extensions):
    router.include_router(_module.router)
