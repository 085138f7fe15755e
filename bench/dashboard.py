"""Benchmark: the dashboard's data endpoint on a large SQLite file vs the bare per-department GROUP BY.

Usage (from the repository root)::

    python bench/dashboard.py [--items 1000000] [--db PATH] [--repeat 7] [--explain]

Setup (not timed; its time is printed): a SQLite file created with ``make_engine`` + ``upgrade``;
20 departments with a member each, the top leader ``yz``, an admin; one notice per 1,000 items. The
items are written by one ``INSERT … SELECT`` over a recursive CTE counting 1..N, each item's draws
being Weyl sequences of its number (deterministic, no Python per row), and dates taken from a
small table of working days around the benchmark day (2026-09-15):

- states: closed 55 %, withdrawn 3 %, verified 5 %, measures_filed 12 %, assigned 15 %, issued 10 %;
- lead departments skewed (the first ones lead more items); 3 % of the items have a second lead
  department and 20 % a cooperating one;
- deadlines over a year: closed and withdrawn items started 21..250 working days ago, open items
  mostly in the last 60 (15 % of them up to 200 working days ago, mostly overdue now); measures
  are due 10 working days after the start (5 % have no measures target), completion 15..74
  working days after that; closed items were closed from 45 working days before to 14 after their
  completion target (about a quarter late), never after the benchmark day.

Timed, in the same process, after one untimed warm-up of each, in ``--repeat`` rounds of one
endpoint call then one bare query (so load from other processes hits both alike):

* endpoint: ``GET /api/v1/dashboard`` with a leader's API token, through the real app
  (``create_app`` on a runtime over the file, ``fastapi.testclient.TestClient``): token check,
  every query of :func:`states.dashboard.dashboard`, JSON encoding and the HTTP response;
* bare: the per-department GROUP BY the dashboard needs, as one raw SQL statement through the
  stdlib ``sqlite3`` module (the engine's connection pragmas), fetching its rows.

The endpoint's department rows must equal the bare query's. Both the best and the median of each
are printed; the last line is ``ratio: X``, best endpoint time / best bare time (the best run is
the one least disturbed by the rest of the machine); the goal is at most 1.5. ``--explain`` first
times each part of the dashboard on its own and prints each statement's query plan.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sqlite3
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")  # noise, not ours

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Engine, event  # noqa: E402

import config  # noqa: E402
from app.web import create_app  # noqa: E402
from flows.runtime import App, bootstrap  # noqa: E402
from states import auth, dashboard, org, queries  # noqa: E402
from states.calendar import WorkingCalendar  # noqa: E402
from states.store import _sqlite_pragmas, make_engine, upgrade  # noqa: E402

DAY = dt.date(2026, 9, 15)
NOW = dt.datetime(2026, 9, 15, 1, 0, tzinfo=dt.UTC)
DEPARTMENTS = (
    "医务科", "护理部", "院感科", "药学部", "信息科", "财务科", "总务科", "设备科", "保卫科", "人事科",
    "质控科", "门诊部", "急诊科", "心内科", "普外科", "妇产科", "儿科", "检验科", "放射科", "医保办",
)  # fmt: skip
ITEMS_PER_NOTICE = 1_000
#: Working days around DAY in the day table (the items' dates stay well inside it).
SPAN = 400

#: One draw in [0, 1) per name: frac(n * multiplier) (Weyl sequences, independent enough here).
DRAWS = {"dept": 0.6180339887, "state": 0.4142135623, "start": 0.7320508075, "old": 0.2360679774,
         "gap": 0.6457513110, "nomeasures": 0.1622776601, "close": 0.3166247903, "lead2": 0.8284271247,
         "coop": 0.4494897427, "other": 0.5825756949, "leader": 0.1231056256}  # fmt: skip

ITEMS_SQL = """
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :items),
draws AS (SELECT n, {draws} FROM seq),
stated AS (SELECT *, CASE WHEN state_u < 0.55 THEN 'closed' WHEN state_u < 0.58 THEN 'withdrawn'
                     WHEN state_u < 0.63 THEN 'verified' WHEN state_u < 0.75 THEN 'measures_filed'
                     WHEN state_u < 0.90 THEN 'assigned' ELSE 'issued' END AS state FROM draws),
