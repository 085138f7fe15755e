"""Dispatchers as separate processes against one outbox: a crash mid-batch loses nothing, and
concurrent dispatchers send every message exactly once."""

from __future__ import annotations

import collections
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from states.calendar import WorkingCalendar
from states.model import OutboxMessage
from states.service import Env
from states.store import make_engine, session_factory, upgrade
from tests.conftest import PG_SKIP, PG_URL, pg_schema
from tests.factories import build_org, item
from tests.servers import SmtpServer

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 9, 16, 1, 0, tzinfo=dt.UTC)  # 09:00 in Beijing, a working day


def fill_outbox(engine: Engine, sessions: object, env: object, n: int) -> None:
    """``n`` 交办通知, each to its own address (so each is one delivery)."""
    with sessions() as s:  # type: ignore[operator]
        it = item(s, env, build_org(s), NOW)  # type: ignore[arg-type]
        item_id = it.id
    rows = [{"key": f"{item_id}:assigned:t:{k}:email", "kind": "assigned", "item_id": item_id, "recipient_name": f"科员{k}",
             "channel": "email", "address": f"staff{k}@hospital.example.cn",
             "digest_key": f"email:staff{k}@hospital.example.cn:2026-09-16", "due_at": NOW, "status": "pending",
             "attempts": 0, "created_at": NOW} for k in range(n)]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(OutboxMessage), rows)


def worker(
    url: str, port: int, now: dt.datetime, batch: int = 50, concurrency: int = 1
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.dispatch_worker", url, str(port), now.isoformat(), str(batch), str(concurrency)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def recipients(server: SmtpServer) -> collections.Counter[str]:
    return collections.Counter(addr for e in server.handler.envelopes for addr in e.rcpt_tos)


def test_a_dispatcher_killed_mid_batch_loses_nothing(
    env: object, start_smtp: Callable[..., SmtpServer], tmp_path: Path
) -> None:
    engine = make_engine(f"{tmp_path}/crash.db")
    upgrade(engine)
    fill_outbox(engine, session_factory(engine), env, 30)
    server = start_smtp()
    server.handler.delay = 0.05  # a slow relay, so the kill lands mid-batch
    proc = worker(str(engine.url), server.port, NOW)
    deadline = time.monotonic() + 60
    while len(server.handler.envelopes) < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    delivered_before = len(server.handler.envelopes)
    assert 5 <= delivered_before < 30
    server.handler.delay = 0
    later = NOW + dt.timedelta(minutes=6)  # past the dead worker's lease
    rescue = worker(str(engine.url), server.port, later)
    assert rescue.wait(timeout=120) == 0, rescue.stderr.read() if rescue.stderr else ""
    got = recipients(server)
    assert set(got) == {f"staff{k}@hospital.example.cn" for k in range(30)}
    # only what finished in the last recording interval (RECORD_EVERY = one slow mail here) or was in flight can repeat
    assert sum(got.values()) - 30 <= 2
    with engine.connect() as conn:
        assert set(conn.execute(select(OutboxMessage.status)).scalars()) == {"sent"}
    engine.dispose()


@pytest.mark.postgres
def test_four_dispatchers_send_each_message_once(
    start_smtp: Callable[..., SmtpServer], tmp_path: Path
) -> None:
    if not PG_URL:
        pytest.skip(PG_SKIP)
    with pg_schema() as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            fill_outbox(engine, session_factory(engine), Env(calendar=WorkingCalendar.official()), 400)
            server = start_smtp()
            procs = [worker(url, server.port, NOW, batch=25, concurrency=4) for _ in range(4)]
            sent = []
            for p in procs:
                assert p.wait(timeout=300) == 0, p.stderr.read() if p.stderr else ""
                sent.append(int(p.stdout.read().strip() if p.stdout else 0))
            got = recipients(server)
            assert len(got) == 400 and set(got.values()) == {1}
            assert sum(sent) == 400 and sum(1 for n in sent if n) >= 2  # the work was shared
        finally:
            engine.dispose()
