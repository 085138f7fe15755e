"""Supervision lists (xlsx, csv) parsed into items, problems and notes, without a database.

The files are built as the users' own are (tests/fixtures_tables.py): seeds 002 and 003 with their
title rows, merged cells, header line breaks and "same as above" blanks.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook

from states.importers.cells import (
    NOT_A_DATE,
    UNREADABLE_DATE,
    CellError,
    header_key,
    join_names,
    parse_deadline,
    parse_points,
    split_departments,
    split_score,
)
from states.importers.model import ImportedItem, ParsedImport, Problem
from states.importers.table import parse_table
from tests.fixtures_tables import (
    SEED003_HEADER,
    SEED003_TITLE,
    seed003_rows,
    write_rows_csv,
    write_rows_xlsx,
    write_seed002_xlsx,
    write_seed003_xlsx,
)


def _by_row(parsed: ParsedImport) -> dict[int, ImportedItem]:
    return {item.row: item for item in parsed.items}


@pytest.fixture
def seed003(tmp_path: Path) -> ParsedImport:
    return parse_table(write_seed003_xlsx(tmp_path / "责任分工.xlsx"), notice_year=2024)


# --- seed 003: 重点工作考核清单责任分工 -------------------------------------------------------------


def test_seed003_reads_every_item_and_skips_title_and_remark(seed003: ParsedImport) -> None:
    assert seed003.problems == []
    assert [i.row for i in seed003.items] == list(range(3, 14))
    assert "表头在第 2 行" in seed003.notes
    assert any(n.startswith("第 14 行「说明：") for n in seed003.notes)


def test_seed003_first_item_in_full(seed003: ParsedImport) -> None:
    assert seed003.items[0] == ImportedItem(
        row=3,
        category="国家三级公立医院绩效考核",
        title="国家三级公立医院绩效考核达到A等，名次不低于上一年度",
        standard="国家绩效考核降等次扣1分，每降5名扣0.2分",
        points=5.0,
        lead_departments=("质控科",),
        cooperating_departments=("各职能科",),
        lead_leader="邵静松",
        deadline=dt.date(2024, 12, 31),
    )


@pytest.mark.parametrize(
    ("row", "category", "points", "leads", "coops", "leader"),
    [
        (4, "省公立医院综合改革", 5.0, ("医务科",), ("各职能科",), "邵静松、李国华"),
        (5, "效率指标", 8.0, ("财务科", "医务科"), ("质控科",), "邵静松、李国华"),
        (6, "执法监督", 2.0, ("院感科", "公共卫生科"), (), "李国华"),
        (7, "数字健康重点工作", 3.0, ("信息科", "医务科"), ("中药剂科",), "高峰、李国华"),
        (9, "加强政治建设", 3.0, ("党建工作办",), ("党政综合办",), "高峰"),
        (10, "加强基层党建", 5.0, ("党建工作办",), ("各支部",), "高峰"),
        (12, "三支队伍建设", 5.0, ("组织人事科", "党建工作办"), ("党政综合办", "工会", "团委"), "高峰"),
    ],
    ids=[
        "newline-leaders",
        "two-leads",
        "no-coop",
        "padded-names",
        "merged-group",
        "merged-lead",
        "three-coops",
    ],
)
def test_seed003_rows(
    seed003: ParsedImport,
    row: int,
    category: str,
    points: float,
    leads: tuple[str, ...],
    coops: tuple[str, ...],
    leader: str,
) -> None:
    item = _by_row(seed003)[row]
    assert (item.category, item.points) == (category, points)
    assert (item.lead_departments, item.cooperating_departments, item.lead_leader) == (leads, coops, leader)


@pytest.mark.parametrize(
    ("row", "deadline"),
    [
        (3, dt.date(2024, 12, 31)),
        (4, dt.date(2024, 12, 31)),
        (5, dt.date(2024, 12, 25)),
        (6, dt.date(2024, 12, 20)),
        (7, dt.date(2024, 12, 20)),
        (8, dt.date(2024, 11, 30)),
        (9, dt.date(2024, 10, 31)),
        (10, dt.date(2024, 10, 31)),
        (11, dt.date(2024, 12, 31)),
        (12, dt.date(2024, 12, 31)),
        (13, None),
    ],
    ids=[
        "月底",
        "年月日",
        "月日",
        "iso",
        "slashes",
        "dots",
        "excel-date",
        "merged",
        "年底",
        "2024年底",
        "长期坚持",
    ],
)
def test_seed003_deadline_forms(seed003: ParsedImport, row: int, deadline: dt.date | None) -> None:
    assert _by_row(seed003)[row].deadline == deadline


def test_seed003_multiline_cells_keep_their_lines(seed003: ParsedImport) -> None:
    item = _by_row(seed003)[5]
    assert item.title.splitlines() == [
        "1.管理费用占总费用比重≤7.6%",
        "2.医疗总费用增幅≤9.5%",
        "3.医疗盈余较上年亏损减少50%以上",
    ]
    assert "完成时限「长期坚持」视为无固定期限（第 13 行）" in seed003.notes


# --- seed 002: 绩效管理履职任务分解表 ---------------------------------------------------------------


@pytest.fixture
def seed002(tmp_path: Path) -> ParsedImport:
    return parse_table(write_seed002_xlsx(tmp_path / "任务分解表.xlsx"), notice_year=2019)


def test_seed002_uses_the_second_level_indicator_as_item(seed002: ParsedImport) -> None:
    assert seed002.problems == []
    first = seed002.items[0]
    assert (first.row, first.category, first.title) == (3, "基础绩效指标", "“产业发展项目建设年”活动")
    assert (first.points, first.lead_leader, first.lead_departments, first.responsible) == (
        300.0,
        "许金钟",
        ("规信股",),
        "林明南",
    )
    assert "表中没有「清单内容」列：以「二级指标」为事项" in seed002.notes


def test_seed002_repeated_header_is_skipped(seed002: ParsedImport) -> None:
    assert 7 not in _by_row(seed002)
    assert "第 7 行是重复的表头，已跳过" in seed002.notes
    assert len(seed002.items) == 9


def test_seed002_blank_category_and_leader_carry_down(seed002: ParsedImport) -> None:
    rows = _by_row(seed002)
    assert [rows[r].category for r in (4, 9, 10, 11, 12)] == [
        "基础绩效指标",
        "争先创优指标",
        "争先创优指标",
        "医政工作",
        "公共卫生工作",
    ]
    assert rows[10].lead_leader == "许金钟"


def test_seed002_several_people_and_departments(seed002: ParsedImport) -> None:
    item = _by_row(seed002)[5]
    assert item.lead_leader == "陈霏明、许金钟"
    assert item.lead_departments == ("党办", "综合股", "疾控股", "财务室")
    assert item.responsible == "余蓉、翁富云、唐小青、邓小英"
    assert _by_row(seed002)[6].lead_departments == ("各股室",)


# --- csv ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-8"])
def test_csv_gives_the_same_items_as_the_workbook(
    tmp_path: Path, seed003: ParsedImport, encoding: str
) -> None:
    rows = seed003_rows(filled=True)
    path = write_rows_csv(tmp_path / "清单.csv", SEED003_HEADER, rows, encoding=encoding, title=SEED003_TITLE)
    parsed = parse_table(path, notice_year=2024)
    assert parsed.problems == []
    assert parsed.items == seed003.items
    assert ("文件按 GB18030 编码读取" in parsed.notes) == (encoding == "gb18030")


def test_csv_blank_lead_is_a_problem_without_a_merge(tmp_path: Path) -> None:
    """A csv export loses the merges: row 10's blank 牵头科室 is then missing (no carry-down)."""
    rows = seed003_rows()
    path = write_rows_csv(
        tmp_path / "清单.csv", SEED003_HEADER, rows, encoding="gb18030", title=SEED003_TITLE
    )
    parsed = parse_table(path, notice_year=2024)
    assert parsed.problems == [Problem(row=10, column="牵头科室", message="缺少牵头科室")]


