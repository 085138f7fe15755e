"""The scorecard pages (考核评分) against the real server: the office recomputes, leaders see each
department's grade and the explanation, a department member sees only their own card, and names
from the rules are escaped.

The server reads the rules from a config folder of the test's own (:data:`RULES_TOML` plus an
indicator of a department named like a script tag).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from states import assessment
from states.service import Env
from tests.factories import Org
from tests.integration.test_assessment import RULES_TOML, write_rules
from tests.web.test_dashboard import rows
from tests.web.test_pages import csrf
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
