"""The command line as users and scripts use it: the documented output contracts, and one clear
line on stderr with a non-zero exit (and nothing written) for every kind of bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app.cli import main

SETUP = [
    ["init", "--admin", "admin"],
    ["--as", "admin", "dept", "add", "医务科"],
    ["--as", "admin", "dept", "add", "输血科"],
    ["--as", "admin", "dept", "add", "药剂科"],
    ["--as", "admin", "user", "add", "jxb", "--name", "王敏", "--role", "office"],
    ["--as", "admin", "user", "add", "fyz", "--name", "张卫东", "--role", "leader"],
    ["--as", "admin", "user", "add", "ywk", "--name", "赵立新", "--role", "department", "--dept", "医务科"],
    ["--as", "admin", "user", "add", "yjk", "--name", "周海", "--role", "department", "--dept", "药剂科"],
    ["--as", "jxb", "notice", "add", "--title", "关于综合绩效考评情况的通报", "--issuer", "xx县卫生健康委员会",
     "--received", "2026-09-15", "--doc", "x卫健医[2026]5号"],
    ["--as", "jxb", "item", "add", "--notice", "1", "--category", "医疗方面", "--title", "临床输血管理不规范",
     "--lead", "医务科", "--coop", "输血科", "--measures", "complaint", "--completion", "workdays:25"],
]  # fmt: skip


def cli_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setup: list[list[str]], user: str | None = None
) -> Path:
    """A SQLite file in ``tmp_path`` set up by running ``setup`` through the CLI, with the clock at 2026-09-15."""
    path = tmp_path / "cli.db"
    monkeypatch.setenv("RECTIFLOW_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("RECTIFLOW_TODAY", "2026-09-15")
    if user:
        monkeypatch.setenv("RECTIFLOW_USER", user)
    else:
        monkeypatch.delenv("RECTIFLOW_USER", raising=False)
    monkeypatch.chdir(tmp_path)
    for argv in setup:
        assert main(argv) == 0, argv
    return path


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return cli_database(tmp_path, monkeypatch, SETUP)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(db: Path) -> list[tuple[object, ...]]:
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT (SELECT count(*) FROM items), (SELECT count(*) FROM item_events), (SELECT count(*) FROM departments),"
            " (SELECT count(*) FROM extensions), (SELECT group_concat(state || version) FROM items),"
            " (SELECT count(*) FROM notices), (SELECT count(*) FROM users), (SELECT count(*) FROM evidence)")).all()  # fmt: skip
    engine.dispose()
    stored = sorted(str(p) for p in (db.parent / "evidence").rglob("*"))
    return [tuple(r) for r in rows] + [tuple(stored)]


def test_items_json_contract(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--today", "2026-10-09", "items", "--json")
    assert code == 0
    (row,) = json.loads(out)
    assert {"id", "notice_id", "category", "title", "state", "lead_departments", "cooperating_departments",
            "measures_due", "completion_due", "provisional", "overdue_workdays"} <= row.keys()  # fmt: skip
    assert (row["lead_departments"], row["cooperating_departments"]) == (["医务科"], ["输血科"])
    # two departments: the complaint rule gives 10 working days (Mid-Autumn 09-25 is a holiday)
    assert (row["measures_due"], row["provisional"]) == ("2026-09-29", False)
    assert row["overdue_workdays"] == 3


def test_stats_json_contract(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--as", "jxb", "assign", "1"], ["--as", "ywk", "file-measures", "1", "--measures", "已整改"],
                 ["--as", "jxb", "verify", "1"], ["--as", "jxb", "close", "1"]):  # fmt: skip
        assert run(capsys, *argv)[0] == 0
    code, out, _ = run(capsys, "stats", "--json")
    assert code == 0
    assert json.loads(out) == [{"department": "医务科", "total": 1, "closed": 1, "closed_on_time": 1, "overdue": 0,
                                "withdrawn": 0, "closure_rate": 1.0, "on_time_rate": 1.0}]  # fmt: skip


def test_lifecycle_and_extension_through_the_cli(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--as", "jxb", "assign", "1")[0] == 0
    code, out, _ = run(
        capsys, "--as", "ywk", "extension", "request", "1", "--to", "2026-12-31", "--reason", "设备未到货"
    )
    assert code == 0 and "待审批" in out
    assert run(capsys, "--as", "fyz", "extension", "approve", "1")[0] == 0
    code, out, _ = run(capsys, "--as", "jxb", "item", "show", "1", "--json")
    shown = json.loads(out)
    assert shown["completion_due"] == "2026-12-31" and shown["state"] == "assigned"
    assert [e["action"] for e in shown["events"]] == [
        "create",
        "assign",
        "request_extension",
        "approve_extension",
    ]
    assert shown["actions"] == ["withdraw"]
    code, out, _ = run(capsys, "--as", "ywk", "item", "show", "1", "--json")
    assert json.loads(out)["actions"] == ["file_measures", "request_extension"]


def test_file_measures_with_evidence(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    proof = tmp_path / "输血申请单抽查记录.pdf"
    proof.write_bytes(b"%PDF-1.4 demo")
    run(capsys, "--as", "jxb", "assign", "1")
    code, out, err = run(
        capsys, "--as", "ywk", "file-measures", "1", "--measures", "每月通报", "--evidence", str(proof)
    )
    assert code == 0, err
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        name, size, stored = conn.execute(text("SELECT file_name, size, stored_path FROM evidence")).one()
    engine.dispose()
    assert (name, size) == ("输血申请单抽查记录.pdf", 13) and Path(stored).read_bytes() == b"%PDF-1.4 demo"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--as", "jxb", "assign", "999"], "事项「999」不存在"),
        (["--as", "jxb", "close", "1"], "不能「销号」"),
        (["--as", "ywk", "assign", "1"], "无权「交办」"),
        (["--as", "yjk", "extension", "request", "1", "--to", "2026-12-31", "--reason", "x"], "只能办理本科室牵头的事项"),
        (["--as", "nobody", "assign", "1"], "用户「nobody」不存在"),
        (["--today", "2026-13-01", "--as", "jxb", "assign", "1"], "--today「2026-13-01」无效"),
        (["--as", "jxb", "item", "add", "--notice", "1", "--category", "药事", "--title", "t", "--lead", "宣传科"],
         "科室「宣传科」不存在"),
        (["--as", "jxb", "item", "add", "--notice", "1", "--category", "药事", "--title", "t", "--lead", "药剂科",
          "--completion", "10天"], "期限规则「10天」无效"),
        (["--as", "jxb", "notice", "add", "--title", "t", "--issuer", "i", "--received", "2026/09/15"],
         "--received「2026/09/15」无效"),
        (["--as", "jxb", "withdraw", "1", "--reason", " "], "必须填写原因"),
        (["assign", "1"], "请用 --as"),
        (["items", "--dept", "宣传科"], "科室「宣传科」不存在"),
        (["items", "--state", "done"], "--state「done」无效"),
        (["--as", "jxb", "assign", "99999999999999999999999"], "超出范围"),
        (["--as", "jxb", "assign", "abc"], "参数有误"),
        (["--as", "jxb", "notice", "add", "--title", "t", "--issuer", "i", "--received", "20260915"], "--received「20260915」无效"),
        (["--as", "jxb", "notice", "add", "--title", "t", "--issuer", "i", "--received", "1990-01-01"], "超出工作日历范围"),
        (["--as", "jxb", "item", "add", "--notice", "1", "--category", " ", "--title", "t", "--lead", "药剂科"], "方面「 」无效"),
        (["--as", "jxb", "item", "add", "--notice", "1", "--category", "药事", "--title", "t", "--lead", "药剂科",
          "--leader", "ywk"], "不是院领导"),
        (["--as", "yjk", "file-measures", "1", "--measures", "x", "--evidence", "proof.pdf"], "无权「提交整改措施」"),
        (["deadline", "--from", "2026-09-30", "--workdays", "5", "--departments", "0"], "参数有误"),
        (["--db", "nosuchdriver://x", "items"], "错误"),
    ],
    ids=["unknown-item", "invalid-transition", "not-permitted", "other-department", "unknown-user", "bad-today",
         "unknown-department", "bad-rule", "bad-date", "empty-reason", "no-actor", "unknown-dept-filter",
         "unknown-state-filter", "huge-id", "non-numeric-id", "compact-date", "date-outside-calendar",
         "empty-category", "leader-not-a-leader", "refused-filing-keeps-no-file", "zero-departments", "bad-db-url"],
)  # fmt: skip
def test_bad_input_is_one_line_and_writes_nothing(
    db: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    (db.parent / "proof.pdf").write_bytes(b"%PDF-1.4 proof")
    before = snapshot(db)
    code, out, err = run(capsys, *argv)
    assert code != 0
    assert message in err and err.strip().count("\n") == 0, err
    assert snapshot(db) == before


def test_uninitialised_database_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--db", str(tmp_path / "new.db"), "items")
    assert code == 1 and "rectiflow init" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "deadline", "--from")
    assert code == 2 and err.startswith("错误：参数有误") and "--from" in err and err.count("\n") == 1


def _cli(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECTIFLOW_")}
    exe = Path(sys.executable).with_name("rectiflow")
    return subprocess.run(
        [str(exe), *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize(
    ("argv", "printed"),
    [
        (["deadline", "--from", "2026-09-30", "--workdays", "5"], "2026-10-13"),
        (["deadline", "--from", "2026-09-26", "--days", "5"], "2026-10-08"),
        (["deadline", "--from", "2026-12-20", "--workdays", "10"], "2027-01-01 provisional"),
    ],
    ids=["national-day-and-tiaoxiu-saturday", "calendar-days-end-on-holiday", "into-2027"],
)
def test_deadline_contract(tmp_path: Path, argv: list[str], printed: str) -> None:
    r = _cli(*argv, cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, printed + "\n"), r.stderr
    j = _cli(*argv, "--json", cwd=tmp_path)
    due, _, flag = printed.partition(" ")
    assert json.loads(j.stdout) | {"rule": None} == {
        "due": due,
        "provisional": flag == "provisional",
        "rule": None,
    }


def test_demo_runs_from_a_fresh_directory(tmp_path: Path) -> None:
    r = _cli("demo", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for dept in ("医务科", "感染管理科", "药剂科", "财务科", "医患关系科", "物价科", "合计"):
        assert dept in r.stdout
    for event in ("退回", "延期获批", "撤销", "核验通过并销号"):
        assert event in r.stdout
    stats = _cli("--db", "rectiflow-demo.db", "--today", "2026-11-04", "stats", "--json", cwd=tmp_path)
    figures = {row["department"]: row for row in json.loads(stats.stdout)}
    assert (
        sum(r["total"] for r in figures.values()) == 8 and sum(r["withdrawn"] for r in figures.values()) == 1
    )
    assert (figures["医患关系科"]["closed"], figures["医患关系科"]["closed_on_time"]) == (1, 0)  # closed late
    assert (figures["财务科"]["closed"], figures["财务科"]["overdue"]) == (
        1,
        1,
    )  # one extended, one still late
    assert figures["医务科"]["on_time_rate"] == 1.0  # the item sent back was redone in time
    again = _cli("demo", cwd=tmp_path)
    assert again.returncode == 0 and again.stdout.count("合计") == 1
