"""Supervision lists written as the users' files are: title rows, merged cells, header line breaks.

The content is copied from the users' own tables: seed 003 (绍兴市中医院 2024年重点工作考核清单责任分工,
with merged group cells, several departments per cell and 各职能科) and seed 002 (漳平市卫健局 2019年度
绩效管理履职任务分解表, where 二级指标 is the item and blank cells mean "same as above"). Deadlines are
added in the forms offices write them.

Builders for other tests: :func:`write_rows_xlsx` (any table, streamed, so 100,000 rows are fine),
:func:`write_rows_csv`, :func:`write_seed003_xlsx`, :func:`write_seed002_xlsx`.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

Cell = str | int | float | dt.date | dt.datetime | None

SEED003_TITLE = "2024年绍兴市中医院重点工作考核清单责任分工"
SEED003_HEADER = ["序\n号", "项目\n（分值）", " 清单内容", "考核标准", "责任\n处室", "牵头\n领导", "牵头\n科室", "配合\n科室",
                  "完成时限"]  # fmt: skip
SEED003_ROWS: list[list[Cell]] = [
    ["省目标任务（25分）", "国家三级公立医院绩效考核（5分）", "国家三级公立医院绩效考核达到A等，名次不低于上一年度",
     "国家绩效考核降等次扣1分，每降5名扣0.2分", "科教中医处", "邵静松", "质控科", "各职能科", "2024年12月底"],
    [None, "省公立医院综合改革\n（5分）", "评估90分以上；完成政务服务增值化改革任务",
     "省考核评估90分以下的，每下降\n1分扣0.5分；按照完成任务项目数赋分，未完成1项扣0.25分", "医政处\n政法处",
     "邵静松\n李国华", "医务科", "各职能科", "2024年12月31日"],
    [None, "效率指标\n（8分）", "1.管理费用占总费用比重≤7.6%\n\n2.医疗总费用增幅≤9.5%\n\n3.医疗盈余较上年亏损减少50%以上",
     "第1-6项指标未达到目标值的，各扣1分\n7.每少5%扣0.1分", "计财处\n\n科教中医处", "邵静松\n\n李国华",
     "财务科\n\n医务科", "质控科", "12月25日"],
    [None, "执法监督\n（2分）",
     "1.按照全省医疗机构疾控监督员试点工作要求开展相关试点工作（1分） \n2.接入省医疗机构传染病防治依法执业合规平台（1分）",
     "1.未按省要求开展，扣1分 \n2.未按省要求接入并贯通，扣1 分", "综合监督处", "李国华", " 院感科\n\n公共卫生科", None,
     "2024-12-20"],
    [None, "数字健康重点工作\n\n（3分）", "1.完成健康数据高铁扩容要求及时归集新增数据集（1 分） \n2.完成软件正版化与信创工作（0.5 分）",
     "1.健康数据高铁总体数据质量评分达到90分以上，未达要求不得分", " 信息中心  科教中医处", "高  峰\n\n李国华",
     " 信息科\n\n 医务科", "中药剂科", "2024/12/20"],
    [None, "“两新”工作（2分）", "完成设施设备装备更新439台套、482.8万元", "未完成的，不得分", "  计财处", "何芬琴",
     " 设备科", "财务科", "2024.11.30"],
    ["市重点工作\n\n（60分）", "加强政治\n\n建设\n\n（3分）",
     "深化“第一议题”制度，高标准高质量开展党纪学习教育，完善贯彻习近平总书记重要指示批示精神和党中央决策部署闭环落实机制",
     "“第一议题”制度执行落实到位，未按要求落实每发现1项扣0.5分", "  政治处", "高 峰", "党建工作办", "党政综合办",
     dt.datetime(2024, 10, 31)],
    [None, "加强基层\n\n党建 \n\n（5分）", "1.规范抓好组织建设（1分） \n\n2.做好党员发展工作（1分）",
     "1.按期规范组织开展支部换届，科学设置党支部得0.5分", None, None, None, "各支部", None],
    [None, "意识形态和宣传教育\n\n（2分）", "严格落实意识形态工作责任制任务清单；加强中心工作宣传报道、先进典型选树和健康科普",
     "未完成年度意识形态工作责任清单，每发现一项扣0.5分", "宣教处", "高  峰", "党建工作办\n\n党政综合办", "公共卫生科",
     "年底"],
    [None, "三支队伍建设 （5分）", "1.加强干部队伍建设（2分） \n\n2.加强统战群团工作（1分）",
     "1.党委定期研究干部队伍建设工作，规范开展干部选拔任用工作，得1分", "政治处", "高  峰", "组织人事科\n\n党建工作办",
     "党政综合办\n\n工会\n\n团委", "2024年底"],
    [None, "清廉建设\n\n（2分）", "1.深入开展医药领域腐败问题集中整治、群众身边不正之风和腐败问题集中整治（1分）",
     "1.按要求开展医药领域腐败问题集中整治得1分", "政治处", "高峰", "纪检监察室", "各职能科", "长期坚持"],
]  # fmt: skip
SEED003_NOTE = "说明：1.本责任分解表中“项目、清单内容、考评标准、责任处室”等内容均为市卫生健康委对我院2024年考核要求的原文；"
SEED003_MERGES = ("A3:A8", "A9:A13", "E9:E10", "F9:F10", "G9:G10", "I9:I10", "A14:I14")
"""The two groups in the 序号 column, row 10's office/leader/lead/deadline merged with row 9's, the 说明."""


def write_rows_xlsx(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    title: str | Sequence[str] | None = None,
    merges: Iterable[str] = (),
    *,
    footer: Sequence[Cell] = (),
    sheet: str = "Sheet1",
) -> Path:
    """Write a one-sheet workbook: an optional title row merged across the header, the header, the rows.

    Rows are streamed (openpyxl write-only), so a 100,000-row list is quick to build.

    Args:
        path: the .xlsx to write.
        header: the header cells, line breaks included as offices type them.
        rows: the data rows (None for a blank cell; dates become Excel date cells).
        title: a title row above the header, or several, each merged across the header's width.
        merges: more merged ranges in Excel notation ("B3:B8"); the top-left cell keeps the value.
        footer: a last row (a 说明) written after the data.
        sheet: the sheet's name.
    """
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    titles = [title] if isinstance(title, str) else list(title or ())
    for number, line in enumerate(titles, start=1):
        ws.append([line])
        ws.merged_cells.add(f"A{number}:{get_column_letter(len(header))}{number}")
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    if footer:
        ws.append(list(footer))
    for ref in merges:
        ws.merged_cells.add(ref)
    wb.save(path)
    return path


def write_rows_csv(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    encoding: str = "utf-8-sig",
    title: str | None = None,
) -> Path:
    """Write a csv as Excel saves one (dates written 2024/10/31, blank cells empty)."""
    with path.open("w", encoding=encoding, newline="") as f:
        out = csv.writer(f)
        if title is not None:
            out.writerow([title] + [""] * (len(header) - 1))
        out.writerow(header)
        for row in rows:
            out.writerow([_csv_text(v) for v in row])
    return path


def _csv_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return f"{value.year}/{value.month}/{value.day}"
    return str(value)


def seed003_rows(*, filled: bool = False) -> list[list[Cell]]:
    """Seed 003's rows as a csv export has them (merged cells blank); ``filled`` writes out what the merges hold."""
    rows = [list(row) for row in SEED003_ROWS]
    if filled:
        rows[7][4:7] = rows[6][4:7]
        rows[7][8] = rows[6][8]
    return rows