def test_tab_separated_text(tmp_path: Path) -> None:
    path = tmp_path / "清单.csv"
    path.write_text(
        "问题\t牵头科室\t完成时限\n病历书写不规范\t医务科、质控科\t2026/12/20\n", encoding="utf-8"
    )
    (item,) = parse_table(path, notice_year=2026).items
    assert (item.row, item.lead_departments, item.deadline) == (
        2,
        ("医务科", "质控科"),
        dt.date(2026, 12, 20),
    )


# --- rows that cannot be read -----------------------------------------------------------------------

BAD_HEADER = ["序号", "整改\n事项", "牵头\n科室", "配合\n科室", "完成\n时限", "分值"]
BAD_ROWS = [
    [1, "病历书写不规范", "医务科", "质控科", "2026年12月底", 2],
    [2, "抗菌药物使用强度超标", "药剂科", "医务科、感染管理科", "2026年2月30日", None],
    [3, "院感监测不到位", None, "感染管理科", "2026-11-30", None],
    [None, None, None, None, None, None],
    [4, None, "财务科", None, "12月25日", None],
    [5, "收费不规范", "物价科", None, "尽快", "五分"],
    [6, "投诉处理超时", "医患关系科", None, "2026年13月底", None],
]


def test_bad_rows_are_problems_naming_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "督办清单.xlsx"
    write_rows_xlsx(path, BAD_HEADER, BAD_ROWS, ["某某医院", "2026年医疗质量整改督办清单"])
    parsed = parse_table(path, notice_year=2026)
    assert [(p.row, p.column, p.message) for p in parsed.problems] == [
        (5, "完成时限", f"完成时限「2026年2月30日」{NOT_A_DATE}"),
        (6, "牵头科室", "缺少牵头科室"),
        (8, "整改事项", "缺少整改事项"),
        (9, "完成时限", f"完成时限「尽快」{UNREADABLE_DATE}"),
        (9, "分值", "分值「五分」不是分值（应为数字，如 5 或 5分）"),
        (10, "完成时限", f"完成时限「2026年13月底」{NOT_A_DATE}"),
    ]
    assert str(parsed.problems[0]) == "第 5 行「完成时限」列：完成时限「2026年2月30日」不是有效日期"
    assert [(i.row, i.deadline, i.points) for i in parsed.items] == [(4, dt.date(2026, 12, 31), 2.0)]
    assert "表头在第 3 行" in parsed.notes


