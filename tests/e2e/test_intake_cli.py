"""Intake from the command line: lists and notice texts in, the ledger out and back in."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_cli import cli_database, run, snapshot
from tests.fixtures_tables import write_rows_xlsx, write_seed003_xlsx

REPORT = """20xx年度县级公立医院综合绩效考评情况整改报告
xx县卫生健康委员会：
我院接到县卫健委《关于20xx年县级公立医院综合绩效考评情况的通报》(x卫健医[20x]x号)文件后，现将整改结果汇报如下：
一、医疗方面存在问题及整改措施
存在问题：
1.临床核心制度管理落实不到位。
(1)存在丙级病历现象。随机抽取10份病例，1份丙级病历。
(2)违背疑难病例讨论制度。
2.临床输血管理不规范。个别非紧急输血申请单中，传染八项情况未填写或填写不规范。
整改措施：
1.加强对医务人员病历书写的监管。
二、医院感染管理方面存在问题及整改措施
存在问题：
医院感染防控存在安全隐患。普通临床科室医护人员手卫生依从性有待提高。
整改措施：
1.改进手卫生监督模式。
三、下一步改进计划
1.持续改进。
"""

SETUP = [
    ["init", "--admin", "admin"],
    *[["--as", "admin", "dept", "add", d] for d in ("医务科", "输血科", "药剂科", "感染管理科", "财务科")],
    ["--as", "admin", "user", "add", "jxb", "--name", "王敏", "--role", "office"],
    ["--as", "jxb", "notice", "add", "--title", "2024年重点工作目标责任制考核", "--issuer", "绍兴市卫生健康委员会",
     "--received", "2026-09-15", "--doc", "绍市中医〔2024〕61号"],
    ["--as", "jxb", "notice", "add", "--title", "台账回导", "--issuer", "督查办", "--received", "2026-09-15"],
]  # fmt: skip


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return cli_database(tmp_path, monkeypatch, SETUP, user="jxb")


def items(capsys: pytest.CaptureFixture[str], notice: int) -> list[dict[str, object]]:
    code, out, _ = run(capsys, "items", "--notice", str(notice), "--json")
    assert code == 0
    return json.loads(out)


def test_seed_list_dry_run_then_import(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    xlsx = tmp_path / "责任分工.xlsx"
    write_seed003_xlsx(xlsx)
    before = snapshot(db)
    code, out, err = run(capsys, "import", str(xlsx), "--notice", "1", "--dry-run", "--create-departments")
    assert code == 0, err
    assert "导入预览" in out and "未写入" in out
    assert snapshot(db) == before
    code, out, err = run(capsys, "import", str(xlsx), "--notice", "1", "--create-departments")
    assert code == 0, err
    got = items(capsys, 1)
    assert got and all(i["lead_departments"] for i in got)
    assert "已导入" in out


def test_bad_rows_are_listed_and_nothing_is_written(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    xlsx = tmp_path / "bad.xlsx"
    header = ["序号", "清单内容", "牵头科室", "完成时限"]
    write_rows_xlsx(xlsx, header, [[1, "好的一行", "医务科", "2026年12月底"], [2, "日期不存在", "医务科", "2026年2月30日"],
                                   [3, "没有牵头科室", None, "2026-12-20"], [4, "科室不存在", "宣传科", "12月25日"]])  # fmt: skip
    before = snapshot(db)
    code, _, err = run(capsys, "import", str(xlsx), "--notice", "1")
    assert code == 1
    lines = err.strip().splitlines()
    assert any("第 3 行" in ln and "完成时限" in ln for ln in lines)
    assert any("第 4 行" in ln and "牵头科室" in ln for ln in lines)
    assert snapshot(db) == before


def test_gb18030_csv(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "清单.csv"
    csv.write_text("序号,清单内容,牵头科室,配合科室,完成时限\n1,药品采购管理不规范,药剂科,财务科、医务科,2026年12月31日\n",
                   encoding="gb18030")  # fmt: skip
    assert run(capsys, "import", str(csv), "--notice", "1")[0] == 0
    (item,) = items(capsys, 1)
    assert item["title"] == "药品采购管理不规范" and item["cooperating_departments"] == [
        "医务科",
        "财务科",
    ]  # by department
    assert item["completion_due"] == "2026-12-31"


def test_notice_text_from_a_file_and_from_stdin(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "整改报告.txt"
    text.write_text(REPORT, encoding="gb18030")
    code, out, err = run(capsys, "import", str(text), "--notice", "1", "--dry-run")
    assert code == 1 and "牵头科室" in err  # a report names no lead departments: the office must add them
    code, out, _ = run(capsys, "import", str(text), "--notice", "2", "--lead", "医务科")
    assert code == 0 and "通报文号已补记为「x卫健医[20x]x号」" in out
    code, out, _ = run(capsys, "notice", "list", "--json")
    assert json.loads(out)[1]["doc_number"] == "x卫健医[20x]x号"
    assert run(capsys, "import", str(text), "--notice", "1", "--lead", "医务科")[0] == 0
    got = items(capsys, 1)
    assert [(i["category"], i["title"]) for i in got] == [
        ("医疗方面", "临床核心制度管理落实不到位"),
        ("医疗方面", "临床输血管理不规范"),
        ("医院感染管理方面", "医院感染防控存在安全隐患"),
    ]
    r = subprocess.run([str(Path(sys.executable).with_name("rectiflow")), "import", "--text", "-", "--notice", "1",
                        "--lead", "医务科"], input=REPORT, capture_output=True, text=True, check=False, cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0 and "已导入 3 个事项" in r.stdout, r.stderr
    assert len(items(capsys, 1)) == 6


def test_ledger_round_trip(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    xlsx = tmp_path / "责任分工.xlsx"
    write_seed003_xlsx(xlsx)
    assert run(capsys, "import", str(xlsx), "--notice", "1", "--create-departments")[0] == 0
    ledger = tmp_path / "台账.xlsx"
    assert run(capsys, "export", "--notice", "1", "-o", str(ledger))[0] == 0
    assert run(capsys, "import", str(ledger), "--notice", "2")[0] == 0
    keys = (
        "category",
        "title",
        "lead_departments",
        "cooperating_departments",
        "completion_due",
        "lead_leader",
    )
    first = [{k: i[k] for k in keys} for i in items(capsys, 1)]
    again = [{k: i[k] for k in keys} for i in items(capsys, 2)]
    assert first == again and len(first) > 3


def test_complaints_follow_the_5_and_10_day_rule(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "complaint", "add", "--received", "2026-09-15", "--title", "患者投诉输血等候时间过长",
                       "--lead", "医务科")  # fmt: skip
    assert code == 0 and "2026-09-21（5个工作日）" in out
    code, out, _ = run(capsys, "complaint", "add", "--received", "2026-09-15", "--title", "患者投诉收费不清",
                       "--lead", "财务科", "--coop", "药剂科")  # fmt: skip
    assert code == 0 and "2026-09-29（10个工作日）" in out
