"""Escalation end to end: scan → outbox → dispatcher → a real SMTP server on 127.0.0.1.

The clock is injected: each simulated day runs the 08:30 scan and the 09:00 dispatch twice.
"""

from __future__ import annotations

import collections
import datetime as dt
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

import config
from notifications.channels import EmailChannel
from notifications.dispatch import Dispatcher, requeue
from notifications.render import Renderer
from notifications.settings import SmtpSettings
from states import extensions, intake, service
from states.escalation import Policy, fan_out, scan
from states.model import Escalation, OutboxMessage, User
from states.service import Env
from tests.factories import Org, build_org, item_spec, notice
from tests.servers import SmtpServer, free_port

RECEIVED = dt.date(2026, 9, 15)


@pytest.fixture
def policy(env: Env) -> Policy:
    base = config.load_policy(config.load(environ={}))
    return replace(base, delivery=replace(base.delivery, channels=("email",), top_leaders=("yz",), tz=env.tz))


@pytest.fixture
def notifying_env(env: Env, policy: Policy) -> Env:
    return replace(env, delivery=policy.delivery)


def dispatcher(engine: Engine, env: Env, policy: Policy, port: int, **kw: object) -> Dispatcher:
    channel = EmailChannel(SmtpSettings(host="127.0.0.1", port=port, timeout=5))
    renderer = Renderer(config.CONFIG_DIR / "templates" / "messages")
    return Dispatcher(engine, {"email": lambda _address: channel}, renderer, env.calendar, policy, **kw)  # type: ignore[arg-type]


def at(env: Env, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=env.tz).astimezone(dt.UTC)


def morning(engine: Engine, env: Env, policy: Policy, d: Dispatcher, day: dt.date) -> None:
    """The 08:30 scan and the 09:00 dispatch, each run twice as two schedulers would."""
    for _ in range(2):
        with engine.begin() as conn:
            scan(conn, policy, env.calendar, day, at(env, day, 8, 30))
    for _ in range(2):
        d.run(at(env, day, 9))


def sent_by_recipient(session: Session) -> dict[str, list[str]]:
    rows = session.execute(
        select(User.username, OutboxMessage.kind).join(User, User.id == OutboxMessage.recipient_id)
        .where(OutboxMessage.status == "sent").order_by(User.username, OutboxMessage.id)
    ).all()  # fmt: skip
    out: dict[str, list[str]] = collections.defaultdict(list)
    for username, kind in rows:
        out[username].append(kind)
    return dict(out)


def test_thirty_working_days_of_escalation(
    engine: Engine, sessions: sessionmaker[Session], notifying_env: Env, policy: Policy, smtp: SmtpServer
) -> None:
    env = notifying_env
    d = dispatcher(engine, env, policy, smtp.port)
    with sessions() as s:
        o: Org = build_org(s)
        nid = notice(s, env, o, at(env, RECEIVED, 9), RECEIVED)
        a, b = intake.create_items(s, env, nid, [item_spec(title="按期整改", leader="fyz"),
                                                 item_spec(title="一直未办", leader="fyz")], o.office, at(env, RECEIVED, 9))  # fmt: skip
    assert b.measures_due == dt.date(2026, 9, 29)
    mails_per_day: dict[dt.date, int] = {}
    day = RECEIVED
    while day <= dt.date(2026, 10, 31):
        before = len(smtp.handler.envelopes)
        morning(engine, env, policy, d, day)
        mails_per_day[day] = len(smtp.handler.envelopes) - before
        with sessions() as s:
            if day == RECEIVED:
                for it in (a, b):
                    service.assign(s, env, it.id, o.office, at(env, day, 10))
            if day == dt.date(2026, 9, 18):
                service.file_measures(
                    s, env, a.id, o.medical, at(env, day, 14), measures="已组织输血申请单专项检查"
                )
            if day == dt.date(2026, 9, 21):
                service.verify(s, env, a.id, o.office, at(env, day, 10))
                service.close(s, env, a.id, o.office, at(env, day, 11))
        day += dt.timedelta(days=1)

    rest_days_with_mail = [x for x, n in mails_per_day.items() if n and not env.calendar.is_workday(x)]
    assert rest_days_with_mail == []
    with sessions() as s:
        assert sent_by_recipient(s) == {
            "ywk": ["assigned", "assigned", "closed", "reminder", "due_today", "overdue", "supervision"],
            "fyz": ["overdue", "supervision"],
            "jxb": ["supervision", "talk"],
            "yz": ["talk"],
        }
        reminder_day = s.scalar(select(OutboxMessage.due_at).where(OutboxMessage.kind == "reminder"))
        digests = s.scalar(
            select(func.count(func.distinct(OutboxMessage.digest_key))).where(OutboxMessage.status == "sent")
        )
        assert s.scalar(select(func.count()).where(OutboxMessage.status != "sent")) == 0
    assert reminder_day is not None and env.local_date(reminder_day) < b.measures_due  # before, not after
    # one mail per recipient and day: ywk's two 交办通知 of 09-15 arrive as one digest on 09-16
    assert len(smtp.handler.envelopes) == digests == 11  # ywk 6 (the two 交办 together), fyz 2, jxb 2, yz 1
    digest = next(m for m in smtp.handler.received() if "（2项）" in m["Subject"])
    assert "赵立新" in str(digest["To"]) and "按期整改" in digest.get_body(("plain",)).get_content()


