"""Benchmark: ``GET /api/v1/items?limit=50`` under 20 concurrent clients vs the same page read in-process.

Usage (from the repository root)::

    python bench/api_load.py [--items 20000] [--requests 2000] [--clients 20] [--limit 50]

Setup (not timed): a SQLite file in a temporary directory, created with ``make_engine`` +
``upgrade`` and filled through the services: 8 departments with one member each, an office user,
one notice per 1,000 items, the items registered set-based with ``intake.create_items`` (lead
departments in turn, one in five with a cooperating department), one in ten assigned with
``service.assign``; an API token for the office user (``auth.create_token``).

Timed, in the same run:

* HTTP: the web app (``app.web.create_app`` on a ``bootstrap`` runtime over that file, the clock
  pinned to a day) served by uvicorn in a child process on 127.0.0.1 (one process, as deployed);
  an asyncio load generator in this process (one ``httpx.AsyncClient``, ``--clients`` connections
  and as many tasks) sends ``--warmup`` requests (not counted), then ``--requests`` requests for
  the first page of the office's ledger; each request's latency is measured.
* in-process: the endpoint's own reads without HTTP, token or JSON: ``queries.list_items(...,
  limit=50)`` and ``queries.count_items(...)`` on a session of this process, one after the other,
  ``--requests`` times after the same warm-up.

Every answer must be 200 with ``--limit`` items, the right total and the same ids as the
in-process page. The ratio is in-process calls/s ÷ HTTP requests/s (what HTTP, the token check,
validation and JSON cost on top of the reads, with the 20 clients sharing the machine). The last
two lines printed are ``requests_per_s: X`` and ``p95_ms: X`` (HTTP).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import uvicorn  # noqa: E402

import config  # noqa: E402
from app.web import create_app  # noqa: E402
from flows.runtime import bootstrap  # noqa: E402
from states import auth, intake, org, queries, service  # noqa: E402
from states.calendar import WorkingCalendar  # noqa: E402
from states.store import make_engine, session_factory, upgrade  # noqa: E402

DEPARTMENTS = ("医务科", "输血科", "感染管理科", "药剂科", "财务科", "人事科", "医患关系科", "物价科")
OFFICE = "office"
#: Setup happens on SETUP_AT; the server's clock (and the in-process reads) stand on TODAY.
SETUP_AT = dt.datetime(2026, 9, 15, 1, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 10, 20)
PER_NOTICE = 1_000
ASSIGN_EVERY = 10
START_TIMEOUT_S = 30


def populate(path: Path, env: service.Env, items: int) -> str:
    """Build the file (not timed); return the office user's API token."""
    engine = make_engine(str(path))
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions() as s:
        for name in DEPARTMENTS:
            org.add_department(s, None, name)
        org.add_user(s, None, username="admin", name="管理员", role="admin")
        admin = org.actor(s, "admin")
        org.add_user(s, admin, username=OFFICE, name="督查办", role="office")
        for n, name in enumerate(DEPARTMENTS):
            org.add_user(s, admin, username=f"d{n}", name=f"{name}科长", role="department", department=name)
        token = auth.create_token(s, admin, OFFICE, "bench", SETUP_AT).token
        office = org.actor(s, OFFICE)
    for first in range(0, items, PER_NOTICE):
        with sessions() as s:  # a fresh session per notice keeps the identity map small
            notice = intake.create_notice(s, env, office, SETUP_AT, title=f"基准测试通报 {first // PER_NOTICE + 1}",
                                          issuer="基准", received_on=SETUP_AT.date())  # fmt: skip
            specs = [
                intake.ItemSpec(
                    category="医疗方面", title=f"事项 {k}", lead_departments=[DEPARTMENTS[k % len(DEPARTMENTS)]],
                    cooperating_departments=[DEPARTMENTS[(k + 3) % len(DEPARTMENTS)]] if k % 5 == 0 else [],
                    measures_rule="workdays:10", completion_rule="workdays:25",
                )
                for k in range(first, min(first + PER_NOTICE, items))
            ]  # fmt: skip
            created = intake.create_items(s, env, notice.id, specs, office, SETUP_AT)
            ids = [i.id for i in created]
            s.expunge_all()
            for item_id in ids[::ASSIGN_EVERY]:
                service.assign(s, env, item_id, office, SETUP_AT)
    engine.dispose()
    return token


def serve(db: Path, work: Path) -> None:
    """Child process: the web app over ``db`` on a free port of 127.0.0.1; prints the port, serves until killed."""
    settings = replace(config.load(), database_url=str(db), evidence_dir=work / "evidence",
                       reports_dir=work / "reports")  # fmt: skip
    runtime = bootstrap(settings, today=TODAY)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    print(f"port {sock.getsockname()[1]}", flush=True)
    server = uvicorn.Server(uvicorn.Config(create_app(runtime), log_level="warning", access_log=False,
                                           lifespan="off"))  # fmt: skip
    server.run(sockets=[sock])