def test_item_cell_merged_with_the_one_above_is_not_copied(tmp_path: Path) -> None:
    rows = [["病历书写不规范", "医务科"], [None, "质控科"]]
    path = write_rows_xlsx(tmp_path / "清单.xlsx", ["问题", "牵头科室"], rows, merges=["A2:A3"])
    parsed = parse_table(path, notice_year=2026)
    assert [i.row for i in parsed.items] == [2]
    (problem,) = parsed.problems
    assert (problem.row, problem.column) == (3, "问题")
    assert "合并" in problem.message


def test_more_specific_category_resets_when_a_general_one_changes(tmp_path: Path) -> None:
    header = ["一级指标", "二级指标", "清单内容", "牵头科室"]
    rows = [
        ["医疗质量（10分）", "病历（4分）", "病历书写不规范", "医务科"],
        [None, None, "运行病历未及时完成", "医务科"],
        ["药事管理", None, "处方点评不到位", "药剂科"],
        ["院感管理", None, None, None],
        [None, None, "手卫生依从性低", "感染管理科"],
    ]
    parsed = parse_table(write_rows_xlsx(tmp_path / "t.xlsx", header, rows), notice_year=2026)
    assert parsed.problems == []
    assert [(i.category, i.points) for i in parsed.items] == [
        ("病历", 4.0),
        ("病历", None),
        ("药事管理", None),
        ("院感管理", None),
    ]