def test_extension_restarts_the_ladder_and_done_items_leave_the_scan(
    engine: Engine, sessions: sessionmaker[Session], notifying_env: Env, policy: Policy, smtp: SmtpServer
) -> None:
    env = notifying_env
    d = dispatcher(engine, env, policy, smtp.port)
    with sessions() as s:
        o = build_org(s)
        nid = notice(s, env, o, at(env, RECEIVED, 9), RECEIVED)
        it, done = intake.create_items(s, env, nid, [item_spec(completion=None), item_spec(title="已撤销", completion=None)],
                                       o.office, at(env, RECEIVED, 9))  # fmt: skip
        service.withdraw(s, env, done.id, o.office, at(env, RECEIVED, 9), reason="重复登记")
        day = dt.date(2026, 9, 24)  # two working days before 09-29
        with engine.begin() as conn:
            queued = scan(conn, policy, env.calendar, day, at(env, day, 8, 30))
        assert queued.queued["reminder"] == 1  # the withdrawn item is not scanned
        ext = extensions.request_extension(s, env, it.id, o.medical, at(env, day, 8, 40), target="measures_due",
                                           new_due=dt.date(2026, 10, 20), reason="需采购设备")  # fmt: skip
        extensions.decide_extension(s, env, ext.id, o.leader, at(env, day, 8, 50), approve=True)
    result = d.run(at(env, day, 9))
    assert result.cancelled == 1  # the reminder for 09-29 is no longer true
    with sessions() as s:
        kinds = s.execute(select(OutboxMessage.kind, OutboxMessage.status).order_by(OutboxMessage.id)).all()
    assert ("reminder", "cancelled") in kinds
    later = dt.date(2026, 10, 16)  # two working days before the new date
    with engine.begin() as conn:
        assert scan(conn, policy, env.calendar, later, at(env, later, 8, 30)).queued["reminder"] == 1


def test_mail_server_down_then_back_and_dead_letters(
    engine: Engine,
    sessions: sessionmaker[Session],
    notifying_env: Env,
    policy: Policy,
    start_smtp: Callable[..., SmtpServer],
) -> None:
    env, port = notifying_env, free_port()
    policy = replace(policy, max_attempts=3)
    with sessions() as s:
        o = build_org(s)
        nid = notice(s, env, o, at(env, RECEIVED, 9), RECEIVED)
        its = intake.create_items(s, env, nid, [item_spec(title=f"事项{k}") for k in range(3)], o.office,
                                  at(env, RECEIVED, 9))  # fmt: skip
        ids = [it.id for it in its]
        for item_id in ids:
            service.assign(s, env, item_id, o.office, at(env, RECEIVED, 10))
    d = dispatcher(engine, env, policy, port, base_backoff=dt.timedelta(minutes=10))
    t = at(env, dt.date(2026, 9, 16), 9)
    down = d.run(t)
    assert (down.sent, down.retried) == (0, 3)
    server = start_smtp(port=port)
    assert d.run(t + dt.timedelta(minutes=5)).claimed == 0  # backoff: not yet
    back = d.run(t + dt.timedelta(minutes=11))
    assert (back.sent, back.deliveries) == (3, 1) and len(server.handler.envelopes) == 1
    # a second batch meets a server that refuses for good after three attempts
    with sessions() as s:
        service.file_measures(s, env, ids[0], o.medical, at(env, dt.date(2026, 9, 16), 10), measures="已整改")
        service.reject(s, env, ids[0], o.office, at(env, dt.date(2026, 9, 16), 11), reason="佐证材料不全")
    server.handler.data_reply = "451 try again later"
    now = at(env, dt.date(2026, 9, 17), 9)
    for minutes in (0, 11, 40, 90):
        d.run(now + dt.timedelta(minutes=minutes))
    with sessions() as s:
        dead = s.scalars(select(OutboxMessage.id).where(OutboxMessage.status == "dead")).all()
        assert (
            len(dead) == 1
            and s.scalar(select(OutboxMessage.attempts).where(OutboxMessage.id == dead[0])) == 3
        )
    server.handler.data_reply = None
    assert requeue(engine, dead, now + dt.timedelta(hours=2)) == 1
    assert d.run(now + dt.timedelta(hours=2)).sent == 1
    assert "退回" in server.handler.received()[-1]["Subject"]


