"""Benchmark: item lifecycle transitions through the service functions vs raw ``sqlite3``.

Usage (from the repository root)::

    python bench/lifecycle.py [--items 10000] [--count-sql]

Setup (not timed): two SQLite files in a temporary directory, each created with
``make_engine`` + ``upgrade`` and filled the same way through the services (an organisation,
one notice, N issued items with their ``create`` events).

Timed, in the same run:

* engine: every item goes issued → assigned → measures_filed → verified → closed through
  ``service.assign`` / ``file_measures`` / ``verify`` / ``close``; each call is its own
  transaction (the services commit), writing the item and its event.
* raw: the stdlib ``sqlite3`` module on the second file, with the engine's connection pragmas,
  does the same 4 transitions per item, each as ``BEGIN; UPDATE items ... WHERE id=? AND
  version=?; INSERT INTO item_events ...; COMMIT`` with the same values the services write.

Both files must end identical (items and events) with every item closed. The last line printed
is ``ratio: X`` (engine time / raw time); the goal is at most 3.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, event  # noqa: E402

from states import intake, org, service  # noqa: E402
from states.calendar import WorkingCalendar  # noqa: E402
from states.store import _sqlite_pragmas, make_engine, session_factory, upgrade  # noqa: E402

DEPARTMENT = "医务科"
OFFICE, MEMBER = "office", "ywk"
MEASURES = "已落实整改：修订制度并组织全员培训"
#: setup happens at SETUP_AT; the timed transitions start at RUN_AT, one second apart.
SETUP_AT = dt.datetime(2026, 9, 15, 1, 0, tzinfo=dt.UTC)
RUN_AT = dt.datetime(2026, 9, 16, 1, 0, tzinfo=dt.UTC)
ONE_SECOND = dt.timedelta(seconds=1)
#: (action, from_state, to_state, who): the route every item takes.
ROUTE = (
    ("assign", "issued", "assigned", OFFICE),
    ("file_measures", "assigned", "measures_filed", MEMBER),
    ("verify", "measures_filed", "verified", OFFICE),
    ("close", "verified", "closed", OFFICE),
)
#: The long-lived session is emptied every this many items (see engine_run).
EXPUNGE_EVERY = 100


def clock(start: dt.datetime) -> Iterator[dt.datetime]:
    """An explicit fake clock: aware UTC times, one second apart."""
    now = start
    while True:
        yield now
        now += ONE_SECOND


def populate(path: Path, env: service.Env, items: int, batch: int) -> None:
    """Create the schema, the organisation, one notice and ``items`` issued items (not timed)."""
    engine = make_engine(str(path))
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions() as s:
        org.add_department(s, None, DEPARTMENT)
        org.add_user(s, None, username="admin", name="管理员", role="admin")
        admin = org.actor(s, "admin")
        org.add_user(s, admin, username=OFFICE, name="督查办", role="office")
        org.add_user(s, admin, username=MEMBER, name="医务科科长", role="department", department=DEPARTMENT)
        office = org.actor(s, OFFICE)
        notice = intake.create_notice(
            s, env, office, SETUP_AT, title="基准测试通报", issuer="基准", received_on=SETUP_AT.date()
        )
        notice_id = notice.id
    for first in range(0, items, batch):
        specs = [
            intake.ItemSpec(
                category="医疗方面",
                title=f"事项 {k}",
                lead_departments=[DEPARTMENT],
                measures_rule="workdays:10",
                completion_rule="workdays:25",
            )
            for k in range(first + 1, min(first + batch, items) + 1)
        ]
        with sessions() as s:  # a fresh session per batch keeps the identity map small
            intake.create_items(s, env, notice_id, specs, org.actor(s, OFFICE), SETUP_AT)
    engine.dispose()


def item_versions(path: Path) -> dict[int, int]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT id, version FROM items ORDER BY id"))


def count_statements(engine: Engine) -> collections.Counter[str]:
    """Count the SQL statements the engine sends (first word: SELECT, UPDATE, ...)."""
    counts: collections.Counter[str] = collections.Counter()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        counts[statement.split(None, 1)[0].upper()] += 1

    event.listen(engine, "before_cursor_execute", before)
    return counts


def engine_run(path: Path, env: service.Env, ids: list[int], count_sql: bool) -> tuple[float, dict[str, int]]:
    """Run every item through the route with the service functions; return (seconds, SQL counts)."""
    engine = make_engine(str(path))
    sessions = session_factory(engine)
    counts: dict[str, int] = {}
    with sessions() as s:
        office, member = org.actor(s, OFFICE), org.actor(s, MEMBER)
        s.commit()  # connected and pragmas set before the clock starts, as on the raw side
        s.expunge_all()
        if count_sql:
            counts = count_statements(engine)
        times = clock(RUN_AT)
        t0 = time.perf_counter()
        for n, item_id in enumerate(ids, start=1):
            service.assign(s, env, item_id, office, next(times))
            service.file_measures(s, env, item_id, member, next(times), measures=MEASURES)
            service.verify(s, env, item_id, office, next(times))
            service.close(s, env, item_id, office, next(times))
            # One Session for the whole loop, as a long-running worker would use it. Its identity
            # map holds objects weakly and this loop keeps no reference to them, so it does not
            # grow (measured: empty after each item) and every transition loads its item afresh, as
            # an independent request would. Emptying it every EXPUNGE_EVERY items keeps it bounded
            # even if something (a listener, a relationship) starts holding objects.
            if n % EXPUNGE_EVERY == 0:
                s.expunge_all()
        elapsed = time.perf_counter() - t0
    engine.dispose()
    return elapsed, dict(counts)


UPDATE = {
    "assign": "UPDATE items SET state=?, version=version+1, updated_at=? WHERE id=? AND version=?",
    "file_measures": "UPDATE items SET state=?, version=version+1, updated_at=?, measures=?, "
    "measures_filed_on=? WHERE id=? AND version=?",
    "verify": "UPDATE items SET state=?, version=version+1, updated_at=? WHERE id=? AND version=?",
    "close": "UPDATE items SET state=?, version=version+1, updated_at=?, closed_on=? WHERE id=? AND version=?",
}
INSERT_EVENT = (
    "INSERT INTO item_events (item_id, actor_id, at, action, from_state, to_state, reason, data) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
#: What the engine's JSON column stores for ``data=None`` (a JSON null, not SQL NULL).
JSON_NULL = json.dumps(None)


def utc_text(now: dt.datetime) -> str:
    """An aware time as the engine stores it (naive UTC, SQLAlchemy's SQLite DateTime format)."""
    return now.astimezone(dt.UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def raw_params(
    action: str, item_id: int, version: int, new: str, now: dt.datetime, env: service.Env
) -> tuple[tuple[Any, ...], str]:
    """(UPDATE parameters, event data) of one transition: the values the service writes."""
    at = utc_text(now)
    if action == "file_measures":
        data = json.dumps({"measures": MEASURES, "evidence": []})
        return (new, at, MEASURES.strip(), env.local_date(now).isoformat(), item_id, version), data
    if action == "close":
        return (new, at, env.local_date(now).isoformat(), item_id, version), JSON_NULL
    return (new, at, item_id, version), JSON_NULL


def raw_run(path: Path, env: service.Env, ids: list[int]) -> float:
    """The same transitions with stdlib sqlite3: BEGIN; UPDATE; INSERT; COMMIT per transition."""
    versions = item_versions(path)
    conn = sqlite3.connect(path, isolation_level=None)  # explicit BEGIN/COMMIT below
    _sqlite_pragmas(conn, None)  # the engine's own connect hook: WAL, busy_timeout, foreign_keys
    actors = dict(conn.execute("SELECT username, id FROM users"))
    times = clock(RUN_AT)
    t0 = time.perf_counter()
    for item_id in ids:
        version = versions[item_id]
        for action, old, new, who in ROUTE:
            now = next(times)
            params, data = raw_params(action, item_id, version, new, now, env)
            conn.execute("BEGIN")
            if conn.execute(UPDATE[action], params).rowcount != 1:
                conn.execute("ROLLBACK")
                raise RuntimeError(f"raw: item {item_id} changed under us ({action})")
            conn.execute(INSERT_EVENT, (item_id, actors[who], utc_text(now), action, old, new, None, data))
            conn.execute("COMMIT")
            version += 1
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed


def snapshot(path: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(items, events) of a database, for checking and comparing."""
    with sqlite3.connect(path) as conn:
        items = conn.execute(
            "SELECT id, state, version, measures, measures_filed_on, closed_on, updated_at FROM items ORDER BY id"
        ).fetchall()
        events = conn.execute(
            "SELECT item_id, actor_id, at, action, from_state, to_state, reason, data FROM item_events "
            "ORDER BY id"
        ).fetchall()
    return items, events


def problems(name: str, items: list[tuple[Any, ...]], events: list[tuple[Any, ...]], n: int) -> list[str]:
    """What is wrong with one database after the run (empty when all is well)."""
    out = []
    if len(items) != n:
        out.append(f"{name}: {len(items)} items, expected {n}")
    open_items = [row[0] for row in items if row[1] != "closed"]
    if open_items:
        out.append(f"{name}: {len(open_items)} items not closed, e.g. {open_items[:5]}")
    per_item = collections.Counter(e[0] for e in events if e[3] != "create")
    wrong = [i for i, *_ in items if per_item[i] != len(ROUTE)]
    if wrong:
        out.append(
            f"{name}: {len(wrong)} items without exactly {len(ROUTE)} transition events, e.g. {wrong[:5]}"
        )
    creates = sum(1 for e in events if e[3] == "create")
    if creates != n:
        out.append(f"{name}: {creates} create events, expected {n}")
    return out


def check(engine_db: Path, raw_db: Path, n: int) -> list[str]:
    """Both databases: every item closed with its events, and the two identical."""
    mine, raw = snapshot(engine_db), snapshot(raw_db)
    out = problems("engine", *mine, n) + problems("raw", *raw, n)
    for what, a, b in (("items", mine[0], raw[0]), ("events", mine[1], raw[1])):
        diff = [(x, y) for x, y in zip(a, b, strict=False) if x != y]
        if diff or len(a) != len(b):
            out.append(f"{what} differ between engine and raw ({len(diff)} rows), e.g. {diff[:1]}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000, help="number of items (default 10000)")
    parser.add_argument("--batch", type=int, default=1_000, help="items per create_items call in setup")
    parser.add_argument(
        "--count-sql", action="store_true", help="count the engine's SQL statements (adds listener overhead)"
    )
    args = parser.parse_args()
    env = service.Env(calendar=WorkingCalendar.official())
    with tempfile.TemporaryDirectory(prefix="rectiflow-bench-") as tmp:
        engine_db, raw_db = Path(tmp) / "engine.sqlite", Path(tmp) / "raw.sqlite"
        for path in (engine_db, raw_db):
            populate(path, env, args.items, args.batch)
        ids = sorted(item_versions(engine_db))
        engine_s, counts = engine_run(engine_db, env, ids, args.count_sql)
        raw_s = raw_run(raw_db, env, ids)
        errors = check(engine_db, raw_db, args.items)
    for line in errors:
        print(f"FAILED {line}")
    if errors:
        return 1
    transitions = len(ids) * len(ROUTE)
    print(f"items: {len(ids)}")
    print(f"transitions: {transitions} ({len(ROUTE)} per item, one transaction each); both databases agree")
    if counts:
        per = ", ".join(f"{k} {v / transitions:.2f}" for k, v in sorted(counts.items()))
        print(f"engine SQL statements per transition: {sum(counts.values()) / transitions:.2f} ({per})")
    print(f"engine (service functions): {engine_s:.2f} s, {transitions / engine_s:,.0f} transitions/s")
    print(f"raw sqlite3 (UPDATE + INSERT): {raw_s:.2f} s, {transitions / raw_s:,.0f} transitions/s")
    print(f"ratio: {engine_s / raw_s:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
