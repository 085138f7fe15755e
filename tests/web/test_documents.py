"""Reports and closure records from the web pages: who may download them, and how they are served."""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from urllib.parse import quote

from docx import Document
from sqlalchemy.orm import Session

from states import intake
from tests.factories import drive, item_spec, notice
from tests.web_support import WebTest

HOSTILE = "输血<script>alert(1)</script>管理不规范"


def closed_item(web: WebTest, session: Session) -> tuple[int, int]:
    env, o, now = web.runtime.env, web.org, web.clock.now()
    nid = notice(session, env, o, now, dt.date(2026, 9, 15))
    (it,) = intake.create_items(session, env, nid, [item_spec(HOSTILE)], o.office, now)
    drive(session, env, o, it.id, "closed", now)
    return nid, it.id


def test_office_downloads_the_report_as_docx_and_reads_it_as_escaped_html(web: WebTest, session: Session) -> None:
    nid, _ = closed_item(web, session)
    with web.client("jxb") as c:
        docx = c.get(f"/notices/{nid}/report.docx")
        html = c.get(f"/notices/{nid}/report.html")
    assert docx.status_code == 200
    assert docx.headers["content-disposition"] == f"attachment; filename*=UTF-8''{quote(f'整改报告-{nid}.docx')}"
    text = "\n".join(p.text for p in Document(BytesIO(docx.content)).paragraphs)
    assert HOSTILE.rstrip("。") in text and "已组织全员培训" in text
    assert html.headers["content-disposition"].startswith("inline;")
    assert "sandbox" in html.headers["content-security-policy"]
    assert "&lt;script&gt;" in html.text and "<script>" not in html.text


def test_a_department_may_not_download_a_whole_notice_report(web: WebTest, session: Session) -> None:
    nid, _ = closed_item(web, session)
    with web.client("ywk") as c:
        refused = c.get(f"/notices/{nid}/report.docx")
    assert refused.status_code == 403 and "仅督查办和院领导可下载" in refused.text


def test_closure_record_for_whoever_sees_the_item(web: WebTest, session: Session) -> None:
    _, item_id = closed_item(web, session)
    with web.client("ywk") as c:  # 医务科 leads the item
        record = c.get(f"/items/{item_id}/closure.docx")
    cells = [cell.text for row in Document(BytesIO(record.content)).tables[0].rows for cell in row.cells]
    assert dict(zip(cells[::2], cells[1::2], strict=True))["是否按期"] == "按期完成"
    with web.client("yjk") as c:  # 药剂科 does not
        assert c.get(f"/items/{item_id}/closure.docx").status_code == 404
        assert c.get(f"/items/{item_id}/closure.html").status_code == 404


def test_closure_record_of_an_open_item_or_in_an_unknown_format_is_refused(web: WebTest, session: Session) -> None:
    env, o, now = web.runtime.env, web.org, web.clock.now()
    nid = notice(session, env, o, now, dt.date(2026, 9, 15))
    (it,) = intake.create_items(session, env, nid, [item_spec()], o.office, now)
    with web.client("jxb") as c:
        open_item = c.get(f"/items/{it.id}/closure.html")
        bad_format = c.get(f"/notices/{nid}/report.pdf")
    assert open_item.status_code == 409 and "尚未销号" in open_item.text
    assert bad_format.status_code == 400 and "可选值" in bad_format.text
