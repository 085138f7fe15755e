"""The leader's dashboard (督办看板) and its data endpoint.

Both show :func:`states.dashboard.dashboard`, which refuses department members (403 here).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse

from app.web.charts import bar_chart, line_chart, percent
from app.web.deps import Api, Web, api_user, page_user
from states import dashboard as board

router = APIRouter()

WEEKS = Query(board.WEEKS, ge=1, le=104, description="趋势的周数（截至今天已结束的 ISO 周）")
LIMIT = Query(board.OVERDUE_LIMIT, ge=0, le=500, description="逾期清单最多列出的事项数")


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
def dashboard_page(web: Web = Depends(page_user)) -> HTMLResponse:
    data = board.dashboard(web.session, web.runtime.env.calendar, web.actor, web.today)
    return web.render(
        "dashboard.html",
        board=data,
        percent=percent,
        bars=bar_chart([(d.department, d.closure_rate) for d in data.departments], title="各牵头科室销号率"),
        trend=line_chart([(p.week, p.closure_rate) for p in data.trend], title="累计销号率（按周）"),
    )


@router.get("/api/v1/dashboard", tags=["督办看板"], summary="督办看板数据")
def dashboard_data(api: Api = Depends(api_user), weeks: int = WEEKS, limit: int = LIMIT) -> dict[str, Any]:
    """总体与各牵头科室的销号率、按期销号率、逾期数，按周趋势，以及逾期最久的事项。

    院领导、督查办、管理员可用；科室人员得到 403。
    """
    data = board.dashboard(api.session, api.runtime.env.calendar, api.actor, api.today, weeks=weeks,
                           overdue_limit=limit)  # fmt: skip
    return data.as_json()