def start_server(db: Path, work: Path) -> tuple[subprocess.Popen[str], str]:
    """Start :func:`serve` in a child process; return it and its base URL once it answers."""
    child = subprocess.Popen([sys.executable, __file__, "--serve", str(db), "--work", str(work)],
                             stdout=subprocess.PIPE, text=True, env=os.environ.copy())  # fmt: skip
    assert child.stdout is not None
    line = child.stdout.readline().strip()
    if not line.startswith("port "):
        child.kill()
        raise RuntimeError(f"the server did not start: {line!r}")
    base = f"http://127.0.0.1:{line.split()[1]}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/api/openapi.json", timeout=2).status_code == 200:
                return child, base
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    child.kill()
    raise RuntimeError("the server did not answer within 30 s")


async def load(base: str, token: str, limit: int, clients: int, count: int,
               expected: dict[str, object]) -> tuple[list[float], list[str]]:  # fmt: skip
    """Send ``count`` requests with ``clients`` concurrent tasks; return latencies (s) and problems.

    Every answer must be 200 and equal ``expected`` (the same page, the same total).
    """
    latencies: list[float] = []
    problems: list[str] = []
    remaining = count
    pool = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, limits=pool,
                                 timeout=60) as client:  # fmt: skip

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                t0 = time.perf_counter()
                response = await client.get("/api/v1/items", params={"limit": limit})
                latencies.append(time.perf_counter() - t0)
                if response.status_code != 200:
                    problems.append(f"status {response.status_code}: {response.text[:200]}")
                elif response.json() != expected:
                    problems.append(f"a different page: {response.text[:200]}")

        await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies, problems


def http_page(base: str, token: str, limit: int) -> dict[str, object]:
    response = httpx.get(
        base + "/api/v1/items", params={"limit": limit}, headers={"Authorization": f"Bearer {token}"}
    )
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


def in_process(
    db: Path, calendar: WorkingCalendar, limit: int, warmup: int, count: int
) -> tuple[list[float], list[int], int]:
    """The endpoint's reads without HTTP, ``count`` times; return latencies (s), the page's ids and the total."""
    engine = make_engine(str(db))
    sessions = session_factory(engine)
    latencies = []
    with sessions() as s:
        office = org.actor(s, OFFICE)
        for n in range(warmup + count):
            t0 = time.perf_counter()
            rows = queries.list_items(s, calendar, office, TODAY, limit=limit, offset=0)
            total = queries.count_items(s, calendar, office, TODAY)
            if n >= warmup:
                latencies.append(time.perf_counter() - t0)
            s.expunge_all()  # each call loads its items afresh, as a new request's session does
    engine.dispose()
    return latencies, [r.id for r in rows], total


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` in milliseconds (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000, help="items in the file (default 20000)")
    parser.add_argument("--requests", type=int, default=2_000, help="timed requests (default 2000)")
    parser.add_argument(
        "--warmup", type=int, default=200, help="requests before the clock starts (default 200)"
    )
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    parser.add_argument("--limit", type=int, default=50, help="page size (default 50)")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.work)
        return 0
    calendar = WorkingCalendar.official()
    env = service.Env(calendar=calendar)
    with tempfile.TemporaryDirectory(prefix="rectiflow-bench-") as tmp:
        db = Path(tmp) / "api.sqlite"
        t0 = time.perf_counter()
        token = populate(db, env, args.items)
        print(f"setup: {args.items:,} items in {time.perf_counter() - t0:.1f} s", flush=True)
        child, base = start_server(db, Path(tmp))
        try:
            expected = http_page(base, token, args.limit)
            _, problems = asyncio.run(load(base, token, args.limit, args.clients, args.warmup, expected))
            t0 = time.perf_counter()
            latencies, timed_problems = asyncio.run(
                load(base, token, args.limit, args.clients, args.requests, expected)
            )
            problems += timed_problems
            http_s = time.perf_counter() - t0
        finally:
            child.terminate()
            child.wait(timeout=10)
        local, ids, total = in_process(db, calendar, args.limit, args.warmup, args.requests)
    shown = [i["id"] for i in expected["items"]]  # type: ignore[index, union-attr]
    if shown != ids or len(ids) != args.limit or expected["total"] != total or total != args.items:
        problems.append(
            f"HTTP page {shown[:3]}… total {expected['total']}, in-process {ids[:3]}… total {total}"
        )
    for line in problems[:5]:
        print(f"FAILED {line}")
    if problems or len(latencies) != args.requests:
        return 1
    rps = len(latencies) / http_s
    local_rps = len(local) / sum(local)
    print(f"page: first {args.limit} of {total:,} items (office, all visible); every answer checked")
    print(f"HTTP ({args.clients} clients, {len(latencies)} requests): {http_s:.2f} s, {rps:,.0f} requests/s, "
          f"p50 {pct(latencies, 0.5):.1f} ms, p95 {pct(latencies, 0.95):.1f} ms, "
          f"mean {statistics.fmean(latencies) * 1000:.1f} ms")  # fmt: skip
    print(f"in-process list_items + count_items ({len(local)} calls, one at a time): {local_rps:,.0f} calls/s, "
          f"p50 {pct(local, 0.5):.2f} ms, p95 {pct(local, 0.95):.2f} ms")  # fmt: skip
    print(f"ratio (in-process calls/s / HTTP requests/s): {local_rps / rps:.2f}")
    print(f"requests_per_s: {rps:.1f}")
    print(f"p95_ms: {pct(latencies, 0.95):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
