"""The JSON API (/api/v1) against the real server, on SQLite and PostgreSQL: tokens, every role's
actions, what a department may not read or change, stale versions, bad input, evidence uploads."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.web.api import ItemOut
from states import auth, extensions, intake, queries
from states.model import Evidence, Extension, Item, ItemEvent, Notice
from states.queries import ItemView
from states.service import Env
from tests.factories import Org, drive, item, notice
from tests.web_support import WebTest

USERS = ("admin", "jxb", "fyz", "ywk", "yjk")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 64
    + b"This program cannot be run"
)


@pytest.fixture
def tokens(web: WebTest, session: Session, now: dt.datetime) -> dict[str, str]:
    """An API token for each test user, by username."""
    return {u: auth.create_token(session, web.org.admin, u, "test", now).token for u in USERS}


def _row(session: Session, item_id: int) -> tuple[str, int, int]:
    """(state, version, number of events) as the database has them now."""
    session.commit()  # no snapshot from an earlier read
    session.expire_all()  # nor objects loaded before the server changed them
    state, version = session.execute(select(Item.state, Item.version).where(Item.id == item_id)).one()
    events = session.scalar(select(func.count(ItemEvent.id)).where(ItemEvent.item_id == item_id))
    return state, version, events or 0


def _error(response: httpx.Response, status: int) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()["error"]  # type: ignore[no-any-return]


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# --- tokens ------------------------------------------------------------------------------------------------


def test_me_answers_who_each_token_acts_for(web: WebTest, tokens: dict[str, str]) -> None:
    expected = {"admin": ("admin", None), "jxb": ("office", None), "fyz": ("leader", None),
                "ywk": ("department", "医务科"), "yjk": ("department", "药剂科")}  # fmt: skip
    for username, (role, department) in expected.items():
        with web.api(tokens[username]) as c:
            me = c.get("/me").json()
        assert (me["username"], me["role"], me["department"]) == (username, role, department)


def test_missing_unknown_and_revoked_tokens_get_401_json(
    web: WebTest, session: Session, org: Org, now: dt.datetime
) -> None:
    new = auth.create_token(session, org.admin, "jxb", "to-revoke", now)
    with web.api(new.token) as c:
        assert c.get("/me").status_code == 200
    auth.revoke_token(session, org.admin, new.id, now)
    with httpx.Client(base_url=web.base + "/api/v1") as bare:
        answers = {
            "none": bare.get("/items"),
            "unknown": bare.get("/items", headers={"Authorization": "Bearer rf_not-a-real-token"}),
            "not bearer": bare.get("/items", headers={"Authorization": f"Basic {new.token}"}),
            "revoked": bare.get("/items", headers={"Authorization": f"Bearer {new.token}"}),
        }
    for why, response in answers.items():
        error = _error(response, 401)
        assert error["code"] == "unauthenticated", why
        assert _chinese(error["message"]), why
        assert response.headers["www-authenticate"] == "Bearer", why


# --- every role's actions ----------------------------------------------------------------------------------


def test_office_and_department_take_an_item_through_its_life(
    web: WebTest, tokens: dict[str, str], session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    it = item(session, env, org, now)
    office, dept = web.api(tokens["jxb"]), web.api(tokens["ywk"])
    with office, dept:
        seen = office.get(f"/items/{it.id}").json()
        assert seen["available_actions"] == ["assign", "withdraw"]
        done = office.post(
            f"/items/{it.id}/assign", json={"expected_version": seen["version"], "note": "请抓紧"}
        )
        assert done.status_code == 200, done.text
        assert done.json()["transition"]["to_state"] == "assigned"
        assert done.json()["item"]["state"] == "assigned"
        mine = dept.get(f"/items/{it.id}").json()
        assert "file_measures" in mine["available_actions"]
        filed = dept.post(f"/items/{it.id}/file_measures",
                          json={"measures": "已修订制度并组织培训", "expected_version": mine["version"]})  # fmt: skip
        assert filed.status_code == 200, filed.text
        assert office.post(f"/items/{it.id}/verify", json={"note": "核验属实"}).status_code == 200
        closed = office.post(f"/items/{it.id}/close")
        assert closed.status_code == 200, closed.text
        detail = dept.get(f"/items/{it.id}").json()
    assert detail["state"] == "closed" and detail["closed_on"] == "2026-09-15" and detail["closed_on_time"]
    assert detail["measures"] == "已修订制度并组织培训"
    assert [(e["action"], e["actor"]) for e in detail["history"]] == [
        ("create", "王敏"), ("assign", "王敏"), ("file_measures", "赵立新"), ("verify", "王敏"), ("close", "王敏"),
    ]  # fmt: skip
    assert detail["history"][1]["reason"] == "请抓紧" and detail["history"][1]["to_state"] == "assigned"
    assert _row(session, it.id) == ("closed", 5, 5)


def test_office_sends_back_with_a_reason_and_reopens_and_withdraws(
    web: WebTest, tokens: dict[str, str], session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    it = item(session, env, org, now)
    drive(session, env, org, it.id, "measures_filed", now)
    with web.api(tokens["jxb"]) as c:
        no_reason = c.post(f"/items/{it.id}/reject", json={})
        assert "必须填写原因" in _error(no_reason, 400)["message"]
        assert _row(session, it.id)[0] == "measures_filed"
        sent_back = c.post(f"/items/{it.id}/reject", json={"reason": "佐证材料不全"})
        assert sent_back.json()["item"]["state"] == "assigned"
        assert _row(session, it.id)[0] == "assigned"
        drive(session, env, org, it.id, "closed", now)
        assert (
            c.post(f"/items/{it.id}/reopen", json={"reason": "回头看发现反弹"}).json()["item"]["state"]
            == "assigned"
        )
        assert (
            c.post(f"/items/{it.id}/withdraw", json={"reason": "重复登记"}).json()["item"]["state"]
            == "withdrawn"
        )
    assert _row(session, it.id)[0] == "withdrawn"


def test_leader_decides_an_extension_the_department_asked_for(
    web: WebTest, tokens: dict[str, str], session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    it = item(session, env, org, now)
    drive(session, env, org, it.id, "assigned", now)
    with web.api(tokens["ywk"]) as dept, web.api(tokens["fyz"]) as leader:
        asked = dept.post(f"/items/{it.id}/extensions",
                          json={"target": "completion_due", "new_due": "2026-12-31", "reason": "设备采购周期长"})  # fmt: skip
        assert asked.status_code == 201, asked.text
        ext_id = asked.json()["extension"]["id"]
        assert (
            _error(dept.post(f"/extensions/{ext_id}/decision", json={"approve": True}), 403)["code"]
            == "forbidden"
        )
        pending = leader.get("/extensions", params={"pending": "true"}).json()
        assert [(e["id"], e["item_id"], e["requested_by"]) for e in pending] == [(ext_id, it.id, "赵立新")]
        decided = leader.post(f"/extensions/{ext_id}/decision", json={"approve": True, "note": "同意"})
        assert decided.status_code == 200, decided.text
        assert leader.get("/extensions", params={"pending": "true"}).json() == []
        detail = dept.get(f"/items/{it.id}").json()
    assert detail["completion_due"] == "2026-12-31"
    assert (
        detail["extensions"][0]["status"] == "approved" and detail["extensions"][0]["decided_by"] == "张卫东"
    )
    assert [e["action"] for e in detail["history"]][-2:] == ["request_extension", "approve_extension"]


def test_denying_an_extension_needs_a_reason(
    web: WebTest, tokens: dict[str, str], session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    it = item(session, env, org, now)
    drive(session, env, org, it.id, "assigned", now)
    ext = extensions.request_extension(session, env, it.id, org.medical, now, target="completion_due",
                                       new_due=dt.date(2026, 12, 31), reason="人手不足")  # fmt: skip
    with web.api(tokens["fyz"]) as leader:
        error = _error(leader.post(f"/extensions/{ext.id}/decision", json={"approve": False}), 400)
        assert "理由" in error["message"]
        session.commit()
        assert session.scalar(select(Extension.status).where(Extension.id == ext.id)) == "pending"
        denied = leader.post(f"/extensions/{ext.id}/decision", json={"approve": False, "note": "理由不充分"})
    assert denied.json()["extension"]["status"] == "denied"


def test_leader_cannot_close_and_department_cannot_assign(
    web: WebTest, tokens: dict[str, str], session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    verified, issued = item(session, env, org, now), item(session, env, org, now)
    drive(session, env, org, verified.id, "verified", now)
    before = _row(session, verified.id), _row(session, issued.id)
    with web.api(tokens["fyz"]) as leader, web.api(tokens["ywk"]) as dept:
        refused = _error(leader.post(f"/items/{verified.id}/close"), 403)
        assert refused["code"] == "forbidden" and "销号" in refused["message"]
        assert leader.get(f"/items/{verified.id}").json()["available_actions"] == []
        assert _error(dept.post(f"/items/{issued.id}/assign"), 403)["code"] == "forbidden"
    assert (_row(session, verified.id), _row(session, issued.id)) == before


def test_an_action_not_allowed_from_the_state_is_409(
    web: WebTest, tokens: dict[str, str], session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    it = item(session, env, org, now)
    with web.api(tokens["jxb"]) as c:
        error = _error(c.post(f"/items/{it.id}/close"), 409)
    assert error["code"] == "invalid_transition" and "尚未核验" in error["message"]
    assert _row(session, it.id) == ("issued", 1, 1)


# --- what a department may not see or change -----------------------------------------------------------------


def test_a_department_reads_only_its_own_items(
    web: WebTest, tokens: dict[str, str], session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    ours, theirs = item(session, env, org, now), item(session, env, org, now, lead=("药剂科",))
    with web.api(tokens["ywk"]) as dept, web.api(tokens["jxb"]) as office:
        listed = dept.get("/items").json()
        assert [i["id"] for i in listed["items"]] == [ours.id] and listed["total"] == 1
        error = _error(dept.get(f"/items/{theirs.id}"), 404)
        assert error["code"] == "not_found" and _chinese(error["message"])
        assert _error(dept.get(f"/notices/{theirs.notice_id}"), 404)["code"] == "not_found"
        assert [n["id"] for n in dept.get("/notices").json()] == [ours.notice_id]
        assert [i["id"] for i in office.get("/items").json()["items"]] == [ours.id, theirs.id]
        assert office.get(f"/items/{theirs.id}").status_code == 200


def test_a_department_cannot_change_another_departments_item(
    web: WebTest, tokens: dict[str, str], session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    theirs = item(session, env, org, now, lead=("药剂科",))
    drive(session, env, org, theirs.id, "assigned", now)
    before = _row(session, theirs.id)
    with web.api(tokens["ywk"]) as dept:
        answers = [
            dept.post(f"/items/{theirs.id}/file_measures", json={"measures": "代为提交"}),
            dept.post(f"/items/{theirs.id}/file_measures/upload", data={"measures": "代为提交"},
                      files={"evidence": ("证明.pdf", PDF, "application/pdf")}),
            dept.post(f"/items/{theirs.id}/extensions", json={"new_due": "2026-12-31", "reason": "代为申请"}),
            dept.post(f"/items/{theirs.id}/withdraw", json={"reason": "不想办"}),
        ]  # fmt: skip
    assert [r.status_code for r in answers] == [404, 404, 404, 404]
    assert _row(session, theirs.id) == before
    assert session.scalar(select(func.count(Extension.id))) == 0
    assert session.scalar(select(func.count(Evidence.id))) == 0
    assert not list((web.runtime.settings.evidence_dir).rglob("*.*"))


def test_a_cooperating_department_sees_the_item_but_cannot_file_for_it(
    web: WebTest, tokens: dict[str, str], session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    shared = item(session, env, org, now, lead=("药剂科",), coop=("医务科",))
    drive(session, env, org, shared.id, "assigned", now)
    before = _row(session, shared.id)
    with web.api(tokens["ywk"]) as dept:
        seen = dept.get(f"/items/{shared.id}").json()
        assert seen["lead_departments"] == ["药剂科"] and seen["available_actions"] == []
        refused = _error(
            dept.post(f"/items/{shared.id}/file_measures", json={"measures": "配合科室代交"}), 403
        )
        uploaded = dept.post(f"/items/{shared.id}/file_measures/upload", data={"measures": "配合科室代交"},
                             files={"evidence": ("证明.pdf", PDF, "application/pdf")})  # fmt: skip
    assert "本科室牵头" in refused["message"]
    assert _error(uploaded, 403)["code"] == "forbidden"
    assert _row(session, shared.id) == before
    assert not list((web.runtime.settings.evidence_dir).rglob("*.*"))  # the stored copy was removed


# --- versions, bad input, unknown records ------------------------------------------------------------------


def test_a_stale_version_is_409_and_changes_nothing(
    web: WebTest, tokens: dict[str, str], session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    it = item(session, env, org, now)
    with web.api(tokens["jxb"]) as first, web.api(tokens["admin"]) as second:
        version = first.get(f"/items/{it.id}").json()["version"]
        assert second.get(f"/items/{it.id}").json()["version"] == version
        assert first.post(f"/items/{it.id}/assign", json={"expected_version": version}).status_code == 200
        after_first = _row(session, it.id)
        late = second.post(f"/items/{it.id}/withdraw", json={"reason": "重复", "expected_version": version})
        error = _error(late, 409)
        current = second.get(f"/items/{it.id}").json()
    assert error["code"] == "conflict" and "已被他人同时修改" in error["message"]
    assert after_first == ("assigned", version + 1, 2)
    assert _row(session, it.id) == after_first
    assert (current["state"], current["version"]) == ("assigned", version + 1)


@pytest.mark.parametrize(
    ("method", "path", "payload", "words"),
    [
        ("get", "/items?state=bogus", None, "状态"),
        ("get", "/items?limit=5000", None, "1 至 1000"),
        ("get", "/items?offset=-1", None, "负数"),
        ("get", "/items?department=不存在科", None, "科室"),
        ("get", "/items?limit=abc", None, "请求参数有误"),
        ("get", "/items/abc", None, "请求参数有误"),
        ("post", "/notices", {"title": "通报", "issuer": "卫健委", "received_on": "2026/09/15"}, "YYYY-MM-DD"),
        ("post", "/notices", {"title": "通报", "issuer": "卫健委", "received_on": "2026-09-15", "oops": 1},
         "请求参数有误"),
        ("post", "/notices", {"title": "  ", "issuer": "卫健委", "received_on": "2026-09-15"}, "不能为空"),
    ],
)  # fmt: skip
def test_bad_input_is_400_json_with_a_chinese_message(
    web: WebTest,
    tokens: dict[str, str],
    session: Session,
    method: str,
    path: str,
    payload: object,
    words: str,
) -> None:
    with web.api(tokens["jxb"]) as c:
        response = c.request(method, path, json=payload)
    error = _error(response, 400)
    assert error["code"] == "invalid_input"
    assert words in error["message"] and _chinese(error["message"])
    assert session.scalar(select(func.count(Notice.id))) == 0


def test_bad_extension_input_is_400_and_records_nothing(
    web: WebTest, tokens: dict[str, str], session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    it = item(session, env, org, now)
    drive(session, env, org, it.id, "assigned", now)
    with web.api(tokens["ywk"]) as dept:
        bad_date = _error(
            dept.post(f"/items/{it.id}/extensions", json={"new_due": "明天", "reason": "x"}), 400
        )
        bad_target = _error(dept.post(f"/items/{it.id}/extensions",
                                      json={"target": "whenever", "new_due": "2026-12-31", "reason": "x"}), 400)  # fmt: skip
    assert "YYYY-MM-DD" in bad_date["message"]
    assert "期限类型" in bad_target["message"]
    assert session.scalar(select(func.count(Extension.id))) == 0


def test_unknown_records_are_404(web: WebTest, tokens: dict[str, str]) -> None:
    with web.api(tokens["jxb"]) as c:
        answers = [c.get("/items/9999"), c.post("/items/9999/assign"), c.get("/notices/9999"),
                   c.post("/extensions/9999/decision", json={"approve": True})]  # fmt: skip
    for response in answers:
        error = _error(response, 404)
        assert error["code"] == "not_found" and "不存在" in error["message"]


# --- notices, listing, figures -----------------------------------------------------------------------------


def test_office_registers_a_notice_and_its_items_departments_may_not(
    web: WebTest, tokens: dict[str, str], session: Session
) -> None:
    with web.api(tokens["jxb"]) as office, web.api(tokens["ywk"]) as dept:
        created = office.post("/notices", json={"title": "关于医疗质量检查的通报", "issuer": "县卫健委",
                                                "received_on": "2026-09-15", "doc_number": "x卫健[2026]9号"})  # fmt: skip
        assert created.status_code == 201, created.text
        nid = created.json()["id"]
        added = office.post(f"/notices/{nid}/items", json={
            "category": "医疗方面", "title": "病历书写不规范", "lead": "医务科，药剂科", "coop": ["感染管理科"],
            "measures": "workdays:10", "completion": "fixed:2026-12-31"})  # fmt: skip
        assert added.status_code == 201, added.text
        unknown_dept = office.post(f"/notices/{nid}/items",
                                   json={"category": "医疗方面", "title": "x", "lead": ["不存在科"]})  # fmt: skip
        refused_notice = dept.post(
            "/notices", json={"title": "科室自建", "issuer": "x", "received_on": "2026-09-15"}
        )
        refused_item = dept.post(
            f"/notices/{nid}/items", json={"category": "医疗方面", "title": "x", "lead": ["医务科"]}
        )
        shown = office.get(f"/notices/{nid}").json()
    new = added.json()
    assert new["lead_departments"] == ["医务科", "药剂科"] and new["cooperating_departments"] == [
        "感染管理科"
    ]
    assert (
        new["measures_due"] == "2026-09-29"
        and new["completion_due"] == "2026-12-31"
        and new["state"] == "issued"
    )
    assert "不存在科" in _error(unknown_dept, 400)["message"]
    assert _error(refused_notice, 403)["code"] == _error(refused_item, 403)["code"] == "forbidden"
    assert shown["doc_number"] == "x卫健[2026]9号" and [i["id"] for i in shown["items"]] == [new["id"]]
    assert session.scalar(select(func.count(Notice.id))) == 1
    assert session.scalar(select(func.count(Item.id))) == 1


def test_items_are_filtered_and_paged(
    web: WebTest, tokens: dict[str, str], session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    nid = notice(session, env, org, now)
    specs = [intake.ItemSpec(category="医疗方面", title=f"问题 {k}", lead_departments=["医务科" if k % 2 else "药剂科"],
                             measures_rule="workdays:10", completion_rule="workdays:25") for k in range(1, 8)]  # fmt: skip
    ids = [i.id for i in intake.create_items(session, env, nid, specs, org.office, now)]
    drive(session, env, org, ids[0], "assigned", now)
    with web.api(tokens["jxb"]) as c:
        first = c.get("/items", params={"limit": 3}).json()
        second = c.get("/items", params={"limit": 3, "offset": 3}).json()
        pharmacy = c.get("/items", params={"department": "药剂科"}).json()
        assigned = c.get("/items", params={"state": "assigned", "notice_id": nid}).json()
        web.clock.today = dt.date(2026, 10, 20)  # the measures targets (2026-09-29) have passed
        late = c.get("/items", params={"overdue": "true"}).json()
    assert [i["id"] for i in first["items"]] == ids[:3] and first["total"] == 7
    assert (first["limit"], first["offset"]) == (3, 0)
    assert [i["id"] for i in second["items"]] == ids[3:6] and second["offset"] == 3
    assert [i["id"] for i in pharmacy["items"]] == ids[1::2] and pharmacy["total"] == 3
    assert [i["id"] for i in assigned["items"]] == [ids[0]] and assigned["total"] == 1
    assert late["total"] == 7 and {i["light"] for i in late["items"]} == {"red"}


def test_stats_are_the_cli_figures(
    web: WebTest, tokens: dict[str, str], session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    done = item(session, env, org, now)
    item(session, env, org, now, lead=("药剂科",))
    drive(session, env, org, done.id, "closed", now)
    with web.api(tokens["fyz"]) as leader, web.api(tokens["ywk"]) as dept:
        everyone, mine = leader.get("/stats").json(), dept.get("/stats").json()
    expected = [r.as_json() for r in queries.department_stats(session, env.calendar, org.leader, now.date())]
    assert everyone["departments"] == expected
    assert {r["department"]: (r["total"], r["closed"]) for r in everyone["departments"]} == {
        "医务科": (1, 1), "药剂科": (1, 0)}  # fmt: skip
    assert (everyone["overall"]["total"], everyone["overall"]["closure_rate"]) == (2, 0.5)
    assert [r["department"] for r in mine["departments"]] == ["医务科"] and mine["overall"]["total"] == 1


# --- evidence uploads --------------------------------------------------------------------------------------


def test_an_upload_refused_by_its_content_stores_nothing(
    web: WebTest, tokens: dict[str, str], session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    it = item(session, env, org, now)
    drive(session, env, org, it.id, "assigned", now)
    before = _row(session, it.id)
    with web.api(tokens["ywk"]) as dept:
        response = dept.post(f"/items/{it.id}/file_measures/upload", data={"measures": "见附件"},
                             files=[("evidence", ("整改报告.pdf", PDF, "application/pdf")),
                                    ("evidence", ("整改照片.pdf", EXE, "application/pdf"))])  # fmt: skip
    error = _error(response, 400)
    assert "文件类型不允许" in error["message"] and "整改照片.pdf" in error["message"]
    assert _row(session, it.id) == before
    assert session.scalar(select(func.count(Evidence.id))) == 0
    assert not list(Path(web.runtime.settings.evidence_dir).rglob("*.*"))  # not even the good first file


def test_filing_without_measures_is_400_and_keeps_no_file(
    web: WebTest, tokens: dict[str, str], session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    it = item(session, env, org, now)
    drive(session, env, org, it.id, "assigned", now)
    before = _row(session, it.id)
    with web.api(tokens["ywk"]) as dept:
        plain = dept.post(f"/items/{it.id}/file_measures", json={"measures": "   "})
        upload = dept.post(
            f"/items/{it.id}/file_measures/upload",
            files={"evidence": ("培训签到表.pdf", PDF, "application/pdf")},
        )
    assert "必须填写整改措施" in _error(plain, 400)["message"]
    assert "必须填写整改措施" in _error(upload, 400)["message"]
    assert _row(session, it.id) == before
    assert not list(Path(web.runtime.settings.evidence_dir).rglob("*.*"))


def test_an_accepted_upload_files_the_measures_with_the_evidence(
    web: WebTest, tokens: dict[str, str], session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    it = item(session, env, org, now)
    drive(session, env, org, it.id, "assigned", now)
    version = _row(session, it.id)[1]
    with web.api(tokens["ywk"]) as dept:
        response = dept.post(f"/items/{it.id}/file_measures/upload",
                             data={"measures": "已组织全员培训", "expected_version": str(version)},
                             files={"evidence": ("培训签到表.pdf", PDF, "application/pdf")})  # fmt: skip
        assert response.status_code == 200, response.text
        detail = dept.get(f"/items/{it.id}").json()
    assert response.json()["item"]["state"] == "measures_filed"
    (shown,) = detail["evidence"]
    assert (shown["file_name"], shown["size"], shown["uploaded_by"]) == ("培训签到表.pdf", len(PDF), "赵立新")
    stored = session.scalar(select(Evidence.stored_path).where(Evidence.item_id == it.id))
    assert stored is not None and Path(stored).read_bytes() == PDF
    assert Path(stored).is_relative_to(Path(web.runtime.settings.evidence_dir).resolve())


# --- documentation -----------------------------------------------------------------------------------------


def test_the_openapi_document_lists_the_endpoints(web: WebTest) -> None:
    with httpx.Client(base_url=web.base) as c:
        doc = c.get("/api/openapi.json").json()
        docs_page = c.get("/api/docs")
    paths = doc["paths"]
    expected = {
        ("get", "/api/v1/me"), ("get", "/api/v1/items"), ("get", "/api/v1/items/{item_id}"),
        *(("post", f"/api/v1/items/{{item_id}}/{a}") for a in
          ("assign", "file_measures", "verify", "reject", "close", "reopen", "withdraw")),
        ("post", "/api/v1/items/{item_id}/file_measures/upload"), ("post", "/api/v1/items/{item_id}/extensions"),
        ("get", "/api/v1/extensions"), ("post", "/api/v1/extensions/{extension_id}/decision"),
        ("get", "/api/v1/notices"), ("post", "/api/v1/notices"), ("get", "/api/v1/notices/{notice_id}"),
        ("post", "/api/v1/notices/{notice_id}/items"), ("get", "/api/v1/stats"),
    }  # fmt: skip
    listed = {(m, p) for p, ops in paths.items() for m in ops if p.startswith("/api/v1/")}
    assert expected <= listed
    for method, path in expected:
        op = paths[path][method]
        assert _chinese(op["summary"]) and op["tags"], (method, path)
        assert "401" in op["responses"], (method, path)
    upload = paths["/api/v1/items/{item_id}/file_measures/upload"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert doc["components"]["securitySchemes"]
    assert docs_page.status_code == 200 and "/api/openapi.json" in docs_page.text


def test_the_api_item_model_has_every_ledger_field() -> None:
    assert list(ItemOut.model_fields) == [f.name for f in dataclasses.fields(ItemView)]
