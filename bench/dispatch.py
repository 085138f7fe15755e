"""Benchmark: the outbox dispatcher sending e-mail to a local SMTP server, vs bare ``aiosmtplib.send``.

Usage (from the repository root)::

    python bench/dispatch.py [--messages 5000] [--profile]

Setup (not timed): an aiosmtpd ``Controller`` on 127.0.0.1 (a free port) whose handler counts the
mails it receives; a SQLite file (``make_engine`` + ``upgrade``) with one department, a leader,
one notice and one item per 10 messages (assigned, measures target in the past), and the outbox
rows written directly with Core: one ``overdue`` message per row, each to a *different* address
(so every row is its own delivery, no digest grouping), due in the past, pending.

Timed, in the same run:

* dispatcher: ``Dispatcher.run(now)`` with ``EmailChannel(SmtpSettings(host=127.0.0.1, port, tls=none))``,
  the shipped templates, the official calendar and the shipped policy, at its default batch and
  concurrency: it claims the rows, checks they are still due, loads the item facts, renders,
  builds each mail, sends it (one SMTP connection per mail) and marks the rows sent.
* baseline: the same number of pre-built ``EmailMessage`` objects (built before the clock starts,
  from the same rendered content) sent with bare ``aiosmtplib.send`` at the same concurrency.

The server must receive exactly the expected number of mails in each part and every outbox row
must end ``sent``. The last line printed is ``messages_per_s: X`` (the dispatcher); the goal is
at least 200.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import io
import pstats
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiosmtplib  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import Engine, func, insert, select  # noqa: E402

import config  # noqa: E402
from notifications.channels import EmailChannel  # noqa: E402
from notifications.dispatch import Dispatcher  # noqa: E402
from notifications.message import OutgoingMessage  # noqa: E402
from notifications.render import Renderer  # noqa: E402
from notifications.settings import SmtpSettings  # noqa: E402
from states.calendar import WorkingCalendar  # noqa: E402
from states.escalation import Policy  # noqa: E402
from states.model import Department, Item, ItemDepartment, Notice, OutboxMessage, User  # noqa: E402
from states.store import make_engine, upgrade  # noqa: E402

#: The dispatcher runs at 09:05 on a working day (Asia/Shanghai); the rows were queued at 08:30.
NOW = dt.datetime(2026, 9, 15, 1, 5, tzinfo=dt.UTC)
QUEUED_AT = dt.datetime(2026, 9, 15, 0, 30, tzinfo=dt.UTC)
SEND_AT = dt.datetime(2026, 9, 15, 1, 0, tzinfo=dt.UTC)
MEASURES_DUE = dt.date(2026, 9, 10)
MESSAGES_PER_ITEM = 10
DEPARTMENT = "医务科"


class Counter:
    """aiosmtpd handler: counts the mails (and recipients) it accepts."""

    def __init__(self) -> None:
        self.mails = 0
        self.recipients = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd hook)
        with self._lock:
            self.mails += 1
            self.recipients += len(envelope.rcpt_tos)
        return "250 Message accepted for delivery"

    def reset(self) -> None:
        with self._lock:
            self.mails = self.recipients = 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def populate(engine: Engine, messages: int) -> None:
    """Organisation, items and ``messages`` pending outbox rows, one per address (not timed)."""
    upgrade(engine)
    items = -(-messages // MESSAGES_PER_ITEM)
    day = SEND_AT.date().isoformat()
    with engine.begin() as conn:
        dept = conn.execute(insert(Department).values(name=DEPARTMENT).returning(Department.id)).scalar_one()
        leader = conn.execute(insert(User).values(username="fyz", name="王副院长", role="leader",
                                                  email="fyz@h.example.cn").returning(User.id)).scalar_one()  # fmt: skip
        notice = conn.execute(insert(Notice).values(title="2026年第三季度医疗质量督查通报", issuer="市卫健委",
                                                    doc_number="督〔2026〕9号", received_on=dt.date(2026, 8, 20),
                                                    created_at=QUEUED_AT).returning(Notice.id)).scalar_one()  # fmt: skip
        conn.execute(insert(Item), [
            {"id": i, "notice_id": notice, "seq": i, "category": "医疗质量", "title": f"第{i}项：术前讨论记录不完整",
             "lead_leader_id": leader, "state": "assigned", "version": 2, "start_on": dt.date(2026, 8, 20),
             "measures_rule": "workdays:14", "measures_due": MEASURES_DUE, "completion_rule": "workdays:40",
             "completion_due": dt.date(2026, 10, 30), "provisional": False, "created_at": QUEUED_AT,
             "updated_at": QUEUED_AT}
            for i in range(1, items + 1)
        ])  # fmt: skip
        conn.execute(insert(ItemDepartment), [{"item_id": i, "department_id": dept, "role": "lead"}
                                              for i in range(1, items + 1)])  # fmt: skip
        rows = []
        for k in range(1, messages + 1):
            item_id, address = (k - 1) // MESSAGES_PER_ITEM + 1, f"user{k:05d}@h.example.cn"
            rows.append({
                "key": f"{item_id}:measures_due:overdue:{MEASURES_DUE}:u{k}:email", "kind": "overdue",
                "item_id": item_id, "target": "measures_due", "due": MEASURES_DUE, "recipient_id": None,
                "recipient_name": f"收件人{k}（{DEPARTMENT}）", "channel": "email", "address": address,
                "digest_key": f"email:{address}:{day}", "due_at": SEND_AT, "status": "pending", "attempts": 0,
                "data": None, "created_at": QUEUED_AT,
            })  # fmt: skip
        conn.execute(insert(OutboxMessage), rows)


def statuses(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        q = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        return {status: n for status, n in conn.execute(q).tuples()}


def prebuilt(channel: EmailChannel, renderer: Renderer, messages: int) -> list[Any]:
    """``messages`` mails with the dispatcher's content (a rendered overdue message), built untimed."""
    context = {
        "item_id": 1, "notice_title": "2026年第三季度医疗质量督查通报", "doc_number": "督〔2026〕9号",
        "category": "医疗质量", "title": "第1项：术前讨论记录不完整", "lead_departments": [DEPARTMENT],
        "lead_leader": "王副院长", "target": "measures_due", "target_label": "整改措施",
        "due": MEASURES_DUE.isoformat(), "overdue_workdays": 3, "level": "overdue", "reason": None,
        "approved": None, "new_due": None, "today": NOW.date().isoformat(),
    }  # fmt: skip
    out = []
    for k in range(1, messages + 1):
        body = renderer.render("overdue", context | {"recipient_name": f"收件人{k}（{DEPARTMENT}）"})
        message = OutgoingMessage(key=f"baseline:{k}", to_name=f"收件人{k}（{DEPARTMENT}）",
                                  to_address=f"user{k:05d}@h.example.cn", subject=body.subject, text=body.text,
                                  html=body.html)  # fmt: skip
        out.append(channel.build(message))
    return out