started AS (SELECT *, CASE WHEN state IN ('closed', 'withdrawn') THEN -21 - CAST(start_u * 230 AS INTEGER)
                     WHEN old_u < 0.15 THEN -CAST(start_u * 200 AS INTEGER)
                     WHEN state IN ('issued', 'assigned') THEN -CAST(start_u * 14 AS INTEGER)
                     ELSE -CAST(start_u * 60 AS INTEGER) END AS start_o FROM stated),
dated AS (SELECT *, start_o + 10 AS measures_o, start_o + 25 + CAST(gap_u * 60 AS INTEGER) AS completion_o
          FROM started)
SELECT n, :first_notice + (n - 1) / {per_notice}, (n - 1) % {per_notice} + 1,
       CASE n % 3 WHEN 0 THEN '院感防控' ELSE '医疗质量' END, '整改事项 ' || n || '：制度落实不到位',
       CASE WHEN leader_u < 0.9 THEN :first_leader END, state, 1,
       (SELECT d FROM days WHERE o = start_o),
       CASE WHEN nomeasures_u >= 0.05 THEN 'workdays:10' END,
       CASE WHEN nomeasures_u >= 0.05 THEN (SELECT d FROM days WHERE o = measures_o) END,
       'workdays:' || (completion_o - start_o), (SELECT d FROM days WHERE o = completion_o), 0,
       CASE WHEN state IN ('measures_filed', 'verified', 'closed') THEN '已修订制度并组织培训' END,
       CASE WHEN state IN ('measures_filed', 'verified', 'closed')
            THEN (SELECT d FROM days WHERE o = min(measures_o, 0)) END,
       CASE WHEN state = 'closed' THEN (SELECT d FROM days WHERE o =
            max(start_o + 1, min(0, completion_o - 45 + CAST(close_u * 60 AS INTEGER)))) END,
       (SELECT d FROM days WHERE o = start_o) || ' 01:00:00.000000', :now
FROM dated
"""
ITEM_COLUMNS = (
    "id, notice_id, seq, category, title, lead_leader_id, state, version, start_on, measures_rule, measures_due, "
    "completion_rule, completion_due, provisional, measures, measures_filed_on, closed_on, created_at, updated_at"
)
LINKS_SQL = """
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :items),
draws AS (SELECT n, {draws} FROM seq),
leads AS (SELECT n, lead2_u, coop_u, other_u,
                 1 + CAST(:depts * (dept_u + dept_u * dept_u) / 2 AS INTEGER) AS lead FROM draws),
links AS (SELECT *, :first_dept + (lead + CAST(other_u * (:depts - 1) AS INTEGER)) % :depts AS other FROM leads)
SELECT n, :first_dept - 1 + lead, 'lead' FROM links
UNION ALL SELECT n, other, 'lead' FROM links WHERE lead2_u < 0.03
UNION ALL SELECT n, other, 'cooperating' FROM links WHERE coop_u < 0.20 AND lead2_u >= 0.03
"""

#: The per-department counts the dashboard needs (items, closed, closed on time, overdue, withdrawn), as
#: the bare SQL a person would write.
BARE_SQL = """
SELECT d.name,
       count(i.id) FILTER (WHERE i.state != 'withdrawn'),
       count(i.id) FILTER (WHERE i.state = 'closed'),
       count(i.id) FILTER (WHERE i.state = 'closed'
                           AND (coalesce(i.completion_due, i.measures_due) IS NULL
                                OR i.closed_on <= coalesce(i.completion_due, i.measures_due))),
       count(i.id) FILTER (WHERE CASE WHEN i.state IN ('issued', 'assigned')
                                      THEN coalesce(i.measures_due, i.completion_due)
                                      WHEN i.state IN ('measures_filed', 'verified') THEN i.completion_due
                                 END < :cutoff),
       count(i.id) FILTER (WHERE i.state = 'withdrawn')
