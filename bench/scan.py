"""Benchmark: the daily escalation scan on a large SQLite file vs the bare indexed SELECT.

Usage (from the repository root)::

    python bench/scan.py [--items 1000000] [--db PATH] [--repeat 5] [--explain]

Setup (not timed, slow for a million items; progress is printed): a SQLite file created with
``make_engine`` + ``upgrade``; 30 departments with 3 department users each (with e-mail), 5
leaders plus the top leader ``yz``, two office users; one notice per 1,000 items; the items are
written with Core ``insert(Item)`` executemany in chunks (not through the services), each with
one lead department and, for one in five, a cooperating one. States are spread over the open
states (issued 15 %, assigned 35 %, measures_filed 35 %, verified 15 %; 5 % of the issued and
assigned items have no measures target). Each item's *pending* target (measures_due before
measures are filed, else completion_due) falls on a working day: for 99.6 % of the items
uniformly over the next ~2 years of working days (0..489 working days after the scan day), for
0.4 % in the past (overdue by 1 + an exponential number of working days, mean 15). The other
target lies 20..120 working days after (or before) it. With the shipped policy
(``config/escalation.toml``: bands at -2, 0, +1, +3, +10) the scan day then hits about 1 % of the
items: those due in the next two working days or today, and every overdue one. The exact count
is printed.

Timed, in the same run, each ``--repeat`` times (the best of each is reported, as ``timeit`` does:
the other rounds measure the machine's noise, not the code):

* scan: ``states.escalation.scan(conn, policy, calendar, day, now)`` in a transaction that is
  rolled back afterwards (so the file stays as built). The scan selects the items and INSERTs
  one escalation row per item, target, level and due date (``INSERT … SELECT … ON CONFLICT DO
  NOTHING``), each target's cases as a ``UNION ALL`` of covering-index ranges.
* fan-out (printed, not in the ratio): ``states.escalation.fan_out`` right after, in the same
  rolled-back transaction: it resolves the recipients and INSERTs the outbox messages. In the
  application it is a transaction of its own, run by the scan job after the scan and by every
  dispatch pass.
* bare: for every level band and target, the indexed ``SELECT id, target, due FROM items WHERE
  state IN (…) AND due BETWEEN …`` of the same rows (windows from ``states.escalation.window``),
  fetched fully, on the same connection; the completion target is the ``UNION ALL`` of its two
  cases (after measures; before measures without a measures target). ``--explain`` prints each
  statement's time and query plan.

Also printed: the time plain ``INSERT … SELECT``s of the very same escalation and outbox rows
take (the raw SQL doing the writing alone), and the median of the rounds' own ratios.

The rows the scan recorded (item, target, due, level) must be exactly the rows the bare SELECT
returned. The last line printed is ``ratio: X`` (scan time / bare time); the goal is at most 3.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Connection, Engine, event, func, insert, select, text  # noqa: E402

import config  # noqa: E402
from states.calendar import WorkingCalendar  # noqa: E402
from states.escalation import Policy, fan_out, scan, window  # noqa: E402
from states.model import Department, Escalation, Item, ItemDepartment, Notice, OutboxMessage, User  # noqa: E402
from states.store import make_engine, upgrade  # noqa: E402

#: The day scanned, and the scan time (08:30 in Asia/Shanghai).
DAY = dt.date(2026, 9, 15)
NOW = dt.datetime(2026, 9, 15, 0, 30, tzinfo=dt.UTC)
CREATED_AT = dt.datetime(2026, 9, 1, 1, 0, tzinfo=dt.UTC)
DEPARTMENTS = (
    "医务科", "护理部", "院感科", "药学部", "信息科", "财务科", "总务科", "设备科", "保卫科", "人事科",
    "质控科", "门诊部", "急诊科", "心内科", "普外科", "妇产科", "儿科", "检验科", "放射科", "超声科",
    "麻醉科", "手术室", "病案室", "科教科", "医保办", "党办", "院办", "后勤保障部", "营养科", "康复科",
)  # fmt: skip
MEMBERS_PER_DEPARTMENT = 3
LEADERS = 5
OFFICE_USERS = 2
ITEMS_PER_NOTICE = 1_000
#: State mix of the open items.
STATES = (("issued", 0.15), ("assigned", 0.35), ("measures_filed", 0.35), ("verified", 0.15))
NO_MEASURES = 0.05
"""Share of issued/assigned items without a measures target (completion is then pending)."""
OVERDUE = 0.004
"""Share of items whose pending target is already past on the scan day."""
OVERDUE_MEAN = 15
FUTURE_SPAN = 490
"""Pending targets of the others: 0..FUTURE_SPAN-1 working days after the scan day (~2 years)."""
COOPERATING = 0.2
NO_LEADER = 0.1


def build(path: Path, items: int, calendar: WorkingCalendar, seed: int, chunk: int) -> None:
    """Create the file: schema, organisation, notices, items and their departments (not timed)."""
    t0 = time.perf_counter()
    engine = make_engine(str(path))
    upgrade(engine)
    rng = random.Random(seed)
    with engine.begin() as conn:
        dept_ids = [conn.execute(insert(Department).values(name=n).returning(Department.id)).scalar_one()
                    for n in DEPARTMENTS]  # fmt: skip
        users: list[dict[str, Any]] = [
            {"username": "admin", "name": "管理员", "role": "admin", "department_id": None, "email": None},
            {"username": "yz", "name": "院长", "role": "leader", "department_id": None, "email": "yz@h.example.cn"},
        ]  # fmt: skip
        users += [{"username": f"office{k}", "name": f"督查办{k}", "role": "office", "department_id": None,
                   "email": f"office{k}@h.example.cn"} for k in range(1, OFFICE_USERS + 1)]  # fmt: skip
        users += [{"username": f"leader{k}", "name": f"副院长{k}", "role": "leader", "department_id": None,
                   "email": f"leader{k}@h.example.cn"} for k in range(1, LEADERS + 1)]  # fmt: skip
        users += [{"username": f"d{d:02d}u{k}", "name": f"{DEPARTMENTS[d - 1]}{k}号", "role": "department",
                   "department_id": dept_ids[d - 1], "email": f"d{d:02d}u{k}@h.example.cn"}
                  for d in range(1, len(DEPARTMENTS) + 1) for k in range(1, MEMBERS_PER_DEPARTMENT + 1)]  # fmt: skip
        conn.execute(insert(User), users)
        leader_ids = list(conn.scalars(select(User.id).where(User.username.like("leader%"))))
        notices = -(-items // ITEMS_PER_NOTICE)
        conn.execute(insert(Notice), [{"title": f"督查通报 第{n}期", "issuer": "市卫健委", "doc_number": f"督〔2026〕{n}号",
                                       "received_on": DAY - dt.timedelta(days=30), "created_at": CREATED_AT}
                                      for n in range(1, notices + 1)])  # fmt: skip
        first_notice = conn.scalar(select(func.min(Notice.id)))
    assert first_notice is not None
    t_day = calendar.ordinal(DAY)
    states, weights = zip(*STATES, strict=True)
    item_id = 0
    for start in range(0, items, chunk):
        rows, links = [], []
        for k in range(start, min(start + chunk, items)):
            item_id += 1
            rows.append(_item(rng, calendar, t_day, k, first_notice, leader_ids, states, weights))
            rows[-1]["id"] = item_id
            lead = rng.choice(dept_ids)
            links.append({"item_id": item_id, "department_id": lead, "role": "lead"})
            if rng.random() < COOPERATING:
                other = rng.choice([d for d in dept_ids if d != lead])
                links.append({"item_id": item_id, "department_id": other, "role": "cooperating"})
        with engine.begin() as conn:
            conn.execute(insert(Item), rows)
            conn.execute(insert(ItemDepartment), links)
        done = min(start + chunk, items)
        if done % (10 * chunk) == 0 or done == items:
            print(f"  setup: {done:,} / {items:,} items ({time.perf_counter() - t0:.0f} s)", flush=True)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    print(f"  setup done in {time.perf_counter() - t0:.0f} s", flush=True)


def _item(rng: random.Random, calendar: WorkingCalendar, t_day: int, k: int, first_notice: int,
          leader_ids: list[int], states: tuple[str, ...], weights: tuple[float, ...]) -> dict[str, Any]:  # fmt: skip
    """One open item: state, pending target around the scan day, the other target consistent."""
    state = rng.choices(states, weights)[0]
    if rng.random() < OVERDUE:
        offset = -(1 + int(rng.expovariate(1 / OVERDUE_MEAN)))  # working days after the target
    else:
        offset = rng.randrange(FUTURE_SPAN)
    pending = t_day + offset
    gap = rng.randint(20, 120)
    measures_due: dt.date | None
    if state in ("issued", "assigned"):
        if rng.random() < NO_MEASURES:
            measures_due, completion_due = None, calendar.workday_at(pending)
        else:
            measures_due, completion_due = calendar.workday_at(pending), calendar.workday_at(pending + gap)
    else:
        measures_due, completion_due = calendar.workday_at(pending - gap), calendar.workday_at(pending)
    start = calendar.workday_at((pending if measures_due is None else calendar.ordinal(measures_due)) - 10)
    return {
        "notice_id": first_notice + k // ITEMS_PER_NOTICE, "seq": k % ITEMS_PER_NOTICE + 1,
        "category": "医疗质量" if k % 3 else "院感防控", "title": f"整改事项 {k + 1}：制度落实不到位",
        "lead_leader_id": None if rng.random() < NO_LEADER else rng.choice(leader_ids), "state": state,
        "version": 1, "start_on": start, "measures_rule": None if measures_due is None else "workdays:10",
        "measures_due": measures_due, "completion_rule": f"workdays:{10 + gap}",
        "completion_due": completion_due, "provisional": completion_due.year > 2026,
        "created_at": CREATED_AT, "updated_at": CREATED_AT,
    }  # fmt: skip


def count_items(path: Path) -> int:
    engine = make_engine(str(path))
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(Item)) or 0
    finally:
        engine.dispose()


BEFORE, AFTER = "('issued','assigned')", "('measures_filed','verified')"


def bare_queries(policy: Policy, calendar: WorkingCalendar) -> list[tuple[str, str, str, dict[str, str]]]:
    """(level, target, SQL, params) of the indexed SELECTs returning the rows the scan selects."""
    out = []
    for level, lo, hi in policy.bands():
        first, last = window(calendar, DAY, lo, hi)
        params = {"last": last.isoformat()} | ({} if first is None else {"first": first.isoformat()})
        for target in level.targets:
            rng = f"{target} <= :last" + ("" if first is None else f" AND {target} >= :first")
            if target == "measures_due":
                sql = f"SELECT id, 'measures_due', measures_due FROM items WHERE state IN {BEFORE} AND {rng}"
            else:
                sql = (f"SELECT id, 'completion_due', completion_due FROM items WHERE state IN {AFTER} AND {rng} "
                       f"UNION ALL SELECT id, 'completion_due', completion_due FROM items "
                       f"WHERE state IN {BEFORE} AND measures_due IS NULL AND {rng}")  # fmt: skip
            out.append((level.name, target, sql, params))
    return out


def run_bare(
    conn: Connection, queries: list[tuple[str, str, str, dict[str, str]]]
) -> tuple[float, set[tuple]]:
    """Run every bare SELECT, fetching all rows; return (seconds, rows tagged with their level)."""
    t0 = time.perf_counter()
    results = [(level, conn.execute(text(sql), params).all()) for level, _t, sql, params in queries]
    elapsed = time.perf_counter() - t0
    rows = {(r[0], r[1], dt.date.fromisoformat(r[2]), level) for level, rs in results for r in rs}
    return elapsed, rows


def run_scan(engine: Engine, policy: Policy, calendar: WorkingCalendar) -> dict[str, Any]:
    """One scan and its fan-out, rolled back.

    Returns the seconds of the scan and of the fan-out, the escalations and messages written, the
    distinct (item, target, due, level) escalated, and the seconds plain ``INSERT … SELECT``s of
    the very same escalation rows and outbox rows take (the writing alone).
    """
    with engine.connect() as conn:
        tx = conn.begin()
        try:
            t0 = time.perf_counter()
            result = scan(conn, policy, calendar, DAY, NOW)
            scan_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            messages = fan_out(conn, policy, NOW)
            fan_s = time.perf_counter() - t0
            e = Escalation
            queued = {tuple(r) for r in conn.execute(select(e.item_id, e.target, e.due, e.level))}
            raw = {}
            for table in ("escalations", "outbox"):
                conn.exec_driver_sql(f"CREATE TEMP TABLE copy_{table} AS SELECT * FROM {table}")
                conn.exec_driver_sql(f"DELETE FROM {table}")
            for table in ("escalations", "outbox"):
                t0 = time.perf_counter()
                conn.exec_driver_sql(f"INSERT INTO {table} SELECT * FROM copy_{table}")
                raw[table] = time.perf_counter() - t0
        finally:
            tx.rollback()
    return {"scan": scan_s, "fan_out": fan_s, "escalations": result.total, "messages": sum(messages.values()),
            "queued": queued, "raw_escalations": raw["escalations"], "raw_outbox": raw["outbox"]}  # fmt: skip


def explain(engine: Engine, policy: Policy, calendar: WorkingCalendar) -> None:
    """Print every statement the scan sends with its time and EXPLAIN QUERY PLAN (rolled back)."""
    captured: list[tuple[str, Any, float]] = []
    starts: list[float] = []

    def before(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        starts.append(time.perf_counter())

    def after(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        captured.append((statement, params, time.perf_counter() - starts.pop()))

    with engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", before)
        event.listen(conn, "after_cursor_execute", after)
        tx = conn.begin()
        try:
            scan(conn, policy, calendar, DAY, NOW)
        finally:
            tx.rollback()
            event.remove(conn, "before_cursor_execute", before)
            event.remove(conn, "after_cursor_execute", after)
        for n, (statement, params, seconds) in enumerate(captured, start=1):
            print(f"--- scan statement {n}: {seconds * 1000:.1f} ms")
            print(statement if n == 1 else statement[:300] + " …")
            for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params):
                print("   ", row[3])
        for level, target, sql, params in bare_queries(policy, calendar):
            t0 = time.perf_counter()
            rows = conn.execute(text(sql), params).all()
            print(f"--- bare {level} {target}: {len(rows)} rows, {(time.perf_counter() - t0) * 1000:.1f} ms")
            for row in conn.execute(text("EXPLAIN QUERY PLAN " + sql), params):
                print("   ", row[3])


def timed_rounds(
    engine: Engine, policy: Policy, calendar: WorkingCalendar, repeat: int
) -> Iterator[dict[str, Any]]:
    queries = bare_queries(policy, calendar)
    with engine.connect() as conn:  # warm the page cache once, untimed
        run_bare(conn, queries)
    for _ in range(repeat):
        one = run_scan(engine, policy, calendar)
        with engine.connect() as conn:
            one["bare"], one["rows"] = run_bare(conn, queries)
            conn.rollback()
        yield one


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000, help="open items (default 1000000)")
    parser.add_argument("--db", type=Path, help="SQLite file to build, or reuse if it holds --items items")
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds; the best is reported")
    parser.add_argument("--seed", type=int, default=20260915)
    parser.add_argument("--chunk", type=int, default=20_000, help="items per insert transaction in setup")
    parser.add_argument("--explain", action="store_true", help="print each statement's time and query plan")
    args = parser.parse_args()
    settings = config.load()
    policy = config.load_policy(settings)
    calendar = WorkingCalendar.official()
    with tempfile.TemporaryDirectory(prefix="rectiflow-bench-") as tmp:
        path = args.db or Path(tmp) / "scan.sqlite"
        if path.exists():
            have = count_items(path)
            if have != args.items:
                print(f"FAILED {path} holds {have:,} items, not {args.items:,}; use another --db")
                return 1
            print(f"reusing {path} ({have:,} items)")
        else:
            print(f"building {path} with {args.items:,} items …", flush=True)
            build(path, args.items, calendar, args.seed, args.chunk)
        engine = make_engine(str(path))
        with engine.connect() as conn:
            if conn.scalar(select(func.count()).select_from(OutboxMessage)):
                print(f"FAILED {path}: the outbox is not empty")
                return 1
        if args.explain:
            explain(engine, policy, calendar)
        rounds = list(timed_rounds(engine, policy, calendar, args.repeat))
        engine.dispose()
    first = rounds[0]
    queued, rows = first["queued"], first["rows"]
    keys = ("escalations", "messages", "queued", "rows")
    if queued != rows or any(r[k] != first[k] for r in rounds for k in keys):
        print(f"FAILED the scan recorded {len(queued)} (item, target, due, level) rows, the SELECT found "
              f"{len(rows)}; e.g. {sorted(queued ^ rows)[:3]}")  # fmt: skip
        return 1

    def best(key: str) -> float:
        return min(r[key] for r in rounds)

    def each(key: str) -> str:
        return ", ".join(f"{r[key] * 1000:.0f}" for r in rounds)

    scan_s, fan_s, bare_s = best("scan"), best("fan_out"), best("bare")
    hit = len({r[0] for r in rows})
    print(f"items: {args.items:,}; day {DAY} ({len(policy.levels)} levels × targets: {len(bare_queries(policy, calendar))} windows)")  # fmt: skip
    print(f"rows hit: {hit:,} items ({hit / args.items:.2%}); the scan recorded exactly these "
          f"({first['escalations']:,} escalations)")  # fmt: skip
    print(f"scan (select + escalations INSERT, rolled back): {scan_s * 1000:.1f} ms best of {len(rounds)} "
          f"({each('scan')} ms)")  # fmt: skip
    print(
        f"bare indexed SELECT of the same rows: {bare_s * 1000:.1f} ms best of {len(rounds)} ({each('bare')} ms)"
    )
    raw_scan = bare_s + best("raw_escalations")
    print(f"raw SQL doing the scan's work (the bare SELECT + a plain INSERT of the same escalation rows): "
          f"{raw_scan * 1000:.1f} ms; scan / raw: {scan_s / raw_scan:.2f}")  # fmt: skip
    print(f"fan-out after the scan (recipients + outbox INSERT of {first['messages']:,} messages, its own "
          f"transaction): {fan_s * 1000:.1f} ms best ({each('fan_out')} ms); a plain INSERT of the same outbox "
          f"rows: {best('raw_outbox') * 1000:.1f} ms")  # fmt: skip
    print(f"scan + fan-out: {(scan_s + fan_s) * 1000:.1f} ms; / bare SELECT: {(scan_s + fan_s) / bare_s:.2f}")
    per_round = statistics.median(r["scan"] / r["bare"] for r in rounds)
    print(f"median of the rounds' own ratios: {per_round:.2f}")
    print(f"ratio: {scan_s / bare_s:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