def test_first_sheet_without_a_header_is_passed_over(tmp_path: Path) -> None:
    wb = Workbook()
    wb.active.append(["填表说明：请按科室填写"])
    ws = wb.create_sheet("清单")
    ws.append(["存在问题", "责任科室", "整改时限"])
    ws.append(["处方点评不到位", "药剂科", "2026年9月30日"])
    wb.save(tmp_path / "清单.xlsx")
    parsed = parse_table(tmp_path / "清单.xlsx", notice_year=2026)
    assert [(i.title, i.lead_departments, i.deadline) for i in parsed.items] == [
        ("处方点评不到位", ("药剂科",), dt.date(2026, 9, 30))
    ]
    assert "使用工作表「清单」（前面的工作表没有可识别的表头）" in parsed.notes


def test_a_second_table_with_other_columns_follows_its_own_header(tmp_path: Path) -> None:
    header = ["序号", "清单内容", "牵头科室", "配合科室"]
    rows = [
        [1, "病历书写不规范", "医务科", "质控科"],
        ["序号", "事项", "配合科室", "牵头科室"],
        [1, "加分事项", "院办", "党办"],
    ]
    parsed = parse_table(write_rows_xlsx(tmp_path / "t.xlsx", header, rows), notice_year=2026)
    assert [(i.row, i.lead_departments, i.cooperating_departments) for i in parsed.items] == [
        (2, ("医务科",), ("质控科",)),
        (4, ("党办",), ("院办",)),
    ]
    assert "第 3 行是新的表头，以下按新的列读取" in parsed.notes


# --- files that cannot be read ----------------------------------------------------------------------


def test_unsupported_file_type(tmp_path: Path) -> None:
    parsed = parse_table(tmp_path / "清单.xls", notice_year=2026)
    assert parsed.problems == [
        Problem(row=None, column=None, message="不支持的文件类型「.xls」；请使用 .xlsx 或 .csv")
    ]


def test_corrupt_workbook(tmp_path: Path) -> None:
    path = tmp_path / "清单.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    (problem,) = parse_table(path, notice_year=2026).problems
    assert (problem.row, problem.column) == (None, None)
    assert problem.message.startswith("无法读取文件：")


def test_unknown_encoding(tmp_path: Path) -> None:
    path = tmp_path / "清单.csv"
    path.write_bytes(b"\xff\xfe\x00\x81\xff" * 10)
    (problem,) = parse_table(path, notice_year=2026).problems
    assert problem.message.startswith("无法读取文件：编码既不是 UTF-8 也不是 GB18030")


def test_no_header(tmp_path: Path) -> None:
    path = write_rows_xlsx(tmp_path / "t.xlsx", ["姓名", "电话"], [["张三", "123"]])
    (problem,) = parse_table(path, notice_year=2026).problems
    assert problem.row is None and "找不到表头" in problem.message


def test_header_without_lead_column(tmp_path: Path) -> None:
    path = write_rows_xlsx(tmp_path / "t.xlsx", ["序号", "问题", "完成时限"], [[1, "病历书写不规范", "年底"]])
    parsed = parse_table(path, notice_year=2026)
    assert parsed.items == []
    assert parsed.problems == [Problem(row=1, column=None, message="表头中没有牵头科室 / 责任单位列")]


# --- size -------------------------------------------------------------------------------------------


def test_two_thousand_rows_with_progress(tmp_path: Path) -> None:
    header = ["序号", "清单内容", "牵头科室", "配合科室", "完成时限"]
    rows = ([n, f"第{n}项整改任务", "医务科", "质控科、药剂科", "2026年12月底"] for n in range(1, 2001))
    path = write_rows_xlsx(tmp_path / "big.xlsx", header, rows, "2026年整改清单")
    calls: list[tuple[int, int]] = []
    parsed = parse_table(path, notice_year=2026, progress=lambda done, total: calls.append((done, total)))
    assert parsed.problems == [] and len(parsed.items) == 2000
    assert parsed.items[-1].row == 2002
    assert [done for done, _ in calls] == [1000, 2000, 2002]
    assert all(done <= total for done, total in calls)


