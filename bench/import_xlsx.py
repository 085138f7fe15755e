"""Benchmark: importing a 100,000-row supervision list (督办清单) vs a bare openpyxl read.

Usage (from the repository root)::

    python bench/import_xlsx.py [--rows 100000]

Setup (not timed): a generated .xlsx shaped like the users' lists (title row, header with line
breaks, departments several per cell, deadlines in their usual forms) and a migrated SQLite file
with the departments and an office user.

Timed, in the same run: a bare ``openpyxl`` read-only iteration over every cell of the file; the
dry-run import (parse + plan against the database); the real import (parse + plan + one
transaction writing every item, its departments and events). The last line is
``ratio: X`` (real import time / bare read time); the goal is at most 3.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import Workbook, load_workbook  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from states import intake, org  # noqa: E402
from states.calendar import WorkingCalendar  # noqa: E402
from states.importers.apply import plan_import, run_import  # noqa: E402
from states.importers.table import parse_table  # noqa: E402
from states.model import Item  # noqa: E402
from states.service import Env  # noqa: E402
from states.store import make_engine, session_factory, upgrade  # noqa: E402

DEPARTMENTS = ["医务科", "护理部", "药剂科", "财务科", "感染管理科", "医患关系科", "物价科", "信息科", "总务科",
               "人事科", "医保办", "设备科", "院办", "党办", "质控科", "科教科"]  # fmt: skip
LEADERS = ["李建国", "张卫东", "陈静"]
NOW = dt.datetime(2026, 9, 15, 1, 0, tzinfo=dt.UTC)
HEADER = [
    "序号",
    "项目\n（分值）",
    "清单内容",
    "考核标准",
    "责任\n处室",
    "牵头\n领导",
    "牵头\n科室",
    "配合\n科室",
    "完成时限",
]


def write_list(path: Path, rows: int, seed: int) -> None:
    """A list as offices write them: title row, header with line breaks, varied deadlines."""
    rng = random.Random(seed)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("清单")
    ws.append(["2026年重点工作考核清单责任分工"])
    ws.append(HEADER)
    forms = (lambda m, d: f"2026年{m}月{d}日", lambda m, d: f"2026-{m:02d}-{d:02d}", lambda m, _d: f"2026年{m}月底",
             lambda m, d: f"{m}月{d}日", lambda m, d: dt.datetime(2026, m, d))  # fmt: skip
    for n in range(1, rows + 1):
        m, d = rng.randint(10, 12), rng.randint(1, 28)
        coop = "、".join(rng.sample(DEPARTMENTS, rng.randint(0, 2)))
        ws.append([n, f"指标{n % 40 + 1}（{rng.randint(1, 10)}分）", f"第{n}项重点工作：完善制度并落实到位",
                   "未完成扣1分", rng.choice(DEPARTMENTS), rng.choice(LEADERS), rng.choice(DEPARTMENTS), coop,
                   rng.choice(forms)(m, d)])  # fmt: skip
    wb.save(path)


def bare_read(path: Path) -> tuple[float, int]:
    """Every cell of the file through openpyxl's read-only iterator: the floor any import stands on."""
    t0 = time.perf_counter()
    wb = load_workbook(path, read_only=True)
    ws = wb.worksheets[0]
    count = sum(1 for row in ws.iter_rows(values_only=True) for _cell in row)
    wb.close()
    return time.perf_counter() - t0, count


def setup_db(path: Path) -> tuple[object, Env]:
    engine = make_engine(str(path))
    upgrade(engine)
    env = Env(calendar=WorkingCalendar.official())
    with session_factory(engine)() as s:
        for name in DEPARTMENTS:
            org.add_department(s, None, name)
        org.add_user(s, None, username="admin", name="管理员", role="admin")
        admin = org.actor(s, "admin")
        org.add_user(s, admin, username="jxb", name="王敏", role="office")
        for k, name in enumerate(LEADERS):
            org.add_user(s, admin, username=f"leader{k}", name=name, role="leader")
        intake.create_notice(s, env, org.actor(s, "jxb"), NOW, title="2026年重点工作考核清单", issuer="市卫健委",
                             received_on=dt.date(2026, 9, 15))  # fmt: skip
    return engine, env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20260915)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rectiflow-bench-") as tmp:
        xlsx = Path(tmp) / "清单.xlsx"
        write_list(xlsx, args.rows, args.seed)
        engine, env = setup_db(Path(tmp) / "import.db")
        sessions = session_factory(engine)  # type: ignore[arg-type]
        bare_s, cells = bare_read(xlsx)
        with sessions() as s:
            office = org.actor(s, "jxb")
            t0 = time.perf_counter()
            plan = plan_import(s, parse_table(xlsx, notice_year=2026))
            dry_s = time.perf_counter() - t0
            if plan.problems or len(plan.specs) != args.rows:
                print(f"FAILED dry run: {len(plan.specs)} items, problems: {plan.problems[:3]}")
                return 1
            t0 = time.perf_counter()
            run_import(s, env, 1, parse_table(xlsx, notice_year=2026), office, NOW)
            real_s = time.perf_counter() - t0
            written = s.scalar(select(func.count(Item.id)))
        engine.dispose()  # type: ignore[attr-defined]
    if written != args.rows:
        print(f"FAILED the import wrote {written} items, not {args.rows}")
        return 1
    print(f"rows: {args.rows:,} ({cells:,} cells)")
    print(f"bare openpyxl read-only iteration: {bare_s:.2f} s, {args.rows / bare_s:,.0f} rows/s")
    print(f"import --dry-run (parse + plan): {dry_s:.2f} s, {args.rows / dry_s:,.0f} rows/s")
    print(f"import (parse + plan + one transaction): {real_s:.2f} s, {args.rows / real_s:,.0f} rows/s")
    print(f"ratio: {real_s / bare_s:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