async def send_bare(mails: list[Any], port: int, concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(mail: Any) -> None:
        async with gate:
            await aiosmtplib.send(mail, hostname="127.0.0.1", port=port, timeout=10)

    await asyncio.gather(*(one(m) for m in mails))


def run_dispatcher(dispatcher: Dispatcher, profile: bool) -> tuple[float, Any, str]:
    profiler = cProfile.Profile() if profile else None
    t0 = time.perf_counter()
    if profiler:
        profiler.enable()
    result = dispatcher.run(NOW)
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - t0
    report = ""
    if profiler:
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).sort_stats("tottime").print_stats(25)
        report = buf.getvalue()
    return elapsed, result, report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--messages", type=int, default=5_000, help="outbox rows, one per address (default 5000)"
    )
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the dispatcher run")
    args = parser.parse_args()
    settings = config.load()
    policy: Policy = config.load_policy(settings)
    renderer = Renderer(settings.config_dir / "templates" / "messages")
    calendar = WorkingCalendar.official()
    handler, port = Counter(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory(prefix="rectiflow-bench-") as tmp:
            engine = make_engine(str(Path(tmp) / "dispatch.sqlite"))
            populate(engine, args.messages)
            channel = EmailChannel(SmtpSettings(host="127.0.0.1", port=port, tls="none"))
            dispatcher = Dispatcher(engine, {"email": lambda _a: channel}, renderer, calendar, policy)
            mails = prebuilt(channel, renderer, args.messages)
            asyncio.run(send_bare(mails[:20], port, dispatcher.concurrency))  # warm up the server, untimed
            handler.reset()

            dispatch_s, result, report = run_dispatcher(dispatcher, args.profile)
            got_dispatch, done = handler.mails, statuses(engine)
            engine.dispose()

            handler.reset()
            t0 = time.perf_counter()
            asyncio.run(send_bare(mails, port, dispatcher.concurrency))
            bare_s = time.perf_counter() - t0
            got_bare = handler.mails
    finally:
        controller.stop()
    errors = []
    if got_dispatch != args.messages or result.deliveries != args.messages:
        errors.append(f"dispatcher: server got {got_dispatch} mails, {result.deliveries} deliveries; "
                      f"expected {args.messages} ({result.errors[:2]})")  # fmt: skip
    if done != {"sent": args.messages}:
        errors.append(f"outbox statuses after the run: {done}, expected all {args.messages} sent")
    if got_bare != args.messages:
        errors.append(f"baseline: server got {got_bare} mails, expected {args.messages}")
    for line in errors:
        print(f"FAILED {line}")
    if errors:
        return 1
    if report:
        print(report)
    rate, bare_rate = args.messages / dispatch_s, args.messages / bare_s
    print(f"messages: {args.messages} outbox rows, {result.deliveries} deliveries (one per address), "
          f"all sent; server received {got_dispatch}")  # fmt: skip
    print(f"concurrency: {dispatcher.concurrency}, batch: {dispatcher.batch}")
    print(f"dispatcher (claim, check, render, SMTP, record): {dispatch_s:.2f} s, {rate:,.0f} messages/s")
    print(f"baseline (pre-built mails, bare aiosmtplib.send): {bare_s:.2f} s, {bare_rate:,.0f} messages/s")
    print(f"dispatcher / baseline time: {dispatch_s / bare_s:.2f}")
    print(f"messages_per_s: {rate:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