# --- cells ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026年12月底", dt.date(2026, 12, 31)),
        ("2026年2月底", dt.date(2026, 2, 28)),
        ("2026年12月31日", dt.date(2026, 12, 31)),
        ("12月25日", dt.date(2025, 12, 25)),
        ("12月底前", dt.date(2025, 12, 31)),
        ("2026-12-20", dt.date(2026, 12, 20)),
        ("2026/12/20", dt.date(2026, 12, 20)),
        ("2026.12.20", dt.date(2026, 12, 20)),
        ("2026/12/20 0:00", dt.date(2026, 12, 20)),
        ("２０２６年６月３０日前", dt.date(2026, 6, 30)),
        ("年底", dt.date(2025, 12, 31)),
        ("2026年底", dt.date(2026, 12, 31)),
        ("2026年第三季度", dt.date(2026, 9, 30)),
        ("上半年", dt.date(2025, 6, 30)),
        ("长期坚持", None),
        ("", None),
    ],
)
def test_deadline_text(text: str, expected: dt.date | None) -> None:
    assert parse_deadline(text, 2025) == expected


def test_deadline_cells_from_excel() -> None:
    assert parse_deadline(dt.datetime(2026, 3, 1, 0, 0), 2025) == dt.date(2026, 3, 1)
    assert parse_deadline(dt.date(2026, 3, 1), 2025) == dt.date(2026, 3, 1)
    assert parse_deadline(None, 2025) is None


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("2026年2月30日", NOT_A_DATE),
        ("2026-02-29", NOT_A_DATE),
        ("13月底", NOT_A_DATE),
        ("尽快", UNREADABLE_DATE),
        ("2026年10月—12月", UNREADABLE_DATE),
        (46022, UNREADABLE_DATE),
    ],
)
def test_deadline_refused(value: object, why: str) -> None:
    with pytest.raises(CellError) as caught:
        parse_deadline(value, 2026)
    assert caught.value.why == why


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("医务科", ("医务科",)),
        ("财务科\n\n医务科", ("财务科", "医务科")),
        (" 信息中心  科教中医处", ("信息中心", "科教中医处")),
        (
            "医务科、质控科，药剂科,护理部;院办；党办",
            ("医务科", "质控科", "药剂科", "护理部", "院办", "党办"),
        ),
        ("医务科、医务科", ("医务科",)),
        ("各职能科", ("各职能科",)),
        ("", ()),
    ],
)
def test_split_departments(text: str, expected: tuple[str, ...]) -> None:
    assert split_departments(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("高  峰", "高峰"),
        ("邵静松\n\n李国华", "邵静松、李国华"),
        ("陈霏明、许金钟", "陈霏明、许金钟"),
        ("", None),
    ],
)
def test_join_names(text: str, expected: str | None) -> None:
    assert join_names(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("省目标任务（25分）", ("省目标任务", 25.0)),
        ("对口支援(1分)", ("对口支援", 1.0)),
        ("院前急救（2.5 分）", ("院前急救", 2.5)),
        ("1.完成A（1分）\n2.完成B（1分）", ("1.完成A（1分）\n2.完成B（1分）", None)),
        ("医疗服务管理", ("医疗服务管理", None)),
    ],
)
def test_split_score(text: str, expected: tuple[str, float | None]) -> None:
    assert split_score(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [(5, 5.0), (2.5, 2.5), ("5", 5.0), ("（5分）", 5.0), (None, None)]
)
def test_points(value: object, expected: float | None) -> None:
    assert parse_points(value) == expected


@pytest.mark.parametrize(
    ("cell", "key"),
    [
        ("责任\n处室", "责任处室"),
        ("项目\n（分值）", "项目（分值）"),
        ("分值\n\n(分)", "分值（分）"),
        ("*牵头科室", "牵头科室"),
    ],
)
def test_header_key(cell: str, key: str) -> None:
    assert header_key(cell) == key
