"""The office and department pages against the real server: what each user sees and what the forms do.

Most tests run on SQLite only (the pages add no SQL of their own beyond reads); the main path of an
item through the forms runs on both backends.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from io import BytesIO
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flows.jobs import run_scan
from states import auth, intake, service
from states.model import Department, Evidence, Extension, Item, ItemEvent, Notice
from states.service import Env
from tests.e2e.test_intake_cli import REPORT
from tests.factories import Org, item_spec, notice
from tests.fixtures_tables import write_rows_xlsx
from tests.web_support import WebTest, live_server, login

SQLITE_ONLY = pytest.mark.parametrize("bare_engine", ["sqlite"], indirect=True)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def items(session: Session, env: Env, org: Org, now: dt.datetime, *specs: intake.ItemSpec) -> list[int]:
    """Items of one new notice (state 已下发), their ids in order."""
    nid = notice(session, env, org, now)
    return [i.id for i in intake.create_items(session, env, nid, list(specs), org.office, now)]


def csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def version(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)  # type: ignore[union-attr]


def rows(html: str) -> dict[str, str]:
    """The item table's rows by the item's title."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    found = {}
    for row in body.split("<tr")[1:]:
        title = re.search(r'<a href="/items/\d+">([^<]*)</a>', row)
        if title:
            found[title.group(1)] = row
    return found


def light(row: str) -> str:
    return re.search(r'class="light (\w+)"', row).group(1)  # type: ignore[union-attr]


def act(c: httpx.Client, item_id: int, action: str, text: str = "") -> httpx.Response:
    """Submit an action's form from the item page, as a browser would."""
    page = c.get(f"/items/{item_id}").text
    return c.post(f"/items/{item_id}/actions/{action}", data={"csrf": csrf(page), "version": version(page),
                                                              "text": text})  # fmt: skip


def file_measures(c: httpx.Client, item_id: int, uploads: list[tuple[str, bytes]]) -> httpx.Response:
    page = c.get(f"/items/{item_id}").text
    return c.post(f"/items/{item_id}/measures", data={"csrf": csrf(page), "version": version(page),
                                                      "measures": "已组织全员培训并完成自查"},
                  files=[("evidence", (name, data, "application/octet-stream")) for name, data in uploads])  # fmt: skip


def snapshot(session: Session, web: WebTest) -> tuple[object, ...]:
    """Everything a refused form must leave as it was: rows, states and versions, stored files."""
    session.expire_all()
    counts = tuple(session.scalar(select(func.count()).select_from(t))
                   for t in (Item, ItemEvent, Evidence, Extension, Notice, Department))  # fmt: skip
    states = tuple(session.execute(select(Item.id, Item.state, Item.version).order_by(Item.id)).tuples())
    root = web.runtime.settings.evidence_dir
    stored = tuple(sorted(str(p) for p in root.rglob("*") if p.is_file() and "_imports" not in p.parts))
    return counts, states, stored


