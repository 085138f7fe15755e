"""The leaders' dashboard (督办看板) and its JSON endpoint, against the real server.

Items are made on 2026-09-15 with measures due 10 working days later (2026-09-29) and completion
25 working days later (2026-10-26); states change only through the service functions. The
expected figures are counted by hand in each test.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import httpx
from sqlalchemy.orm import Session

from states import auth, queries, service
from states.calendar import WorkingCalendar
from states.org import add_department
from states.service import Env
from tests.factories import Org, drive, item
from tests.web_support import WebTest

MEASURES_DUE = dt.date(2026, 9, 29)
COMPLETION_DUE = dt.date(2026, 10, 26)
LATE = dt.datetime(2026, 10, 28, 1, 0, tzinfo=dt.UTC)
"""09:00 on Wednesday 2026-10-28 in Beijing: two days after the completion target."""
SVG = "{http://www.w3.org/2000/svg}"


def token(session: Session, o: Org, username: str, now: dt.datetime) -> str:
    return auth.create_token(session, o.admin, username, "看板测试", now).token


def dashboard(web: WebTest, username: str = "fyz") -> str:
    """The dashboard page, logged in afresh (a move of the clock may outlast a log-in)."""
    with web.client(username) as c:
        response = c.get("/dashboard")
    assert response.status_code == 200, response.text
    return response.text


def rows(page: str, table: str) -> list[list[str]]:
    """The text of each body row's cells of ``<table id=…>``, tags stripped."""
    body = re.search(rf'<table id="{table}">(.*?)</table>', page, re.S)
    assert body, f"no table {table}"
    trs = re.findall(r"<tr>(.*?)</tr>", body[1], re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in trs]
    return [[re.sub(r"<[^>]+>|\s+", "", c) for c in row] for row in cells if row]


def kpi(page: str, name: str) -> str:
    found = re.search(rf'<div class="kpi" id="kpi-{name}">.*?<b>(.*?)</b>', page, re.S)
    assert found, f"no KPI {name}"
    return re.sub(r"<[^>]+>", "", found[1])


def svg(page: str, label: str) -> ET.Element:
    """The inline chart whose aria-label is ``label``, parsed (so it must be well-formed XML)."""
    found = re.search(rf'<svg [^>]*aria-label="{re.escape(label)}".*?</svg>', page, re.S)
    assert found, f"no chart {label}"
    return ET.fromstring(found[0])