def test_a_scan_that_died_before_its_fan_out_loses_nothing(
    engine: Engine, sessions: sessionmaker[Session], notifying_env: Env, policy: Policy, smtp: SmtpServer
) -> None:
    """The scan commits its escalations, the process dies before the fan-out: the next dispatch
    pass writes the messages and sends them, and nothing is written twice afterwards."""
    env = notifying_env
    with sessions() as s:
        o = build_org(s)
        nid = notice(s, env, o, at(env, RECEIVED, 9), RECEIVED)
        (it,) = intake.create_items(s, env, nid, [item_spec(leader="fyz")], o.office, at(env, RECEIVED, 9))
        service.assign(s, env, it.id, o.office, at(env, RECEIVED, 10))
        due = it.measures_due
    assert due is not None
    day = env.calendar.add_workdays(due, 10).date  # 10 working days late: 约谈
    with engine.begin() as conn:
        recorded = scan(conn, policy, env.calendar, day, at(env, day, 8, 30))
    assert recorded.queued["talk"] == 1
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Escalation).where(Escalation.fanout.is_(None))) == 1
        assert s.scalar(select(func.count()).where(OutboxMessage.kind == "talk")) == 0
    d = dispatcher(engine, env, policy, smtp.port)
    d.run(at(env, day, 9))
    d.run(at(env, day, 9))
    with sessions() as s:
        assert sent_by_recipient(s) == {"jxb": ["talk"], "yz": ["talk"], "ywk": ["assigned"]}
        assert s.scalar(select(func.count()).select_from(Escalation).where(Escalation.fanout.is_(None))) == 0
    subjects = sorted(str(m["Subject"]) for m in smtp.handler.received() if "约谈" in str(m["Subject"]))
    assert len(subjects) == 2


def test_concurrent_fan_outs_write_each_message_once(
    engine: Engine, sessions: sessionmaker[Session], notifying_env: Env, policy: Policy
) -> None:
    """Four fan-outs at once (four dispatchers after one scan): every escalation is claimed by
    one of them and every message is written once."""
    env = notifying_env
    with sessions() as s:
        o = build_org(s)
        nid = notice(s, env, o, at(env, RECEIVED, 9), RECEIVED)
        items = intake.create_items(s, env, nid, [item_spec(title=f"事项{k}", leader="fyz") for k in range(40)],
                                    o.office, at(env, RECEIVED, 9))  # fmt: skip
        for it in items:
            service.assign(s, env, it.id, o.office, at(env, RECEIVED, 10))
        due = items[0].measures_due
    assert due is not None
    day = env.calendar.add_workdays(due, 10).date
    with engine.begin() as conn:
        assert scan(conn, policy, env.calendar, day, at(env, day, 8, 30)).queued["talk"] == 40
    barrier = threading.Barrier(4)

    def one() -> dict[str, int]:
        barrier.wait()
        with engine.begin() as conn:
            return fan_out(conn, policy, at(env, day, 8, 31))

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: one(), range(4)))
    with sessions() as s:
        keys = s.scalars(select(OutboxMessage.key).where(OutboxMessage.kind == "talk")).all()
    assert sum(r.get("talk", 0) for r in results) == len(keys) == len(set(keys)) == 80  # jxb and yz per item
    assert sorted(bool(r) for r in results) == [False, False, False, True]  # one claimed all 40 escalations
