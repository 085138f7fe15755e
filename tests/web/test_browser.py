"""A real browser (Debian's chromium, driven by Playwright) through the three roles' pages:
a department member files measures with an evidence file, the office verifies and closes, and the
leader's dashboard shows the closure rate change. Screenshots of each page go to the test's
temporary folder."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy.orm import Session

from states import intake, service
from tests.factories import item_spec, notice
from tests.web_support import PASSWORD, WebTest

CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason=f"Debian's chromium is not installed ({CHROMIUM})"),
]


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield b
        b.close()


def log_in(browser: Browser, web: WebTest, username: str) -> Page:
    page = browser.new_context(base_url=web.base, locale="zh-CN").new_page()
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    return page


@pytest.fixture
def item_id(web: WebTest, session: Session) -> int:
    """Two assigned items of 医务科 (so closing one moves the closure rate from 0% to 50%)."""
    env, o = web.runtime.env, web.org
    now = web.clock.now()
    nid = notice(session, env, o, now, dt.date(2026, 9, 15))
    first, second = intake.create_items(session, env, nid, [item_spec("临床输血管理不规范"),
                                                            item_spec("病历书写质量不高")], o.office, now)  # fmt: skip
    for it in (first, second):
        service.assign(session, env, it.id, o.office, now)
    return first.id


def test_department_files_office_closes_leader_sees_the_rate_change(
    web: WebTest, browser: Browser, item_id: int, tmp_path: Path
) -> None:
    shots = tmp_path / "screenshots"  # kept by pytest under its basetemp for a look after the run
    shots.mkdir()
    evidence = tmp_path / "输血培训签到表.pdf"
    evidence.write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")

    leader = log_in(browser, web, "fyz")
    expect(leader.locator("#kpi-closure b")).to_have_text("0.0%")
    leader.screenshot(path=str(shots / "1-leader-dashboard-before.png"), full_page=True)

    dept = log_in(browser, web, "ywk")
    expect(dept).to_have_url(f"{web.base}/my")
    dept.screenshot(path=str(shots / "2-department-my-items.png"), full_page=True)
    dept.get_by_role("link", name="临床输血管理不规范").first.click()
    dept.get_by_label("整改措施（必填）").fill("已组织全院输血知识培训，修订输血申请单填写规范。")
    dept.locator("#file_measures input[type=file]").set_input_files(str(evidence))
    dept.get_by_role("button", name="提交整改措施").click()
    expect(dept.locator("dd.state")).to_have_text("已提交措施")
    expect(dept.get_by_role("link", name="输血培训签到表.pdf")).to_be_visible()
    dept.screenshot(path=str(shots / "3-department-measures-filed.png"), full_page=True)

    office = log_in(browser, web, "jxb")
    office.goto(f"/items/{item_id}")
    office.get_by_role("button", name="核验通过").click()
    expect(office.locator("dd.state")).to_have_text("已核验")
    office.get_by_role("button", name="销号").click()
    expect(office.locator("dd.state")).to_have_text("已销号")
    office.screenshot(path=str(shots / "4-office-closed.png"), full_page=True)
    office.goto("/ledger")
    office.screenshot(path=str(shots / "5-office-ledger.png"), full_page=True)

    leader.reload()
    expect(leader.locator("#kpi-closure b")).to_have_text("50.0%")
    expect(leader.locator("#kpi-on-time b")).to_have_text("100.0%")
    leader.screenshot(path=str(shots / "6-leader-dashboard-after.png"), full_page=True)

    assert sorted(p.name for p in shots.iterdir()) == [
        "1-leader-dashboard-before.png", "2-department-my-items.png", "3-department-measures-filed.png",
        "4-office-closed.png", "5-office-ledger.png", "6-leader-dashboard-after.png",
    ]  # fmt: skip
    assert all(p.stat().st_size > 5_000 for p in shots.iterdir())
