"""The ledger (整改台账) for the office and leaders, its .xlsx export, and a department's own items (/my)."""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from app.ledger import ledger_workbook
from app.web.auth_pages import HOME
from app.web.deps import Web, page_user
from app.web.pages_common import UploadLimit, attachment, optional_int, see_other
from states import org
from states.errors import STATE_LABELS, InvalidInput
from states.model import Department
from states.permissions import ROLES_SEEING_ALL
from states.queries import LIGHT_LABELS, ItemView, list_items, notices

router = APIRouter(route_class=UploadLimit, include_in_schema=False)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

@dataclass(frozen=True, slots=True)
class LedgerFilter:
    """The ledger's filters, as the GET form sends them."""

    notice: int | None = None
    department: str = ""
    state: str = ""
    light: str = ""
    overdue: bool = False

    def query(self) -> str:
        """The same filters as a query string (for the export link)."""
        pairs = {"notice": self.notice or "", "department": self.department, "state": self.state,
                 "light": self.light, "overdue": "1" if self.overdue else ""}  # fmt: skip
        return urlencode({k: v for k, v in pairs.items() if v})


def ledger_filter(notice: str = "", department: str = "", state: str = "", light: str = "",
                  overdue: str = "") -> LedgerFilter:  # fmt: skip
    if state and state not in STATE_LABELS:
        raise InvalidInput("状态", state, "未知状态")
    if light and light not in LIGHT_LABELS:
        raise InvalidInput("红绿灯", light, "应为 red、yellow 或 green")
    return LedgerFilter(notice=optional_int(notice, "通报"), department=department.strip(), state=state,
                        light=light, overdue=bool(overdue))  # fmt: skip


def filtered(web: Web, f: LedgerFilter) -> list[ItemView]:
    """The items the user may see that pass the filters, in notice and sequence order."""
    views = list_items(web.session, web.runtime.env.calendar, web.actor, web.today, notice_id=f.notice,
                       department=f.department or None, state=f.state or None, overdue=f.overdue)  # fmt: skip
    return [v for v in views if not f.light or v.light == f.light]


@router.get("/ledger")
def ledger(f: LedgerFilter = Depends(ledger_filter), web: Web = Depends(page_user)) -> Response:
    if web.actor.role not in ROLES_SEEING_ALL:
        return see_other(HOME.get(web.actor.role, "/"))
    views = filtered(web, f)
    lights = {c: sum(v.light == c for v in views) for c in LIGHT_LABELS}
    return web.render("ledger.html", views=views, f=f, lights=lights, notices=notices(web.session, web.actor),
                      departments=org.departments(web.session))  # fmt: skip


@router.get("/ledger.xlsx")
def ledger_xlsx(f: LedgerFilter = Depends(ledger_filter), web: Web = Depends(page_user)) -> Response:
    """The filtered ledger as the .xlsx ``rectiflow export`` writes (the list's columns, then the ledger's)."""
    out = BytesIO()
    ledger_workbook(web.session, filtered(web, f), f"整改台账（截至 {web.today.isoformat()}）").save(out)
    data = out.getvalue()
    return Response(data, media_type=XLSX,
                    headers={"Content-Disposition": attachment(f"整改台账-{web.today.isoformat()}.xlsx")})  # fmt: skip


@router.get("/my")
def my_items(web: Web = Depends(page_user)) -> Response:
    """A department's own items (lead or cooperating), those awaiting its measures first."""
    if web.actor.role != "department" or web.actor.department_id is None:
        return see_other(HOME.get(web.actor.role, "/"))
    department = web.session.get(Department, web.actor.department_id)
    views = list_items(web.session, web.runtime.env.calendar, web.actor, web.today)
    name = department.name if department else ""
    awaiting = [v for v in views if v.state == "assigned" and name in v.lead_departments]
    return web.render("my.html", views=views, awaiting=awaiting, department=name)
