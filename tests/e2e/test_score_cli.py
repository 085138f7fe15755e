"""``rectiflow score …`` as the office and departments use it: filing, verifying, records, the
scorecards as JSON and explained step by step, one clear error line for bad input, and indicator
drafts inferred from a list built like seed 003 (texts from seed 003's 考核标准)."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from states import scoring
from states.scoring_import import infer_rule
from tests.e2e.test_cli import SETUP, cli_database, run
from tests.fixtures_tables import write_seed003_xlsx
from tests.integration.test_assessment import write_rules

CONFIG_RULES = Path(__file__).resolve().parents[2] / "config" / "scoring.toml"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return cli_database(tmp_path, monkeypatch, SETUP)


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    return write_rules(tmp_path)


def count(db: Path, table: str) -> int:
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        n = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    engine.dispose()
    return int(n)


def ok(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 0, (argv, err)
    return out


def test_file_verify_record_and_score(
    db: Path, rules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = ("--rules", str(rules))
    proof = tmp_path / "抽查记录.pdf"
    proof.write_bytes(b"%PDF-1.4 spot check")
    out = ok(capsys, "--as", "ywk", "score", "file", "YW-01", "--value", "2", "--note", "抽查2份不合格",
             "--evidence", str(proof), *r)  # fmt: skip
    assert "已填报指标 YW-01 的结果 #1" in out and "1 个佐证材料" in out
    ok(capsys, "--as", "ywk", "score", "file", "YW-02", "--value", "是", *r)
    ok(capsys, "--as", "jxb", "score", "verify", "1", "--note", "属实")
    assert "已退回结果 #2" in ok(capsys, "--as", "jxb", "score", "reject", "2", "--reason", "缺少会议记录")
    ok(capsys, "--as", "jxb", "score", "bonus", "医务科", "JF-BZ", "--level", "省级", "--note", "省卫健委表扬", *r)
    # Item 1 (医务科 leads it, completion due 2026-10-26) is closed on 2026-11-02: late.
    ok(capsys, "--as", "jxb", "assign", "1")
    ok(capsys, "--as", "ywk", "file-measures", "1", "--measures", "已整改")
    ok(capsys, "--as", "jxb", "verify", "1")
    ok(capsys, "--today", "2026-11-02", "--as", "jxb", "close", "1")

    listed = json.loads(ok(capsys, "--as", "jxb", "score", "results", "--json", *r))
    statuses = [(x["code"], x["status"], x["filings"]) for x in listed["results"]]
    assert statuses == [("YW-01", "verified", 1), ("YW-02", "rejected", 1)]
    assert listed["results"][0]["evidence"][0]["sha256"] == hashlib.sha256(proof.read_bytes()).hexdigest()
    assert [(x["kind"], x["code"], x["level"]) for x in listed["records"]] == [("bonus", "JF-BZ", "省级")]

    cards = json.loads(ok(capsys, "--today", "2026-11-02", "--as", "jxb", "score", "--json", *r))
    by = {c["department"]: c for c in cards}
    assert list(by) == ["医务科", "药剂科", "质控科"]
    med = by["医务科"]
    sha = hashlib.sha256(rules.read_bytes()).hexdigest()
    assert (med["rules_version"], med["rules_sha256"]) == ("t-1", sha)
    assert [(ln["code"], ln["score"]) for ln in med["lines"]] == [("YW-01", "9"), ("YW-02", "0")]
    rect = [(x["kind"], x["item_id"]) for x in med["rectification_lines"]]
    assert rect == [("late", 1), ("on_time_rate", None)]
    assert (med["subtotal"], med["bonus"], med["rectification"], med["total"]) == ("9", "3", "1.5", "10.5")
    assert med["id"] is not None and count(db, "scorecards") == 3


def test_explain_prints_every_step(db: Path, rules: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = ("--rules", str(rules))
    ok(capsys, "--as", "ywk", "score", "file", "YW-01", "--value", "3", *r)
    ok(capsys, "--as", "jxb", "score", "verify", "1")
    ok(capsys, "--as", "jxb", "score", "veto", "医务科", "DC-1", *r)
    out = ok(capsys, "--as", "fyz", "score", "--explain", "医务科", "--no-record", *r)
    lines = out.splitlines()
    assert lines[0].startswith(f"评分规则：{rules}（版本 t-1，SHA-256 ") and lines[0].endswith("考核期 2026")
    assert lines[1] == "科室「医务科」考核期 2026（评分规则版本 t-1）"
    assert "YW-01 病历书写合格（10分）：每少1份扣0.5分：少3份，扣1.5分；得8.5分" in lines
    assert "YW-02 核心制度落实（5分）：未填报结果；得0分" in lines
    assert "总分 = 指标小计8.5 + 加分0 − 整改扣分0 = 8.5分" in lines
    assert any("降低考核档次" in line for line in lines)
    assert lines[-1] == "未保存（--no-record）" and count(db, "scorecards") == 0


def test_a_mistaken_veto_is_revoked_with_a_reason_and_stops_counting(
    db: Path, rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = ("--rules", str(rules))
    ok(capsys, "--as", "jxb", "score", "veto", "医务科", "DC-1", *r)
    ok(capsys, "--as", "jxb", "score", "bonus", "医务科", "JF-BZ", "--level", "省级", *r)

    def card() -> dict[str, object]:
        cards = json.loads(ok(capsys, "--as", "jxb", "score", "--json", "--no-record", *r))
        return next(c for c in cards if c["department"] == "医务科")

    assert card()["vetoes"] and card()["bonus"] == "3"
    code, _, err = run(capsys, "--as", "ywk", "score", "revoke", "1", "--reason", "误登")
    assert code == 1 and "无权「撤销加分或否决事项」" in err
    code, _, err = run(capsys, "--as", "jxb", "score", "revoke", "1", "--reason", "  ")
    assert code == 1 and "撤销原因「  」无效：不能为空" in err
    out = ok(capsys, "--as", "jxb", "score", "revoke", "1", "--reason", "登记错科室")
    assert "已撤销否决事项 #1：医务科 DC-1（登记错科室）" in out
    after = card()
    assert not after["vetoes"] and after["bonus"] == "3"  # the bonus still counts
    listed = json.loads(ok(capsys, "--as", "jxb", "score", "results", "--json", *r))["records"]
    assert [(x["code"], x["revoke_reason"]) for x in listed] == [("DC-1", "登记错科室"), ("JF-BZ", None)]
    code, _, err = run(capsys, "--as", "jxb", "score", "revoke", "1", "--reason", "再撤一次")
    assert code == 1 and "已撤销" in err
    assert "已撤销：登记错科室" in ok(capsys, "--as", "jxb", "score", "results", *r)


def test_the_table_names_the_rules_and_saves(
    db: Path, rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = ok(capsys, "--as", "jxb", "score", "--rules", str(rules))
    assert "版本 t-1" in out and "各科室考核评分" in out and "医务科：总分 0，等次 不合格" in out
    assert "已保存 3 张评分表" in out and count(db, "scorecards") == 3


def test_a_department_member_sees_only_their_own_scorecard(
    db: Path, rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cards = json.loads(ok(capsys, "--as", "ywk", "score", "--no-record", "--json", "--rules", str(rules)))
    assert [c["department"] for c in cards] == ["医务科"]


def test_the_default_rules_are_the_config_file(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expected = scoring.load_rules(CONFIG_RULES)
    cards = json.loads(ok(capsys, "--as", "jxb", "score", "--no-record", "--json"))
    assert [c["department"] for c in cards] == expected.departments()
    assert {c["rules_version"] for c in cards} == {expected.version}
    assert {c["rules_sha256"] for c in cards} == {hashlib.sha256(CONFIG_RULES.read_bytes()).hexdigest()}


@pytest.mark.parametrize(("argv", "code", "message"), [
    (["--as", "yjk", "score", "file", "YW-01", "--value", "1"], 1,
     "错误：用户 yjk 无权「填报考核结果」：指标 YW-01 由「医务科」负责，只能填报本科室负责的指标"),
    (["--as", "ywk", "score", "file", "YW-01", "--value", "两份"], 1, "错误：指标 YW-01 的结果「两份」无效：应为数字"),
    (["--as", "jxb", "score", "reject", "1"], 2, "错误：参数有误"),
    (["--as", "jxb", "score", "verify", "7"], 1, "错误：考核结果「7」不存在"),
    (["--as", "jxb", "score", "--period", "26"], 1, "错误：考核期「26」无效"),
    (["--as", "jxb", "score", "--explain", "财务科"], 1, "错误：科室「财务科」无效：考核方案中没有该科室的指标"),
    (["--as", "jxb", "score", "bonus", "医务科", "JF-BZ", "--level", "县级"], 1, "可选级别：市级、省级"),
    (["--as", "jxb", "score", "veto", "医务科", "DC-9"], 1, "错误：否决事项「DC-9」无效"),
])  # fmt: skip
def test_bad_input_gives_one_line_and_writes_nothing(
    db: Path, rules: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    uses_rules = not {"verify", "reject"} & set(argv)
    got, out, err = run(capsys, *argv, *(["--rules", str(rules)] if uses_rules else []))
    assert (got, len(err.strip().splitlines())) == (code, 1), err
    assert message in err
    assert [count(db, t) for t in ("indicator_results", "assessment_records", "scorecards")] == [0, 0, 0]


def test_a_department_member_sees_only_their_own_card_and_saves_nothing(
    db: Path, rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--as", "ywk", "score", "--json", "--rules", str(rules))
    assert code == 0, err
    assert [c["department"] for c in json.loads(out)] == ["医务科"]
    code, out, _ = run(capsys, "--as", "ywk", "score", "--rules", str(rules))
    assert code == 0 and "未保存（仅督查办可保存评分表）" in out
    assert count(db, "scorecards") == 0


def test_a_rules_file_with_an_error_is_named(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = write_rules(tmp_path, "version = 1\n")
    code, _, err = run(capsys, "--as", "jxb", "score", "--rules", str(broken))
    assert code == 1 and str(broken) in err


# ----------------------------------------------------------------------------------------------
# Indicator drafts (rectiflow score indicators)
# ----------------------------------------------------------------------------------------------


def test_indicator_drafts_from_a_list_like_seed_003(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("RECTIFLOW_TODAY", "2024-08-01")
    source = write_seed003_xlsx(tmp_path / "考核清单.xlsx")
    draft = tmp_path / "scoring-indicators.toml"
    out = ok(capsys, "score", "indicators", str(source), "-o", str(draft))
    assert "已写出 11 个指标草稿" in out and "4 个已推断计分规则，7 个需填写或核对规则" in out
    written = draft.read_text(encoding="utf-8")
    indicators = tomllib.loads(written)["indicators"]
    by = {i["name"]: i for i in indicators}
    assert [i["code"] for i in indicators[:2]] == ["ZB-01", "ZB-02"]
    assert by["“两新”工作"] == {"code": "ZB-06", "name": "“两新”工作", "points": 2, "department": "设备科",
                               "standard": "未完成的，不得分", "rule": {"kind": "all_or_nothing"}}  # fmt: skip
    assert by["加强政治建设"]["rule"] == {"kind": "per_unit", "deduct": 0.5, "verb": "发现"}
    assert by["国家三级公立医院绩效考核"]["rule"] == {"kind": "per_unit", "deduct": 0.2, "step": 5, "unit": "名",
                                                   "verb": "降"}  # fmt: skip
    assert "rule" not in by["省公立医院综合改革"] and "rule" not in by["执法监督"]
    assert "# 请填写规则：考核标准含多条计分方式，建议拆分为多个指标" in written
    assert "# 请核对：考核标准中还有未识别的扣分条款" in written  # 降等次扣1分 beside 每降5名扣0.2分
    assert "# 请核对：牵头科室有多个（财务科、医务科）" in written
    inferred = [i for i in indicators if "rule" in i]
    rules = scoring.parse_rules({"version": "草稿", "period": "2024", "indicators": inferred,
                                 "grades": {"bands": [{"min": 0, "name": "合格"}]}})  # fmt: skip
    assert len(rules.indicators) == 6
    code, _, err = run(capsys, "score", "indicators", str(source), "-o", str(draft))
    assert code == 1 and "文件已存在；用 --force 覆盖" in err
    ok(capsys, "score", "indicators", str(source), "-o", str(draft), "--force")


INFERRED = [
    ("未完成的，不得分", "", {"kind": "all_or_nothing"}, None),
    ("健康数据高铁总体数据质量评分达到90分以上，未达要求不得分", "", {"kind": "all_or_nothing"}, None),
    ("7.每少5%扣0.1分", "", {"kind": "per_unit", "deduct": "0.1", "step": "5", "unit": "%"}, None),
    ("未完成年度意识形态工作责任清单，每发现一项扣0.5分", "", {"kind": "per_unit", "deduct": "0.5", "verb": "发现"}, None),
    ("按照完成任务项目数赋分，未完成1项扣0.25分", "", {"kind": "per_unit", "deduct": "0.25"}, None),
    ("符合要求的，得1分，被发现不符合标准管理服务的，每次扣0.5分，扣完为止", "",
     {"kind": "per_unit", "deduct": "0.5", "unit": "次", "verb": "发现"}, None),
    ("3.每下降1个百分点，扣0.5分", "院前急救心肺复苏成功率≥3%",
     {"kind": "per_point_below", "target": "3", "deduct": "0.5"}, None),
    ("慢阻肺漏报率每上升1%扣0.2分", "慢阻肺漏报率低于10%",
     {"kind": "per_point_above", "target": "10", "deduct": "0.2", "unit": "%"}, None),
    ("年度评分达90分及以上的，不扣分，得分每下降1分，相应扣0.1分，扣完为止（最多扣0.6 分）", "",
     {"kind": "per_point_below", "target": "90", "deduct": "0.1", "unit": "分"}, "0.6"),
]  # fmt: skip


@pytest.mark.parametrize(("standard", "item", "rule", "cap"), INFERRED)
def test_rules_inferred_from_seed_003_standards(
    standard: str, item: str, rule: dict[str, str], cap: str | None
) -> None:
    found = infer_rule(standard, item)
    assert found.rule is not None
    assert {k: str(v) for k, v in found.rule.items()} == rule
    cap_found = None if found.cap is None else str(found.cap)
    assert (cap_found, found.notes, found.commented) == (cap, (), False)


@pytest.mark.parametrize(("standard", "note"), [
    ("1.未按省要求开展，扣1分 \n2.未按省要求接入并贯通，扣1 分", "请填写规则：未能从考核标准识别计分方式"),
    ("省考核评估90分以下的，每下降1分扣0.5分；按照完成任务项目数赋分，未完成1项扣0.25分", "请填写规则：考核标准含多条计分方式"),
    ("1.健康数据高铁总体数据质量评分达到90分以上，未达要求不得分\n2.完成“安诊儿”对接和推广应用，未达要求不得分",
     "请填写规则：考核标准含多条计分方式"),
    ("医疗纠纷赔款额占比同比上升的，每上升1个百分点扣0.2分", "请核对目标值"),
])  # fmt: skip
def test_unclear_standards_are_left_to_the_office(standard: str, note: str) -> None:
    found = infer_rule(standard)
    assert any(n.startswith(note) for n in found.notes), found.notes
    assert found.rule is None or found.commented