@SQLITE_ONLY
def test_ledger_shows_red_yellow_green_as_the_clock_moves(
    web: WebTest, session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    items(session, env, org, now, item_spec("两天措施", measures="workdays:2"),
          item_spec("五天措施", measures="workdays:5"), item_spec("二十天措施", measures="workdays:20"))  # fmt: skip
    # The first target is 9-17; 9-18, 9-20 (调休上班) and 9-21 are the working days after it.
    web.clock.today = dt.date(2026, 9, 21)
    with web.client("jxb") as c:
        page = c.get("/ledger")
    assert page.status_code == 200 and "整改台账" in page.text
    got = rows(page.text)
    assert {t: light(r) for t, r in got.items()} == {
        "两天措施": "red",
        "五天措施": "yellow",
        "二十天措施": "green",
    }
    assert '<span class="error">3</span>' in got["两天措施"]
    assert (
        ">红</span>" in got["两天措施"]
        and ">黄</span>" in got["五天措施"]
        and ">绿</span>" in got["二十天措施"]
    )


@SQLITE_ONLY
def test_ledger_filters_and_its_export_has_the_filtered_rows(
    web: WebTest, session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    items(session, env, org, now, item_spec("医务逾期", measures="workdays:2"),
          item_spec("药剂正常", lead=("药剂科",), measures="workdays:20"))  # fmt: skip
    (assigned,) = items(session, env, org, now, item_spec("医务已交办", measures="workdays:20"))
    service.assign(session, env, assigned, org.office, now)
    second_notice = service.get_item(session, assigned).notice_id
    web.clock.today = dt.date(2026, 9, 21)
    with web.client("fyz") as c:  # leaders read the ledger too

        def titles(query: str) -> set[str]:
            page = c.get(f"/ledger?{query}")
            assert page.status_code == 200, page.text
            return set(rows(page.text))

        assert titles("") == {"医务逾期", "药剂正常", "医务已交办"}
        assert titles("department=药剂科") == {"药剂正常"}
        assert titles("state=assigned") == {"医务已交办"}
        assert titles("light=red") == titles("overdue=1") == {"医务逾期"}
        assert titles(f"notice={second_notice}") == {"医务已交办"}
        assert titles("department=医务科&light=green") == {"医务已交办"}
        assert (
            'href="/ledger.xlsx?department=%E5%8C%BB%E5%8A%A1%E7%A7%91&amp;light=green"'
            in c.get("/ledger?department=医务科&light=green").text
        )
        export = c.get("/ledger.xlsx?department=医务科&light=green")
    assert export.status_code == 200
    assert export.headers["content-disposition"].startswith("attachment; filename*=UTF-8''")
    ws = load_workbook(BytesIO(export.content)).active
    table = list(ws.iter_rows(min_row=3, values_only=True))
    assert [(r[2], r[5], r[9]) for r in table] == [("医务已交办", "医务科", "已交办")]


@SQLITE_ONLY
def test_a_department_sees_only_its_own_items_and_evidence(
    web: WebTest, session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    mine, helping, theirs = items(session, env, org, now, item_spec("医务牵头"),
                                  item_spec("药剂牵头医务配合", lead=("药剂科",), coop=("医务科",)),
                                  item_spec("药剂独办", lead=("药剂科",)))  # fmt: skip
    for item_id in (mine, theirs):
        service.assign(session, env, item_id, org.office, now)
    with web.client("yjk") as pharmacy:
        filed = file_measures(pharmacy, theirs, [("药剂科自查.pdf", PDF)])
        evidence = re.search(r'href="(/evidence/\d+)"', filed.text).group(1)  # type: ignore[union-attr]
        assert pharmacy.get(evidence).status_code == 200
    with web.client("ywk") as c:
        my = c.get("/my")
        assert set(rows(my.text)) == {"医务牵头", "药剂牵头医务配合"}
        assert "待提交整改措施（1 项）" in my.text and f'href="/items/{mine}#file_measures"' in my.text
        assert c.get(f"/items/{theirs}").status_code == 404
        assert c.get(evidence).status_code == 404
        assert c.get(f"/items/{helping}").status_code == 200
        assert "提交整改措施" not in c.get(f"/items/{helping}").text  # cooperating departments do not file
        assert act(c, mine, "assign").status_code == 403
        assert c.get("/ledger").url.path == "/my"


@pytest.mark.parametrize("bare_engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)  # fmt: skip
def test_department_files_measures_with_evidence_and_the_office_verifies_and_closes(
    web: WebTest, session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    (item_id,) = items(session, env, org, now, item_spec("临床输血管理不规范"))
    with web.client("jxb") as office, web.client("ywk") as dept:
        assert act(office, item_id, "assign", "请按期整改").status_code == 200
        page = dept.get(f"/items/{item_id}")
        assert 'id="file_measures"' in page.text and 'enctype="multipart/form-data"' in page.text
        filed = file_measures(dept, item_id, [("C:\\fakepath\\整改报告:终稿.pdf", PDF)])
        assert filed.status_code == 200 and str(filed.url).endswith(f"/items/{item_id}")
        assert "已提交措施" in filed.text and "整改报告_终稿.pdf" in filed.text
        evidence_id = int(re.search(r'href="/evidence/(\d+)"', filed.text).group(1))  # type: ignore[union-attr]
        download = office.get(f"/evidence/{evidence_id}")
        assert act(office, item_id, "verify").status_code == 200
        closed = act(office, item_id, "close", "整改到位")
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-disposition"] == "attachment; filename*=UTF-8''" + quote(
        "整改报告_终稿.pdf"
    )
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-type"] == "application/pdf"
    assert closed.status_code == 200 and "已销号" in closed.text
    assert (
        f'href="/items/{item_id}/closure.docx"' in closed.text
        and f'href="/items/{item_id}/closure.html"' in closed.text
    )
    for words in ("交办", "请按期整改", "已下发 → 已交办", "提交整改措施", "已组织全员培训并完成自查", "核验通过", "销号", "整改到位",
                  "王敏", "赵立新"):  # fmt: skip
        assert words in closed.text
    session.expire_all()
    assert service.get_item(session, item_id).state == "closed"


@SQLITE_ONLY
def test_a_stale_form_is_refused_with_409_and_changes_nothing(
    web: WebTest, session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    (item_id,) = items(session, env, org, now, item_spec())
    with web.client("jxb") as c:
        old = c.get(f"/items/{item_id}").text
        assert act(c, item_id, "assign").status_code == 200
        before = snapshot(session, web)
        stale = c.post(f"/items/{item_id}/actions/withdraw", data={"csrf": csrf(old), "version": version(old),
                                                                   "text": "重复下发"})  # fmt: skip
    assert stale.status_code == 409 and "操作未生效" in stale.text
    assert snapshot(session, web) == before


@SQLITE_ONLY
def test_a_post_without_the_session_form_token_is_refused(
    web: WebTest, session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    (item_id,) = items(session, env, org, now, item_spec())
    before = snapshot(session, web)
    with web.client("jxb") as c:
        for token in (None, "forged"):
            data = {"version": "1", "text": "x"} | ({"csrf": token} if token else {})
            refused = c.post(f"/items/{item_id}/actions/assign", data=data)
            assert refused.status_code == 403 and "表单已过期" in refused.text
        assert c.post("/notices", data={"csrf": "forged", "title": "t", "issuer": "i",
                                        "received_on": "2026-09-15"}).status_code == 403  # fmt: skip
    assert snapshot(session, web) == before


@SQLITE_ONLY
def test_evidence_whose_content_is_not_allowed_is_refused_and_nothing_is_stored(
    web: WebTest, session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    (item_id,) = items(session, env, org, now, item_spec())
    service.assign(session, env, item_id, org.office, now)
    before = snapshot(session, web)
    with web.client("ywk") as c:
        refused = file_measures(c, item_id, [("整改.pdf", PDF), ("报告.pdf", b"MZ\x90\x00 not a pdf")])
    assert refused.status_code == 400 and "文件类型不允许" in refused.text
    assert snapshot(session, web) == before


@SQLITE_ONLY
def test_a_body_over_the_upload_limit_is_refused_before_anything_is_stored(
    web: WebTest, session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    (item_id,) = items(session, env, org, now, item_spec())
    service.assign(session, env, item_id, org.office, now)
    small = replace(web.runtime, settings=replace(web.runtime.settings, max_upload_mb=1))
    before = snapshot(session, web)
    part = b'--b\r\nContent-Disposition: form-data; name="evidence"; filename="a.pdf"\r\n\r\n' + PDF
    streamed = iter([part, b"0" * (700 * 1024), b"0" * (700 * 1024), b"\r\n--b--\r\n"])  # no Content-Length
    with live_server(small) as base, httpx.Client(base_url=base, follow_redirects=True) as c:
        login(c, "ywk")
        declared = file_measures(c, item_id, [("大文件.pdf", PDF + b"0" * (1024 * 1024))])
        counted = c.post(f"/items/{item_id}/measures", content=streamed,
                         headers={"content-type": "multipart/form-data; boundary=b"})  # fmt: skip
    for refused in (declared, counted):
        assert refused.status_code == 413 and "上传内容过大：每次提交不能超过 1 MB" in refused.text
    assert snapshot(session, web) == before


@SQLITE_ONLY
def test_measures_may_be_filed_without_evidence(
    web: WebTest, session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    (item_id,) = items(session, env, org, now, item_spec())
    service.assign(session, env, item_id, org.office, now)
    with web.client("ywk") as c:
        filed = file_measures(c, item_id, [("", b"")])  # what a browser sends when no file is chosen
    assert filed.status_code == 200 and "已提交措施" in filed.text and "暂无佐证材料" in filed.text


@SQLITE_ONLY
def test_import_preview_writes_nothing_and_confirm_imports(
    web: WebTest, session: Session, env: Env, org: Org, now: dt.datetime, tmp_path: Path
) -> None:
    nid = notice(session, env, org, now)
    good = write_rows_xlsx(tmp_path / "清单.xlsx", ["序号", "清单内容", "牵头科室", "配合科室", "完成时限"],
                           [[1, "门诊病历书写不规范", "医务科", "药剂科", "2026年12月底"],
                            [2, "处方点评不到位", "药剂科", None, "2026-11-30"]], title="督办清单")  # fmt: skip
    before = snapshot(session, web)
    with web.client("jxb") as c:
        token = csrf(c.get("/import").text)
        shown = c.post("/import", data={"csrf": token, "notice": str(nid), "measures": "workdays:10"},
                       files={"file": ("清单.xlsx", good.read_bytes())})  # fmt: skip
        assert shown.status_code == 200, shown.text
        assert (
            "将导入 2 个事项" in shown.text
            and "门诊病历书写不规范" in shown.text
            and "2026-12-31" in shown.text
        )
        assert snapshot(session, web) == before
        upload = re.search(r'name="upload" value="([^"]+)"', shown.text).group(1)  # type: ignore[union-attr]
        done = c.post("/import/confirm", data={"csrf": token, "notice": str(nid), "upload": upload, "lead": "",
                                               "measures": "workdays:10"})  # fmt: skip
        assert done.status_code == 200 and "已导入 2 个事项" in done.text
        again = c.post("/import/confirm", data={"csrf": token, "notice": str(nid), "upload": upload})
    assert again.status_code == 400  # the staged file is gone once imported
    session.expire_all()
    got = session.scalars(select(Item).where(Item.notice_id == nid).order_by(Item.seq)).all()
    assert [(i.title, i.lead_names, i.completion_due, i.measures_rule) for i in got] == [
        ("门诊病历书写不规范", ["医务科"], dt.date(2026, 12, 31), "workdays:10"),
        ("处方点评不到位", ["药剂科"], dt.date(2026, 11, 30), "workdays:10"),
    ]


@SQLITE_ONLY
def test_an_import_with_unusable_rows_lists_the_problems_and_writes_nothing(
    web: WebTest, session: Session, env: Env, org: Org, now: dt.datetime, tmp_path: Path
) -> None:
    nid = notice(session, env, org, now)
    bad = write_rows_xlsx(tmp_path / "bad.xlsx", ["序号", "清单内容", "牵头科室", "完成时限"],
                          [[1, "好的一行", "医务科", "2026年12月底"], [2, "日期不存在", "医务科", "2026年2月30日"],
                           [3, "科室不存在", "宣传科", "12月25日"]])  # fmt: skip
    before = snapshot(session, web)
    with web.client("jxb") as c:
        token = csrf(c.get("/import").text)
        shown = c.post(
            "/import",
            data={"csrf": token, "notice": str(nid)},
            files={"file": ("bad.xlsx", bad.read_bytes())},
        )
        staged = next((web.runtime.settings.evidence_dir / "_imports").rglob("*.xlsx")).name
        forced = c.post("/import/confirm", data={"csrf": token, "notice": str(nid), "upload": staged})
    assert shown.status_code == 200 and "不能导入" in shown.text and "确认导入" not in shown.text
    assert (
        '<td class="num">3</td><td>完成时限</td><td>完成时限「2026年2月30日」不是有效日期</td>' in shown.text
    )
    assert (
        '<td class="num">4</td><td>科室</td><td>未知科室「宣传科」（可勾选「新建清单中未知的科室」）</td>'
        in shown.text
    )
    assert forced.status_code == 400 and "导入未执行" in forced.text
    assert snapshot(session, web) == before


@SQLITE_ONLY
def test_user_text_is_escaped_on_the_ledger_and_item_pages(
    web: WebTest, session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    (item_id,) = items(session, env, org, now, item_spec("<script>alert(1)</script>"))
    with web.client("jxb") as c:
        pages = [c.get("/ledger").text, c.get(f"/items/{item_id}").text]
    for html in pages:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html


@SQLITE_ONLY
def test_extension_requested_by_the_department_and_approved_by_a_leader(
    web: WebTest, session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    (item_id,) = items(session, env, org, now, item_spec(completion="fixed:2026-10-30"))
    service.assign(session, env, item_id, org.office, now)
    with web.client("ywk") as dept:
        page = dept.get(f"/items/{item_id}").text
        asked = dept.post(f"/items/{item_id}/extension", data={"csrf": csrf(page), "target": "completion_due",
                                                              "new_due": "2026-11-20", "reason": "设备到货延迟"})  # fmt: skip
        assert asked.status_code == 200 and "待审批" in asked.text
        assert dept.post("/extensions/1/approve", data={"csrf": csrf(page)}).status_code == 403
    with web.client("fyz") as leader:
        pending = leader.get("/extensions").text
        assert "待审批（1 项）" in pending and "设备到货延迟" in pending
        ext_id = re.search(r'action="/extensions/(\d+)/approve"', pending).group(1)  # type: ignore[union-attr]
        done = leader.post(f"/extensions/{ext_id}/approve", data={"csrf": csrf(pending), "note": "同意"})
    assert done.status_code == 200 and "待审批（0 项）" in done.text and "已批准" in done.text
    session.expire_all()
    assert service.get_item(session, item_id).completion_due == dt.date(2026, 11, 20)


@SQLITE_ONLY
def test_office_registers_a_notice_and_an_item_through_the_forms(web: WebTest, session: Session) -> None:
    with web.client("jxb") as c:
        token = csrf(c.get("/notices").text)
        made = c.post("/notices", data={"csrf": token, "title": "关于医疗质量检查的通报", "issuer": "县卫健委",
                                        "received_on": "2026-09-15", "doc_number": ""})  # fmt: skip
        assert made.status_code == 200 and "关于医疗质量检查的通报" in made.text
        added = c.post(f"{made.url.path}/items", data={"csrf": token, "category": "医疗方面", "title": "病历书写不规范",
                                                       "lead": "医务科、药剂科", "measures_rule": "workdays:10"})  # fmt: skip
        assert added.status_code == 200 and "病历书写不规范" in added.text
        assert f'href="{made.url.path}/report.docx"' in added.text
        assert "通报" in c.get("/notices").text
    session.expire_all()
    (it,) = session.scalars(select(Item)).all()
    assert it.lead_names == ["医务科", "药剂科"] and it.measures_due is not None


@SQLITE_ONLY
def test_a_notice_text_is_imported_with_a_default_lead_department(
    web: WebTest, session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    nid = notice(session, env, org, now)
    with web.client("jxb") as c:
        token = csrf(c.get(f"/import?notice={nid}").text)
        form = {"csrf": token, "notice": str(nid), "lead": "医务科"}
        text = REPORT.encode("gb18030")  # offices' Windows files are often GB18030
        shown = c.post("/import", data=form, files={"file": ("整改报告.txt", text)})
        assert "将导入 3 个事项" in shown.text and "临床输血管理不规范" in shown.text
        upload = re.search(r'name="upload" value="([^"]+)"', shown.text).group(1)  # type: ignore[union-attr]
        done = c.post("/import/confirm", data=form | {"upload": upload})
    assert "已导入 3 个事项" in done.text
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Item).where(Item.notice_id == nid)) == 3


@SQLITE_ONLY
def test_the_item_page_lists_the_levels_the_item_reached(
    web: WebTest, session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    (item_id,) = items(session, env, org, now, item_spec("迟迟未报措施", measures="workdays:2"))
    with web.client("jxb") as c:
        assert "尚未催办" in c.get(f"/items/{item_id}").text
    due = session.get(Item, item_id).measures_due  # type: ignore[union-attr]
    assert due is not None
    for late in (1, 3):  # 逾期提醒, then 督办通知
        day = env.calendar.add_workdays(due, late).date
        web.clock.today = day
        run_scan(web.runtime, dt.datetime.combine(day, dt.time(8, 30), tzinfo=env.tz).astimezone(dt.UTC))
    with web.client("jxb") as c:
        page = c.get(f"/items/{item_id}").text
    section = page.split("催办督办记录", 1)[1].split("</table>", 1)[0]
    lines = [re.findall(r"<td>([^<]*)</td>", row) for row in section.split("<tr>")[2:]]
    assert [line[1:4] for line in lines] == [["逾期提醒", "整改措施期限", due.isoformat()],
                                             ["督办通知", "整改措施期限", due.isoformat()]]  # fmt: skip
    assert lines[0][0] == env.calendar.add_workdays(due, 1).date.isoformat()
    token = auth.create_token(session, org.admin, "jxb", "测试", now).token
    with web.api(token) as api:
        detail = api.get(f"/items/{item_id}").json()
    assert [(e["level_label"], e["due"]) for e in detail["escalations"]] == [("逾期提醒", due.isoformat()),
                                                                             ("督办通知", due.isoformat())]  # fmt: skip