FROM departments d JOIN item_departments l ON l.department_id = d.id JOIN items i ON i.id = l.item_id
WHERE l.role = 'lead'
GROUP BY d.id, d.name ORDER BY d.id
"""  # fmt: skip


def draws_sql() -> str:
    return ", ".join(f"(n * {m}) - CAST(n * {m} AS INTEGER) AS {name}_u" for name, m in DRAWS.items())


def build(path: Path, items: int, calendar: WorkingCalendar) -> float:
    """Create the file: schema, organisation, notices, items and their departments; return seconds."""
    t0 = time.perf_counter()
    engine = make_engine(str(path))
    upgrade(engine)
    with engine.begin() as conn:
        add_org(conn)
    engine.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA cache_size=-400000")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    base = calendar.ordinal(DAY)
    conn.execute("CREATE TEMP TABLE days (o INTEGER PRIMARY KEY, d TEXT NOT NULL)")
    days = [(k, calendar.workday_at(base + k).isoformat()) for k in range(-SPAN, SPAN + 1)]
    conn.executemany("INSERT INTO days VALUES (?, ?)", days)
    notices = -(-items // ITEMS_PER_NOTICE)
    conn.executemany(
        "INSERT INTO notices (title, issuer, doc_number, received_on, created_at) VALUES (?, ?, ?, ?, ?)",
        [(f"督查通报 第{n}期", "市卫健委", f"督〔2026〕{n}号", "2025-09-01", "2025-09-01 01:00:00.000000")
         for n in range(1, notices + 1)],
    )  # fmt: skip
    first = {
        "first_notice": conn.execute("SELECT min(id) FROM notices").fetchone()[0],
        "first_leader": conn.execute("SELECT id FROM users WHERE username = 'yz'").fetchone()[0],
        "first_dept": conn.execute("SELECT min(id) FROM departments").fetchone()[0],
    }
    params = {"items": items, "depts": len(DEPARTMENTS), "now": f"{NOW:%Y-%m-%d %H:%M:%S}.000000", **first}
    conn.execute(f"INSERT INTO items ({ITEM_COLUMNS}) "
                 + ITEMS_SQL.format(draws=draws_sql(), per_notice=ITEMS_PER_NOTICE), params)  # fmt: skip
    links = LINKS_SQL.format(draws=draws_sql())
    conn.execute(f"INSERT INTO item_departments (item_id, department_id, role) {links}", params)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - t0


def add_org(conn: Any) -> None:
    """Departments, one member each, the top leader and an admin (Core inserts; no services needed)."""
    conn.exec_driver_sql("INSERT INTO departments (name, kind) VALUES " + ", ".join("(?, 'functional')"
                                                                                     for _ in DEPARTMENTS),
                         DEPARTMENTS)  # fmt: skip
    users = [("admin", "管理员", "admin", None), ("yz", "院长", "leader", None)]
    users += [(f"d{k:02d}", f"{name}科员", "department", k) for k, name in enumerate(DEPARTMENTS, start=1)]
    conn.exec_driver_sql("INSERT INTO users (username, name, role, department_id) VALUES (?, ?, ?, ?)", users)


def count_items(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM items").fetchone()[0])


def runtime(path: Path) -> App:
    settings = dataclasses.replace(config.load(), database_url=f"sqlite:///{path}")
    return bootstrap(settings, today=DAY)


def leader_token(app: App) -> str:
    with app.sessions() as s:
        admin = org.actor(s, "admin")
        return auth.create_token(s, admin, "yz", "bench", NOW).token


def bare(path: Path, cutoff: dt.date) -> Callable[[], list[tuple[Any, ...]]]:
    """The bare GROUP BY on its own sqlite3 connection (the engine's pragmas), fetching every row."""
    conn = sqlite3.connect(path)
    _sqlite_pragmas(conn, None)
    return lambda: conn.execute(BARE_SQL, {"cutoff": cutoff.isoformat()}).fetchall()


def clocked(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    fn()  # warm-up
    return [clocked(fn)[0] for _ in range(repeat)]


def rounds(
    endpoint: Callable[[], Any], bare_query: Callable[[], Any], repeat: int
) -> tuple[list[float], list[float], Any, Any]:
    """Both, one after the other in each round (so load from elsewhere hits both alike), after a warm-up
    of each (page cache, compiled statements, the token's last-use write)."""
    endpoint(), bare_query()
    endpoint_times, bare_times, response, rows = [], [], None, None
    for _ in range(repeat):
        seconds, response = clocked(endpoint)
        endpoint_times.append(seconds)
        seconds, rows = clocked(bare_query)
        bare_times.append(seconds)
    return endpoint_times, bare_times, response, rows


def breakdown(app: App) -> None:
    """Each part of the dashboard timed on its own, and each statement's query plan."""
    calendar = app.env.calendar
    with app.sessions() as s:
        leader = org.actor(s, "yz")
        cutoff = queries.overdue_cutoff(calendar, DAY)
        overall = queries.overall_stats(s, calendar, leader, DAY)
        parts: dict[str, Callable[[], Any]] = {
            "overall_stats": lambda: queries.overall_stats(s, calendar, leader, DAY),
            "department_stats": lambda: queries.department_stats(s, calendar, leader, DAY),
            "trend": lambda: dashboard.trend(s, overall, DAY, dashboard.WEEKS),
            "most_overdue": lambda: dashboard.most_overdue(s, calendar, DAY, dashboard.OVERDUE_LIMIT),
        }
        for name, fn in parts.items():
            statements = capture(app.engine, fn)
            times = timed(fn, 3)
            print(f"--- {name}: {statistics.median(times) * 1000:.1f} ms")
            for sql, params in statements:
                for row in s.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params):
                    print("   ", row[3])
        print(f"overdue cutoff {cutoff}; overall {overall.as_json()}")


def capture(engine: Engine, fn: Callable[[], Any]) -> list[tuple[str, Any]]:
    captured: list[tuple[str, Any]] = []

    def before(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        captured.append((statement, params))

    event.listen(engine, "before_cursor_execute", before)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return captured


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000, help="items (default 1000000)")
    parser.add_argument("--db", type=Path, help="SQLite file to build, or reuse if it holds --items items")
    parser.add_argument("--repeat", type=int, default=7, help="timed rounds (default 7)")
    parser.add_argument("--explain", action="store_true", help="time each part and print its query plan")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rectiflow-bench-") as tmp:
        path = args.db or Path(tmp) / "dashboard.sqlite"
        if path.exists():
            if (have := count_items(path)) != args.items:
                print(f"FAILED {path} holds {have:,} items, not {args.items:,}; use another --db")
                return 1
            print(f"reusing {path} ({have:,} items)")
        else:
            print(f"building {path} with {args.items:,} items …", flush=True)
            print(f"setup: {build(path, args.items, WorkingCalendar.official()):.1f} s", flush=True)
        return measure(path, args.repeat, args.explain)


def measure(path: Path, repeat: int, explain: bool) -> int:
    app = runtime(path)
    token = leader_token(app)
    if explain:
        breakdown(app)
    cutoff = queries.overdue_cutoff(app.env.calendar, DAY)
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(app)) as client:
        endpoint_times, bare_times, response, rows = rounds(
            lambda: client.get("/api/v1/dashboard", headers=headers), bare(path, cutoff), repeat
        )
    app.engine.dispose()
    if response.status_code != 200:
        print(f"FAILED the endpoint answered {response.status_code}: {response.text[:300]}")
        return 1
    data = response.json()
    mine = [(d["department"], d["total"], d["closed"], d["closed_on_time"], d["overdue"], d["withdrawn"])
            for d in data["departments"]]  # fmt: skip
    if mine != [tuple(r) for r in rows]:
        print(
            f"FAILED the endpoint's department rows differ from the bare GROUP BY: {mine[:2]} vs {rows[:2]}"
        )
        return 1
    report(data, endpoint_times, bare_times, len(response.content))
    return 0