def test_the_leader_sees_closure_and_on_time_rates(
    web: WebTest, session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    on_time, late, open_, withdrawn = (item(session, env, org, now, title=f"事项{k}") for k in "甲乙丙丁")
    drive(session, env, org, on_time.id, "closed", now)  # closed 2026-09-15, before its targets
    drive(session, env, org, late.id, "closed", LATE)  # closed 2026-10-28, after 2026-10-26
    service.withdraw(session, env, withdrawn.id, org.office, now, reason="重复立项")
    web.clock.today = LATE.date()
    # 3 items count (the withdrawn one does not), 2 closed, 1 of them on time; the open one is overdue.
    page = dashboard(web)
    assert (kpi(page, "closure"), kpi(page, "on-time"), kpi(page, "overdue")) == ("66.7%", "50.0%", "1")
    assert rows(page, "departments") == [["医务科", "3", "2", "66.7%", "50.0%", "1"]]
    assert 'href="/extensions"' in page
    with web.api(token(session, org, "fyz", now)) as api:
        data = api.get("/dashboard").json()
    assert data["overall"] == {
        "department": "合计", "total": 3, "closed": 2, "closed_on_time": 1, "overdue": 1, "withdrawn": 1,
        "closure_rate": 0.6667, "on_time_rate": 0.5,
    }  # fmt: skip
    assert open_.id in [v["id"] for v in data["overdue"]]


def test_the_trend_counts_closures_per_iso_week(
    web: WebTest, session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    first, second, _open = (item(session, env, org, now, title=f"事项{k}") for k in "甲乙丙")
    drive(session, env, org, first.id, "closed", now)  # Tuesday 2026-09-15: week 2026-W38
    drive(session, env, org, second.id, "closed", LATE)  # Wednesday 2026-10-28: this week, not ended yet
    web.clock.today = LATE.date()
    with web.api(token(session, org, "fyz", now)) as api:
        trend = api.get("/dashboard", params={"weeks": 7}).json()["trend"]
    # The 7 weeks ended on or before Wednesday 2026-10-28: W37 (ends 09-13) … W43 (ends 10-25).
    assert [(p["week"], p["end"], p["closed"], p["closed_by_end"], p["closure_rate"]) for p in trend] == [
        ("2026-W37", "2026-09-13", 0, 0, 0.0),
        ("2026-W38", "2026-09-20", 1, 1, 0.3333),
        ("2026-W39", "2026-09-27", 0, 1, 0.3333),
        ("2026-W40", "2026-10-04", 0, 1, 0.3333),
        ("2026-W41", "2026-10-11", 0, 1, 0.3333),
        ("2026-W42", "2026-10-18", 0, 1, 0.3333),
        ("2026-W43", "2026-10-25", 0, 1, 0.3333),
    ]
    assert trend[1]["start"] == "2026-09-14"
    page = dashboard(web, "jxb")
    chart = svg(page, "累计销号率（按周）")
    assert len(chart.findall(f".//{SVG}circle")) == 12  # the page shows the default 12 weeks
    assert rows(page, "trend")[-1] == ["2026-W43", "2026-10-19至2026-10-25", "0", "33.3%"]


def test_overdue_items_follow_the_clock_and_the_state(
    web: WebTest, session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    late = item(session, env, org, now, title="门诊排班未公示")
    web.clock.today = MEASURES_DUE  # due today: not overdue yet
    page = dashboard(web)
    assert kpi(page, "overdue") == "0" and "没有逾期事项" in page
    web.clock.today = MEASURES_DUE + dt.timedelta(days=1)  # Wednesday 2026-09-30, a working day
    page = dashboard(web)
    assert kpi(page, "overdue") == "1"
    assert rows(page, "overdue") == [["门诊排班未公示", "医务科", "已下发", "整改措施", "2026-09-29", "1"]]
    assert f'<a href="/items/{late.id}">门诊排班未公示</a>' in page
    web.clock.today = LATE.date()  # 17 working days after 2026-09-29 (the National Day holiday skipped)
    assert rows(dashboard(web), "overdue")[0][-1] == "17"
    drive(session, env, org, late.id, "measures_filed", now)  # now completion (2026-10-26) is pending
    page = dashboard(web)
    assert rows(page, "overdue") == [
        ["门诊排班未公示", "医务科", "已提交措施", "整改完成", "2026-10-26", "2"]
    ]


def test_the_overdue_list_is_the_ledgers_overdue_rule_most_overdue_first(
    web: WebTest, session: Session, env: Env, org: Org, now: dt.datetime, calendar: WorkingCalendar
) -> None:
    measures = item(session, env, org, now, title="措施逾期")
    completion = item(session, env, org, now, title="完成逾期", measures=None)
    filed = item(session, env, org, now, title="措施已报")
    drive(session, env, org, filed.id, "measures_filed", now)
    assigned = item(session, env, org, now, title="已交办")
    drive(session, env, org, assigned.id, "assigned", now)
    verified = item(session, env, org, now, title="已核验", completion="workdays:11")
    drive(session, env, org, verified.id, "verified", now)
    day = web.clock.today = LATE.date()
    with web.api(token(session, org, "jxb", now)) as api:
        listed = [v["id"] for v in api.get("/dashboard", params={"limit": 3}).json()["overdue"]]
        everything = api.get("/dashboard").json()
    ledger = queries.list_items(session, calendar, org.office, day, overdue=True)
    by_due = sorted(ledger, key=lambda v: (v.pending_due, v.id))
    assert {v.id for v in ledger} == {measures.id, completion.id, filed.id, assigned.id, verified.id}
    assert [v["id"] for v in everything["overdue"]] == [v.id for v in by_due]
    assert listed == [v.id for v in by_due][:3]
    # First the two measures targets of 2026-09-29 (issued, assigned), then the verified item's
    # completion target (11 working days: 2026-09-30), then the two of 2026-10-26.
    assert listed == [measures.id, assigned.id, verified.id] and everything["overall"]["overdue"] == 5


def test_the_department_table_has_a_row_per_lead_department(
    web: WebTest, session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    closed = item(session, env, org, now, title="病历书写不规范")
    drive(session, env, org, closed.id, "closed", now)
    item(session, env, org, now, title="处方点评不到位", lead=("药剂科",))
    item(session, env, org, now, title="抗菌药物分级管理", lead=("医务科", "药剂科"))
    web.clock.today = MEASURES_DUE + dt.timedelta(days=1)
    # 医务科 leads 2 (1 closed on time, 1 overdue); 药剂科 leads 2 (both overdue); 3 items in all.
    page = dashboard(web)
    assert rows(page, "departments") == [
        ["医务科", "2", "1", "50.0%", "100.0%", "1"],
        ["药剂科", "2", "0", "0.0%", "0.0%", "2"],
    ]
    assert (kpi(page, "closure"), kpi(page, "on-time"), kpi(page, "overdue")) == ("33.3%", "100.0%", "2")
    bars = svg(page, "各牵头科室销号率")
    widths = [float(r.get("width", "")) for r in bars.iter(f"{SVG}rect") if r.get("class") == "bar"]
    assert widths == [175.0, 0.0]  # 50 % and 0 % of the 350-pixel plot
    assert [t.text for t in bars.iter(f"{SVG}text")] == ["医务科", "50.0%", "药剂科", "0.0%"]


def test_department_members_may_not_see_the_dashboard(
    web: WebTest, session: Session, org: Org, now: dt.datetime
) -> None:
    with web.client("ywk") as c:
        page = c.get("/dashboard")
        assert page.status_code == 403 and "督办看板" in page.text
    with web.api(token(session, org, "yjk", now)) as api:
        answer = api.get("/dashboard")
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"
    assert "督办看板" in dashboard(web, "jxb")
    with httpx.Client(base_url=web.base) as anonymous:
        assert anonymous.get("/api/v1/dashboard").status_code == 401


def test_a_department_name_is_escaped_in_the_table_and_the_chart(
    web: WebTest, session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    name = "<script>alert(1)</script>科"
    add_department(session, org.admin, name)
    item(session, env, org, now, title="标题<img src=x onerror=alert(2)>", lead=(name,))
    web.clock.today = MEASURES_DUE + dt.timedelta(days=1)
    page = dashboard(web)
    assert "<script>" not in page and "<img" not in page
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;科"
    assert rows(page, "departments") == [[escaped, "1", "0", "0.0%", "0.0%", "1"]]
    assert [t.text for t in svg(page, "各牵头科室销号率").iter(f"{SVG}text")][0] == name
    assert f">{escaped}</text>" in page and "标题&lt;img src=x onerror=alert(2)&gt;" in page


def test_the_endpoint_is_in_the_openapi_document(web: WebTest) -> None:
    spec = httpx.get(web.base + "/api/openapi.json").json()
    assert spec["paths"]["/api/v1/dashboard"]["get"]["tags"] == ["督办看板"]
    assert "/dashboard" not in spec["paths"]
