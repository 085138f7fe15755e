"""Message templates: every kind renders, with and without the optional keys, in Chinese."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from config import ConfigError
from notifications.render import KINDS, Renderer, RenderError, UnknownKind, cn_date

TEMPLATES = Path(__file__).resolve().parents[2] / "config" / "templates"
OPTIONAL = ("doc_number", "lead_leader", "due", "reason", "approved", "new_due")


def full_context(kind: str) -> dict[str, Any]:
    return {
        "recipient_name": "赵立新（医务科）",
        "item_id": "R-2026-017",
        "notice_title": "关于2026年第三季度医疗质量检查情况的通报",
        "doc_number": "院质控〔2026〕12号",
        "category": "医疗质量",
        "title": "临床输血管理不规范",
        "lead_departments": ["医务科", "输血科"],
        "lead_leader": "王建国",
        "target": "measures_due",
        "target_label": "整改措施",
        "due": "2026-09-25",
        "overdue_workdays": 3,
        "level": kind,
        "reason": "佐证材料不全",
        "approved": True,
        "new_due": "2026-10-30",
        "today": "2026-09-28",
    }


def bare_context(kind: str) -> dict[str, Any]:
    return {**full_context(kind), **dict.fromkeys(OPTIONAL), "lead_departments": []}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(TEMPLATES)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_a_full_context(renderer: Renderer, kind: str) -> None:
    out = renderer.render(kind, full_context(kind))
    assert out.subject.startswith("【整改督办】") and "临床输血管理不规范" in out.subject
    assert "\n" not in out.subject
    for body in (out.text, out.html):
        assert "赵立新（医务科）" in body
        assert "R-2026-017" in body
        assert "院质控〔2026〕12号" in body
        assert "医务科、输血科" in body
        assert "督查办" in body
    assert out.text.endswith("\n") and "\n\n\n" not in out.text
    assert out.html.startswith("<div") and out.html.endswith("</div>")


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_with_the_optional_keys_none(renderer: Renderer, kind: str) -> None:
    out = renderer.render(kind, bare_context(kind))
    for body in (out.text, out.html):
        assert "None" not in body
        assert "未指定" in body  # no lead department, no lead leader
        assert "未设定" in body  # no deadline
        assert "R-2026-017" in body


@pytest.mark.parametrize("kind", KINDS)
def test_html_is_escaped_and_text_is_not(renderer: Renderer, kind: str) -> None:
    out = renderer.render(kind, {**full_context(kind), "title": "输血<script>&记录"})
    assert "输血<script>&记录" in out.subject
    assert "输血<script>&记录" in out.text
    assert "<script>" not in out.html and "输血&lt;script&gt;&amp;记录" in out.html


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("overdue", "已逾期 3 个工作日"),
        ("supervision", "现予督办"),
        ("talk", "约谈名单"),
        ("sent_back", "退回原因：佐证材料不全"),
        ("closed", "予以销号"),
        ("due_today", "今日"),
        ("reminder", "即将到期"),
        ("assigned", "交办你科室"),
    ],
    ids=lambda v: v if v in KINDS else "",
)
def test_each_kind_says_what_it_is(renderer: Renderer, kind: str, expected: str) -> None:
    assert expected in renderer.render(kind, full_context(kind)).text


@pytest.mark.parametrize(
    ("approved", "expected"),
    [(True, "已获批准，整改措施期限调整为2026年10月30日"), (False, "未获批准"), (None, "已处理")],
    ids=["approved", "denied", "unknown"],
)
def test_extension_decision(renderer: Renderer, approved: bool | None, expected: str) -> None:
    out = renderer.render("extension_decided", {**full_context("extension_decided"), "approved": approved})
    assert expected in out.text


def test_completion_target_changes_the_wording(renderer: Renderer) -> None:
    context = {**full_context("overdue"), "target": "completion_due", "target_label": "整改完成"}
    text = renderer.render("overdue", context).text
    assert "整改完成期限为2026年9月25日" in text and "尚未完成整改" in text


def test_digest_lists_every_part(renderer: Renderer) -> None:
    parts = [renderer.render(k, full_context(k)) for k in ("reminder", "overdue", "supervision")]
    out = renderer.render_digest("赵立新（医务科）", date(2026, 9, 28), parts)
    assert out.subject == "【整改督办】赵立新（医务科）2026-09-28 待办提醒（3项）"
    for part in parts:
        assert part.subject.removeprefix("【整改督办】") in out.text
        assert part.text in out.text
        assert part.html in out.html  # embedded as is, not escaped twice


def test_unknown_kind_is_refused(renderer: Renderer) -> None:
    with pytest.raises(UnknownKind, match="「nonsense」.*可用：.*overdue"):
        renderer.render("nonsense", full_context("overdue"))
    with pytest.raises(UnknownKind):
        renderer.render("digest", full_context("overdue"))


def test_a_missing_context_key_names_it(renderer: Renderer) -> None:
    context = full_context("overdue")
    del context["title"]
    with pytest.raises(RenderError, match="overdue.j2.*title"):
        renderer.render("overdue", context)


def test_a_missing_template_stops_the_start(tmp_path: Path) -> None:
    shutil.copytree(TEMPLATES, tmp_path / "templates")
    (tmp_path / "templates" / "messages" / "talk.j2").unlink()
    with pytest.raises(ConfigError, match="talk.j2"):
        Renderer(tmp_path / "templates")


def test_a_template_without_a_block_stops_the_start(tmp_path: Path) -> None:
    shutil.copytree(TEMPLATES, tmp_path / "templates")
    (tmp_path / "templates" / "messages" / "closed.j2").write_text(
        "{% block subject %}销号{% endblock %}{% block text %}销号{% endblock %}", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="closed.j2.*html"):
        Renderer(tmp_path / "templates")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2026-09-28", "2026年9月28日"), (date(2026, 1, 5), "2026年1月5日"), (None, "未设定"), ("下月", "下月")],
    ids=["iso", "date", "none", "other"],
)
def test_cn_date(value: str | date | None, expected: str) -> None:
    assert cn_date(value) == expected


def test_weekly_bulletin_lists_every_department(renderer: Renderer) -> None:
    stats = [{"department": "医务科", "total": 2, "closed": 1, "closed_on_time": 1, "overdue": 1, "withdrawn": 0,
              "closure_rate": 0.5, "on_time_rate": 1.0},
             {"department": "合计", "total": 2, "closed": 1, "closed_on_time": 1, "overdue": 1, "withdrawn": 0,
              "closure_rate": 0.5, "on_time_rate": 1.0}]  # fmt: skip
    overdue = [{"id": 7, "title": "<b>临床输血</b>管理不规范", "leads": "医务科", "due": "2026-09-29",
                "overdue_workdays": 5}]  # fmt: skip
    changes = {"new": 3, "closed": 2, "closed_late": 1, "reopened": 0, "withdrawn": 1, "extended": 1}
    out = renderer.render("weekly", {"recipient_name": "李建国", "today": "2026-10-12", "week": "2026年第42周",
                                     "stats": stats, "overdue": overdue, "overdue_total": 4, "changes": changes,
                                     "scores": {"period": "2026", "rules_version": "2026.1",
                                                "rows": [{"department": "医务科", "total": "47.38", "grade": "不合格"},
                                                         {"department": "药剂科", "total": "8", "grade": "优秀"}]}})  # fmt: skip
    assert out.subject == "【整改督办】2026年第42周督办简报"
    assert "医务科：事项 2 项，已销号 1 项（按期 1 项），逾期 1 项，销号率 50.0%" in out.text
    assert "<td>合计</td>" in out.html
    assert "考核得分（2026，评分规则 2026.1）：医务科 47.38 分（不合格）；药剂科 8 分（优秀）" in out.text
    assert "本周变化：新登记 3 项，销号 2 项（其中逾期销号 1 项），重新打开 0 项，撤销 1 项，批准延期 1 项" in out.text
    assert "逾期事项（共 4 项，列出逾期最久的 1 项）" in out.text
    assert "1. <b>临床输血</b>管理不规范（医务科，2026年9月29日到期，逾期 5 个工作日）" in out.text
    assert "&lt;b&gt;临床输血&lt;/b&gt;" in out.html and "<b>临床输血" not in out.html


def test_weekly_bulletin_without_overdue_items_says_so(renderer: Renderer) -> None:
    changes = dict.fromkeys(("new", "closed", "closed_late", "reopened", "withdrawn", "extended"), 0)
    out = renderer.render("weekly", {"recipient_name": "李建国", "today": "2026-10-12", "week": "2026年第42周",
                                     "stats": [], "overdue": [], "overdue_total": 0, "changes": changes,
                                     "scores": None})  # fmt: skip
    assert "目前没有逾期事项" in out.text and "目前没有逾期事项" in out.html
    assert "考核得分" not in out.text


def test_report_ready_names_the_notice_and_files(renderer: Renderer) -> None:
    out = renderer.render("report_ready", {"recipient_name": "王敏", "today": "2026-10-12", "notice_id": 3,
                                           "notice_title": "关于<2026>年绩效考评情况的通报", "doc_number": None,
                                           "files": ["reports/3/整改报告-3.docx"]})  # fmt: skip
    assert out.subject == "【整改督办】《关于<2026>年绩效考评情况的通报》整改报告已生成"
    assert "reports/3/整改报告-3.docx" in out.text and "（None）" not in out.text
    assert "&lt;2026&gt;" in out.html