def report(data: dict[str, Any], endpoint_times: list[float], bare_times: list[float], size: int) -> None:
    o = data["overall"]
    links = sum(d["total"] + d["withdrawn"] for d in data["departments"])
    print(f"items: {o['total'] + o['withdrawn']:,} ({o['withdrawn']:,} withdrawn); lead links: {links:,}; "
          f"{len(data['departments'])} departments; day {data['today']}")  # fmt: skip
    print(f"closed {o['closed']:,} (closure rate {o['closure_rate']:.2%}, on time {o['on_time_rate']:.2%}); "
          f"overdue {o['overdue']:,}; trend {len(data['trend'])} weeks; "
          f"overdue list {len(data['overdue'])} items; JSON {size:,} bytes")  # fmt: skip
    for name, times in (
        ("endpoint GET /api/v1/dashboard (server, TestClient)", endpoint_times),
        ("bare GROUP BY (sqlite3)", bare_times),
    ):
        print(
            f"{name}: best {min(times) * 1000:.1f} ms, median {statistics.median(times) * 1000:.1f} ms "
            f"of {len(times)} ({', '.join(f'{t * 1000:.0f}' for t in times)} ms)"
        )
    print(f"median ratio: {statistics.median(endpoint_times) / statistics.median(bare_times):.2f}")
    print(f"ratio: {min(endpoint_times) / min(bare_times):.2f}")


if __name__ == "__main__":
    sys.exit(main())
