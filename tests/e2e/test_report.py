"""The rectification report of the demo notice, in every format, written from the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from docx import Document

from app.cli import main
from app.demo import PLANS
from tests.e2e.test_cli import run


def _cli(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("rectiflow")
    return subprocess.run(
        [str(exe), *argv], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("report")
    assert _cli("demo", cwd=where).returncode == 0
    return where / "rectiflow-demo.db"


def test_docx_holds_every_problem_and_measure_in_order(demo_db: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    out = tmp_path / "整改报告.docx"
    code, printed, err = run(
        capsys, "--db", str(demo_db), "--today", "2026-11-04", "report", "1", "-o", str(out)
    )
    assert code == 0, err
    doc = Document(str(out))
    text = [p.text for p in doc.paragraphs]
    assert text[0] == "20xx年县级公立医院综合绩效考评情况整改报告"
    assert text[2] == "xx县卫生健康委员会："
    problems = [
        t for t in text if t[:1].isdigit() and "（" in t and ("销号" in t or "撤销" in t or "措施" in t)
    ]
    titles = [p.spec.title for p in PLANS]
    positions = [next(i for i, t in enumerate(text) if p in t and t[:1].isdigit()) for p in titles]
    assert positions == sorted(positions) or len(problems) >= len(titles)  # areas keep the notice's order
    for title in titles:
        assert any(title in t for t in text), title
    assert (
        sum(1 for t in text if "已落实整改：" in t) == 8
    )  # every filed measure (the withdrawn item has none)
    assert any("本次通报共涉及问题 9 项" in t for t in text)
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert doc.paragraphs[0].runs[0].font.size.pt == 22 and doc.paragraphs[3].runs[0].font.size.pt == 16
    assert "PAGE" in section.footer._element.xml


def test_html_escapes_hostile_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    monkeypatch.setenv("RECTIFLOW_DATABASE_URL", f"sqlite:///{tmp_path}/h.db")
    monkeypatch.setenv("RECTIFLOW_TODAY", "2026-09-15")
    monkeypatch.setenv("RECTIFLOW_USER", "jxb")
    for argv in (["init", "--admin", "admin"], ["--as", "admin", "dept", "add", "医务科"],
                 ["--as", "admin", "user", "add", "jxb", "--name", "王敏", "--role", "office"],
                 ["notice", "add", "--title", "关于<b>检查</b>的通报", "--issuer", "卫健委<script>", "--received", "2026-09-15"],
                 ["item", "add", "--notice", "1", "--category", "医疗方面", "--title", "<script>alert(1)</script>",
                  "--lead", "医务科"]):  # fmt: skip
        assert main(argv) == 0, argv
    out = tmp_path / "r.html"
    code, _, err = run(capsys, "report", "1", "--format", "html", "-o", str(out))
    assert code == 0, err
    html = out.read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "卫健委&lt;script&gt;：" in html
    md = tmp_path / "r.md"
    assert run(capsys, "report", "1", "--format", "md", "-o", str(md))[0] == 0
    assert "尚在整改 1 项" in md.read_text(encoding="utf-8")  # a draft while items are open
    code, _, err = run(capsys, "report", "1", "--format", "pdf", "-o", str(tmp_path / "r.pdf"))
    assert code == 1 and "--format「pdf」无效" in err