def write_seed003_xlsx(path: Path) -> Path:
    """Seed 003 as the hospital's file: title row, merged group cells, merged office/leader cells, 说明.

    The header is on row 2; the items are on rows 3–13 (11 items); row 14 is the 说明. Row 10's
    责任处室, 牵头领导, 牵头科室 and 完成时限 are merged with row 9's. Deadlines: 2024 forms.
    """
    rows = [list(r) for r in SEED003_ROWS]
    return write_rows_xlsx(path, SEED003_HEADER, rows, SEED003_TITLE, SEED003_MERGES, footer=[SEED003_NOTE])


SEED002_TITLE = "2019年度漳平市卫健局绩效管理履职任务分解表（1500分）"
SEED002_HEADER = [
    "序号",
    "指标\n\n类别",
    "一级指标",
    "二级指标",
    "分值\n\n（分）",
    "分管领导",
    "责任单位及股室",
    "责任人",
]
SEED002_ROWS: list[list[Cell]] = [
    [1, "规定\n\n指标\n\n（1090分）", "基础绩效指标（950分）", "“产业发展项目建设年”活动", 300, "许金钟", "规信股", "林明南"],
    [2, None, None, "省、龙岩市“五个一批”项目攻坚推进成效", 30, "许金钟", "规信股", "林明南"],
    [6, None, None, "防范化解重大风险成效（含落实意识形态工作、政府债务风险防控、安全生产指数）", 90, "陈霏明\n\n许金钟",
     "党办\n\n综合股\n\n疾控股\n\n财务室", "余蓉\n\n翁富云\n\n唐小青\n\n邓小英"],
    [9, None, None, "改革创新成效", 30, "许金钟\n\n张莉庆", "各股室", "各股室负责人"],
    SEED002_HEADER,
    [11, "规定\n\n指标\n\n（1090分）", "基础绩效指标（950分）", "深化医改和医疗服务群众满意率", 30, "张莉庆", "医改办\n\n医政股",
     "黄枫华\n\n吴文聪"],
    [22, None, "争先创优指标（140分）", "争取上级项目资金成效", 80, "许金钟", "财务室", "邓小英"],
    [23, None, None, "招商引资项目开竣工数", 60, None, "规信股", "林明南"],
    [24, "自选\n\n指标\n\n（410分）", "医政工作（100分）", "1．做好贫困人口三十一种大病救治工作；二级综合医院按病种付费达35%以上（含35%）",
     50, "张莉庆", "医政股", "吴文聪"],
    [30, None, "公共卫生工作（120分）", "2．加强严重精神障碍患者健康管理，严重精神障碍患者在册率达4.5‰以上", 30, "许金钟",
     "疾控股\n疾控中心", "唐小青"],
]  # fmt: skip
SEED002_MERGES = ("B3:B6", "C3:C6")
"""The page-1 category cells are merged; after the repeated header (row 7) blanks are plain blanks."""


def write_seed002_xlsx(path: Path) -> Path:
    """Seed 002 as the bureau's file: title row, merged 指标类别/一级指标, a header repeated on page 2 (row 7)."""
    return write_rows_xlsx(path, SEED002_HEADER, SEED002_ROWS, SEED002_TITLE, SEED002_MERGES)
