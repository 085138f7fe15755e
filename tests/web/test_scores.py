"""The scorecard pages (考核评分) against the real server: the office recomputes, leaders see each
department's grade and the explanation, a department member sees only their own card, and names
from the rules are escaped. Indicator results are filed through the web with evidence, verified or
sent back by the office, and a refused form writes nothing.

The server reads the rules from a config folder of the test's own (:data:`RULES_TOML` plus an
indicator of a department named like a script tag).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from states import assessment
from states.model import IndicatorResult
from states.service import Env
from tests.factories import Org
from tests.integration.test_assessment import RULES_TOML, write_rules
from tests.web.test_dashboard import rows
from tests.web.test_pages import PDF, SQLITE_ONLY, csrf
from tests.web_support import WebTest, give_passwords, live_server, web_runtime

SCRIPT_DEPT = '<script>alert("科")</script>'
SCRIPT_NAME = "<script>alert(1)</script>指标"
WEB_RULES = RULES_TOML + f"""
[[indicators]]
code = "XSS-1"
name = "{SCRIPT_NAME}"
points = 1
department = '{SCRIPT_DEPT}'
rule = {{ kind = "all_or_nothing" }}
"""


@pytest.fixture
def scores_web(engine: Engine, session: Session, org: Org, tmp_path: Path) -> Iterator[WebTest]:
    """The web app whose ``config_dir`` holds :data:`WEB_RULES` as ``scoring.toml``."""
    folder = tmp_path / "config"
    folder.mkdir()
    write_rules(folder, WEB_RULES)
    give_passwords(session)
    runtime = web_runtime(engine, tmp_path, dt.date(2026, 9, 15))
    runtime = replace(runtime, settings=replace(runtime.settings, config_dir=folder))
    with live_server(runtime) as base:
        yield WebTest(runtime=runtime, base=base, org=org, clock=runtime.clock)  # type: ignore[arg-type]


def results(web: WebTest, session: Session, org: Org, now: dt.datetime) -> None:
    """医务科 reports 1 missing record (9.5 of 10) and its core rules done (5 of 5); the office verifies."""
    rules = assessment.read_rules(web.runtime.settings.config_dir / "scoring.toml")[0]
    for code, value in (("YW-01", "1"), ("YW-02", "是")):
        row = assessment.file_result(session, rules, org.medical, now, code=code, value=value,
                                     note="<b>自查</b>")  # fmt: skip
        assessment.verify_result(session, org.office, now, row.id)


def compute(web: WebTest, session: Session, env: Env, org: Org, now: dt.datetime) -> None:
    rules, sha = assessment.read_rules(web.runtime.settings.config_dir / "scoring.toml")
    assessment.compute_scorecards(session, env, org.office, now, rules, sha)


def test_the_office_recomputes_and_the_leader_sees_the_grades(
    scores_web: WebTest, session: Session, org: Org, now: dt.datetime
) -> None:
    results(scores_web, session, org, now)
    with scores_web.client("fyz") as leader:
        empty = leader.get("/scores").text
        assert "本考核期尚未计算评分" in empty and "/scores/recompute" not in empty
        refused = leader.post("/scores/recompute", data={"csrf": csrf(empty), "period": "2026"})
        assert refused.status_code == 403
    with scores_web.client("jxb") as office:
        page = office.get("/scores").text
        assert office.post("/scores/recompute", data={"csrf": "forged", "period": "2026"}).status_code == 403
        done = office.post("/scores/recompute", data={"csrf": csrf(page), "period": "2026"})
        assert done.status_code == 200 and str(done.url).endswith("/scores?period=2026")
    with scores_web.client("fyz") as leader:
        page = leader.get("/scores").text
    table = rows(page, "scores")
    assert [r[:5] for r in table] == [
        ["医务科", "14.5", "96.67", "优秀", "1"], ["药剂科", "0", "0", "不合格", "1"], ["质控科", "0", "0", "不合格", "1"],
        ["&lt;script&gt;alert(&#34;科&#34;)&lt;/script&gt;", "0", "0", "不合格", "1"],
    ]  # fmt: skip
    assert {r[5] for r in table} == {"t-1"} and table[0][6] == "2026-09-1509:00"
    assert "<script>alert" not in page and "版本 t-1" in page
    assert f'href="/scores/{quote(SCRIPT_DEPT, safe="")}?period=2026"' in page


def test_the_explanation_shows_every_step_escaped(
    scores_web: WebTest, session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    results(scores_web, session, org, now)
    compute(scores_web, session, env, org, now)
    with scores_web.client("fyz") as leader:
        medical = leader.get(f"/scores/{quote('医务科')}?period=2026")
        script = leader.get(f"/scores/{quote(SCRIPT_DEPT, safe='')}")
    assert medical.status_code == 200
    explained = re.search(r'<ol id="explain">(.*?)</ol>', medical.text, re.S)
    assert explained is not None
    steps = re.findall(r"<li>(.*?)</li>", explained[1], re.S)
    card = assessment.latest_scorecard(session, org.leader, "2026", "医务科")
    assert len(steps) == len(card.data["explain"]) and steps[0] == "科室「医务科」考核期 2026（评分规则版本 t-1）"
    assert rows(medical.text, "lines")[0][:5] == ["YW-01", "病历书写合格", "10", "1", "9.5"]
    assert "（备注：&lt;b&gt;自查&lt;/b&gt;）" in medical.text and "<b>自查" not in medical.text
    assert "优秀" in medical.text and "评定分96.67分" in medical.text
    assert script.status_code == 200
    assert "<script>alert" not in script.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;指标" in script.text


def test_a_department_member_sees_only_their_own_card(
    scores_web: WebTest, session: Session, env: Env, org: Org, now: dt.datetime
) -> None:
    compute(scores_web, session, env, org, now)
    with scores_web.client("ywk") as member:
        page = member.get("/scores").text
        assert [r[0] for r in rows(page, "scores")] == ["医务科"]
        assert "/scores/recompute" not in page and 'href="/scores">本科室考核' in page
        assert member.get(f"/scores/{quote('医务科')}").status_code == 200
        assert member.get(f"/scores/{quote('药剂科')}").status_code == 404
        refused = member.post("/scores/recompute", data={"csrf": csrf(page), "period": "2026"})
        assert refused.status_code == 403


def test_the_dashboard_and_the_menu_link_to_the_scores(scores_web: WebTest) -> None:
    with scores_web.client("fyz") as leader:
        page = leader.get("/dashboard").text
    assert page.count('href="/scores"') == 2  # the menu and the dashboard's box


# ----------------------------------------------------------------------------------------------
# Indicator results through the web (/scores/results): filed like an item's measures
# ----------------------------------------------------------------------------------------------


def file_value(c: httpx.Client, code: str, value: str, uploads: Sequence[tuple[str, bytes]] = (), note: str = "",
               token: str | None = "") -> httpx.Response:  # fmt: skip
    """Submit the filing form of ``code`` from the results page, as a browser would (``token``:
    ``""`` for the page's CSRF token, ``None`` for none, else that token)."""
    page = c.get("/scores/results").text
    form = {"period": "2026", "value": value, "note": note}
    if token is not None:
        form["csrf"] = token or csrf(page)
    sent = [("evidence", (name, data, "application/octet-stream")) for name, data in uploads or [("", b"")]]
    return c.post(f"/scores/results/{code}", data=form, files=sent)


def decide(c: httpx.Client, result_id: int, action: str, text: str = "", token: str = "") -> httpx.Response:
    """核验 (``verify``, ``text`` the note) or 退回 (``reject``, ``text`` the reason) from the results page."""
    page = c.get("/scores/results").text
    field = "note" if action == "verify" else "reason"
    form = re.search(rf'id="{action}-{result_id}".*?name="version" value="(\d+)"', page, re.S)
    version = form[1] if form else "1"  # a user who may not decide sees no form
    return c.post(f"/scores/results/{result_id}/{action}",
                  data={"csrf": token or csrf(page), "version": version, field: text})  # fmt: skip


def result_rows(session: Session, web: WebTest) -> tuple[object, ...]:
    """Everything a refused form must leave as it was: the results and the stored files."""
    session.expire_all()
    found = tuple(session.execute(select(IndicatorResult.id, IndicatorResult.code, IndicatorResult.value,
                                         IndicatorResult.status, IndicatorResult.version)
                                  .order_by(IndicatorResult.id)).tuples())  # fmt: skip
    root = web.runtime.settings.evidence_dir
    return found, tuple(sorted(str(p) for p in root.rglob("*") if p.is_file()))


def current(session: Session, code: str) -> IndicatorResult:
    session.expire_all()
    row = session.scalar(select(IndicatorResult).where(IndicatorResult.code == code))
    assert row is not None
    return row


def test_a_department_files_a_result_with_evidence_and_the_office_verifies(
    scores_web: WebTest, session: Session, org: Org
) -> None:
    with scores_web.client("ywk") as member:
        page = member.get("/scores").text
        assert 'href="/scores/results?period=2026">填报本科室指标结果' in page
        form = member.get("/scores/results").text
        assert [r[0] for r in rows(form, "results")] == ["YW-01", "YW-02"]
        assert 'id="file-YW-01"' in form and 'enctype="multipart/form-data"' in form and "/verify" not in form
        filed = file_value(member, "YW-01", "1", [("C:\\fakepath\\病历抽查:报告.pdf", PDF)], note="<b>抽查</b>")
        assert filed.status_code == 200 and str(filed.url).endswith("/scores/results?period=2026")
        assert rows(filed.text, "results")[0][5:9] == ["1", "&lt;b&gt;抽查&lt;/b&gt;", f"病历抽查_报告.pdf{len(PDF)}Bytes", "待核验"]
        link = re.search(r'href="(/scores/results/\d+/evidence/1)"', filed.text)[1]  # type: ignore[index]
        download = member.get(link)
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-disposition"] == "attachment; filename*=UTF-8''" + quote("病历抽查_报告.pdf")
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-security-policy"] == "sandbox"
    row = current(session, "YW-01")
    assert (row.value, row.status, row.note, row.filed_by) == ("1", "filed", "<b>抽查</b>", org.medical.id)

    with scores_web.client("yjk") as other:
        assert [r[0] for r in rows(other.get("/scores/results").text, "results")] == ["YJ-01"]
        refused = file_value(other, "YW-01", "0")
        assert refused.status_code == 403 and "只能填报本科室负责的指标" in refused.text
        assert other.get(link).status_code == 404
        assert other.get(f"/scores/results/{row.id}/evidence/2").status_code == 404
    with scores_web.client("fyz") as leader:
        page = leader.get("/scores/results").text
        assert [r[0] for r in rows(page, "results")] == ["YW-01", "YW-02", "YJ-01", "ZK-01", "XSS-1"]
        assert "<form id=" not in page and "<script>alert" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;指标" in page
        assert leader.get(link).status_code == 200
        assert decide(leader, row.id, "verify").status_code == 403
    with scores_web.client("jxb") as office:
        page = office.get("/scores/results").text
        assert f'id="verify-{row.id}"' in page and f'id="reject-{row.id}"' in page and 'id="file-' not in page
        verified = decide(office, row.id, "verify", "属实")
        assert verified.status_code == 200 and str(verified.url).endswith("/scores/results?period=2026")
        assert rows(verified.text, "results")[0][8] == "已核验核验意见：属实"
        assert f'id="verify-{row.id}"' not in verified.text  # a verified result can still be sent back
        recomputed = office.post("/scores/recompute", data={"csrf": csrf(page), "period": "2026"})
        assert recomputed.status_code == 200
        card = office.get(f"/scores/{quote('医务科')}?period=2026").text
    assert rows(card, "lines")[0][:5] == ["YW-01", "病历书写合格", "10", "1", "9.5"]
    assert current(session, "YW-01").status == "verified"
    with scores_web.client("ywk") as member:
        again = member.get("/scores/results").text
        assert 'id="file-YW-01"' not in again and 'id="file-YW-02"' in again
        refiled = file_value(member, "YW-01", "0")
    assert refiled.status_code == 400 and "已核验，不能重新填报" in refiled.text


@SQLITE_ONLY
def test_a_rejected_result_shows_the_reason_and_can_be_filed_again(
    scores_web: WebTest, session: Session, org: Org
) -> None:
    with scores_web.client("ywk") as member:
        assert file_value(member, "YW-02", "是").status_code == 200
    result_id = current(session, "YW-02").id
    with scores_web.client("jxb") as office:
        blank = decide(office, result_id, "reject", "  ")
        assert blank.status_code == 400 and "退回原因「  」无效：不能为空" in blank.text
        assert current(session, "YW-02").status == "filed"
        assert decide(office, result_id, "reject", "<i>缺少会议记录</i>").status_code == 200
    with scores_web.client("ywk") as member:
        page = member.get("/scores/results").text
        assert rows(page, "results")[1][8] == "已退回退回原因：&lt;i&gt;缺少会议记录&lt;/i&gt;"
        assert 'id="file-YW-02"' in page and "<i>" not in page
        refiled = file_value(member, "YW-02", "否", note="补充会议记录")
    assert refiled.status_code == 200
    line = rows(refiled.text, "results")[1]
    assert line[5:9] == ["否", "补充会议记录", "—", "待核验"]
    assert line[9].startswith("第2次填报") and "是（已退回：&lt;i&gt;缺少会议记录&lt;/i&gt;）" in line[9]
    row = current(session, "YW-02")
    assert (row.value, row.status, row.version, row.decision_note) == ("false", "filed", 3, None)
    assert row.history[0]["decision_note"] == "<i>缺少会议记录</i>"


@SQLITE_ONLY
def test_a_bad_value_or_a_missing_form_token_writes_nothing(
    scores_web: WebTest, session: Session, org: Org, now: dt.datetime
) -> None:
    rules = assessment.read_rules(scores_web.runtime.settings.config_dir / "scoring.toml")[0]
    filed = assessment.file_result(session, rules, org.medical, now, code="YW-02", value="是")
    before = result_rows(session, scores_web)
    with scores_web.client("ywk") as member:
        bad = file_value(member, "YW-01", "三份", [("抽查.pdf", PDF)])
        assert bad.status_code == 400 and "指标 YW-01 的结果「三份」无效：应为数字" in bad.text
        assert file_value(member, "YW-02", "也许").status_code == 400
        assert member.get("/scores/results?period=明年").status_code == 400
        for token in (None, "forged"):
            refused = file_value(member, "YW-01", "1", [("抽查.pdf", PDF)], token=token)
            assert refused.status_code == 403 and "表单已过期" in refused.text
    with scores_web.client("jxb") as office:
        for action in ("verify", "reject"):
            forged = decide(office, filed.id, action, "x", token="forged")
            assert forged.status_code == 403 and "表单已过期" in forged.text
        assert decide(office, 999, "verify").status_code == 404
    assert result_rows(session, scores_web) == before


@SQLITE_ONLY
def test_a_decision_on_a_page_opened_before_the_result_was_filed_again_is_refused(
    scores_web: WebTest, session: Session
) -> None:
    with scores_web.client("ywk") as member:
        assert file_value(member, "YW-01", "1").status_code == 200
    result_id = current(session, "YW-01").id
    with scores_web.client("jxb") as office:
        opened = office.get("/scores/results").text  # the office reads the value 1 …
        with scores_web.client("ywk") as member:  # … while the department corrects it to 3
            assert file_value(member, "YW-01", "3").status_code == 200
        for action, field in (("verify", "note"), ("reject", "reason")):
            form = re.search(rf'id="{action}-{result_id}".*?name="version" value="(\d+)"', opened, re.S)
            assert form is not None and form[1] == "1"
            stale = office.post(f"/scores/results/{result_id}/{action}",
                                data={"csrf": csrf(opened), "version": form[1], field: "已核对"})  # fmt: skip
            assert stale.status_code == 409
            assert "指标 YW-01 的结果 已被他人同时修改" in stale.text and "请刷新后重试" in stale.text
        row = current(session, "YW-01")
        assert (row.value, row.status, row.version, row.decided_by) == ("3", "filed", 2, None)
        assert decide(office, result_id, "verify", "已核对").status_code == 200  # the fresh page's form works
    assert current(session, "YW-01").status == "verified"
