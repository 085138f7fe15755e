"""The dispatcher: claim due outbox rows, group them into one delivery per recipient, channel and
day (the daily digest), render, send, and record the outcome.

Each pass first runs the fan-out (:func:`states.escalation.fan_out`): escalations a scan recorded
whose messages are not written yet (the scan job died between its two transactions) get them now.

Claims are one statement: ``UPDATE outbox SET status='sending', attempts=attempts+1,
lease_until=… WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING …`` on PostgreSQL; SQLite
has one writer, so the same statement is atomic there. The attempt is counted before sending.

Concurrency: any number of dispatchers may run at once (processes, machines, a scheduler and a
Prefect worker): each row is claimed by one of them. A dispatcher that dies after claiming
leaves rows in ``sending``; they are claimed again when their lease ends.

Delivery is at least once: the one window for a duplicate is a crash after the channel accepted
a message and before the row was marked ``sent``; the retried mail then carries the same
Message-ID (derived from the rows' keys), so a mail client can fold it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, Row, and_, or_, select, update

from notifications.message import Channel, DeliveryError, OutgoingMessage
from notifications.render import Rendered, Renderer
from states.calendar import WorkingCalendar
from states.escalation import LEVEL_KINDS, Policy, fan_out
from states.lifecycle import OPEN_STATES
from states.model import Department, Item, ItemDepartment, Notice, OutboxMessage, User
from states.outbox import send_slot
from states.queries import pending

logger = logging.getLogger(__name__)

TARGET_LABELS = {"measures_due": "整改措施", "completion_due": "整改完成"}
MAX_BACKOFF = dt.timedelta(hours=4)
#: Seconds between commits of finished deliveries (the duplicate window of a crash).
RECORD_EVERY = 0.05
_COLUMNS = (OutboxMessage.id, OutboxMessage.key, OutboxMessage.kind, OutboxMessage.item_id, OutboxMessage.target,
            OutboxMessage.due, OutboxMessage.recipient_name, OutboxMessage.channel, OutboxMessage.address,
            OutboxMessage.digest_key, OutboxMessage.attempts, OutboxMessage.data, OutboxMessage.due_at)  # fmt: skip


@dataclass(slots=True, kw_only=True)
class DispatchResult:
    """What one dispatch pass did (counts of outbox rows, and of deliveries made)."""

    claimed: int = 0
    sent: int = 0
    deliveries: int = 0
    retried: int = 0
    dead: int = 0
    cancelled: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Outcome:
    ids: tuple[int, ...]
    error: DeliveryError | None


class Dispatcher:
    """Sends what is due from the outbox through the configured channels.

    Args:
        engine: the store.
        channels: channel name → a function giving the channel for an address (a webhook has one
            robot per department; e-mail and console have one channel for all).
        renderer: message templates.
        calendar: working days (retries and digests never go out on rest days).
        policy: send time, time zone and the attempt limit.
        batch: rows claimed per pass.
        lease: how long a claim lasts before another dispatcher may take the rows.
        concurrency: deliveries in flight at once.
    """

    def __init__(self, engine: Engine, channels: Mapping[str, Callable[[str], Channel]], renderer: Renderer,
                 calendar: WorkingCalendar, policy: Policy, *, batch: int = 500,
                 lease: dt.timedelta = dt.timedelta(minutes=5), concurrency: int = 20,
                 base_backoff: dt.timedelta = dt.timedelta(minutes=1)) -> None:  # fmt: skip
        self.engine, self.channels, self.renderer = engine, channels, renderer
        self.calendar, self.policy = calendar, policy
        self.batch, self.lease, self.concurrency, self.base_backoff = batch, lease, concurrency, base_backoff

    def run(self, now: dt.datetime, *, max_passes: int = 1000) -> DispatchResult:
        """Dispatch until nothing due is left (or ``max_passes`` batches)."""
        total = DispatchResult()
        for _ in range(max_passes):
            one = self.run_once(now)
            for name in ("claimed", "sent", "deliveries", "retried", "dead", "cancelled"):
                setattr(total, name, getattr(total, name) + getattr(one, name))
            total.errors += one.errors
            if one.claimed == 0:
                break
        return total

    def run_once(self, now: dt.datetime) -> DispatchResult:
        """Write the messages of escalations not yet fanned out, claim one batch, send it, record
        the outcome."""
        with self.engine.begin() as conn:
            fan_out(conn, self.policy, now)
        rows = self._claim(now)
        result = DispatchResult(claimed=len(rows))
        if not rows:
            return result
        live, stale = self._split_stale(rows)
        self._cancel(stale, result)
        groups: dict[str, list[Row[Any]]] = defaultdict(list)
        for r in live:
            groups[r.digest_key].append(r)
        contexts = self._contexts(live, now)
        asyncio.run(self._send_groups(list(groups.values()), contexts, now, result))
        return result

    def _claim(self, now: dt.datetime) -> list[Row[Any]]:
        due = or_(
            and_(OutboxMessage.status == "pending", OutboxMessage.due_at <= now),
            and_(OutboxMessage.status == "sending", OutboxMessage.lease_until < now),
        )
        ids = (
            select(OutboxMessage.id).where(due).order_by(OutboxMessage.digest_key, OutboxMessage.id)
            .limit(self.batch).with_for_update(skip_locked=True)
        )  # fmt: skip
        stmt = (
            update(OutboxMessage).where(OutboxMessage.id.in_(ids), due)
            .values(status="sending", attempts=OutboxMessage.attempts + 1, lease_until=now + self.lease)
            .returning(*_COLUMNS)
        )  # fmt: skip
        with self.engine.begin() as conn:
            return list(conn.execute(stmt))

    def _split_stale(self, rows: Sequence[Row[Any]]) -> tuple[list[Row[Any]], list[int]]:
        """Level messages whose item is done, or whose target moved, are no longer true: cancel them."""
        level_rows = [r for r in rows if r.kind in LEVEL_KINDS and r.item_id is not None]
        if not level_rows:
            return list(rows), []
        ids = {r.item_id for r in level_rows}
        with self.engine.connect() as conn:
            items = {i.id: i for i in conn.execute(select(Item.id, Item.state, Item.measures_due,
                                                          Item.completion_due).where(Item.id.in_(ids)))}  # fmt: skip
        stale = {r.id for r in level_rows if not _still_due(items.get(r.item_id), r.target, r.due)}
        return [r for r in rows if r.id not in stale], sorted(stale)

    def _contexts(self, rows: Sequence[Row[Any]], now: dt.datetime) -> dict[int, dict[str, Any]]:
        today = now.astimezone(self.policy.delivery.tz).date()
        facts = self._item_facts({r.item_id for r in rows if r.item_id is not None})
        out = {}
        for r in rows:
            base = facts.get(r.item_id, {})
            due = r.due.isoformat() if r.due else None
            late = self.calendar.workdays_between(r.due, today) if r.due and today > r.due else 0
            data = r.data or {}
            out[r.id] = base | data | {
                "recipient_name": r.recipient_name, "item_id": r.item_id, "target": r.target,
                "target_label": TARGET_LABELS.get(r.target or "", ""), "due": due, "overdue_workdays": late,
                "level": r.kind, "reason": data.get("reason"), "approved": data.get("approved"),
                "new_due": data.get("new_due"), "today": today.isoformat(),
                "stats": data.get("stats", []), "week": data.get("week"),
            }  # fmt: skip
        return out

    def _item_facts(self, ids: set[int]) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        q = (
            select(Item.id, Item.category, Item.title, Notice.title.label("notice_title"), Notice.doc_number,
                   User.name.label("lead_leader"))
            .join(Notice, Notice.id == Item.notice_id).outerjoin(User, User.id == Item.lead_leader_id)
            .where(Item.id.in_(ids))
        )  # fmt: skip
        leads = (
            select(ItemDepartment.item_id, Department.name).join(Department)
            .where(ItemDepartment.item_id.in_(ids), ItemDepartment.role == "lead").order_by(Department.id)
        )  # fmt: skip
        with self.engine.connect() as conn:
            facts = {r.id: dict(r._mapping) | {"lead_departments": []} for r in conn.execute(q)}
            for item_id, name in conn.execute(leads):
                facts[item_id]["lead_departments"].append(name)
        for f in facts.values():
            f.pop("id")
        return facts

    async def _send_groups(self, groups: list[list[Row[Any]]], contexts: dict[int, dict[str, Any]],
                           now: dt.datetime, result: DispatchResult) -> None:  # fmt: skip
        """Send the groups, ``concurrency`` at a time; outcomes are recorded every ``RECORD_EVERY``.

        Recording in short intervals (one commit for what finished meanwhile), not at the end of
        the batch, keeps the duplicate window of a crash to the deliveries of the last interval.
        """
        gate = asyncio.Semaphore(self.concurrency)
        finished: list[_Outcome] = []

        def flush() -> None:
            if finished:
                batch = finished[:]
                finished.clear()
                self._record(batch, now, result)

        async def one(group: list[Row[Any]]) -> None:
            ids = tuple(r.id for r in group)
            async with gate:
                try:
                    await self._deliver(group, contexts)
                    finished.append(_Outcome(ids, None))
                except DeliveryError as exc:
                    finished.append(_Outcome(ids, exc))
                except Exception as exc:  # a template or channel bug must not stop the other groups
                    logger.exception("dispatch failed for outbox rows %s", ids)
                    finished.append(_Outcome(ids, DeliveryError(f"内部错误：{exc}", permanent=False)))

        async def recorder(sending: asyncio.Future[Any]) -> None:
            while not sending.done():
                await asyncio.sleep(RECORD_EVERY)
                flush()

        sending = asyncio.gather(*(one(g) for g in groups))
        await asyncio.gather(sending, recorder(sending))
        flush()

    async def _deliver(self, group: list[Row[Any]], contexts: dict[int, dict[str, Any]]) -> None:
        first = group[0]
        parts = [self.renderer.render(r.kind, contexts[r.id]) for r in group]
        day = first.due_at.astimezone(self.policy.delivery.tz).date()
        body: Rendered = (
            parts[0] if len(parts) == 1 else self.renderer.render_digest(first.recipient_name, day, parts)
        )
        key = first.digest_key + ":" + ",".join(str(r.id) for r in group)
        message = OutgoingMessage(key=key, to_name=first.recipient_name, to_address=first.address,
                                  subject=body.subject, text=body.text, html=body.html)  # fmt: skip
        channel = self.channels.get(first.channel)
        if channel is None:
            raise DeliveryError(f"未配置发送渠道 {first.channel}", permanent=True)
        await channel(first.address).send(message)

    def _record(self, outcomes: Sequence[_Outcome], now: dt.datetime, result: DispatchResult) -> None:
        attempts = {}
        with self.engine.begin() as conn:
            sent_ids = [i for o in outcomes if o.error is None for i in o.ids]
            if sent_ids:
                conn.execute(update(OutboxMessage).where(OutboxMessage.id.in_(sent_ids), OutboxMessage.status == "sending")
                             .values(status="sent", sent_at=now, lease_until=None, last_error=None))  # fmt: skip
            failed = [o for o in outcomes if o.error is not None]
            if failed:
                ids = [i for o in failed for i in o.ids]
                attempts = dict(conn.execute(select(OutboxMessage.id, OutboxMessage.attempts)
                                             .where(OutboxMessage.id.in_(ids))).tuples().all())  # fmt: skip
            for o in failed:
                assert o.error is not None
                self._fail(conn, o, attempts, now, result)
        result.sent += len(sent_ids)
        result.deliveries += sum(1 for o in outcomes if o.error is None)

    def _fail(
        self, conn: Any, o: _Outcome, attempts: dict[int, int], now: dt.datetime, result: DispatchResult
    ) -> None:
        assert o.error is not None
        tries = max(attempts.get(i, 1) for i in o.ids)
        dead = o.error.permanent or tries >= self.policy.max_attempts
        values: dict[str, Any] = {"last_error": str(o.error)[:2000], "lease_until": None}
        values |= {"status": "dead"} if dead else {"status": "pending", "due_at": self._retry_at(now, tries)}
        conn.execute(update(OutboxMessage).where(OutboxMessage.id.in_(o.ids)).values(**values))
        result.errors.append(str(o.error))
        if dead:
            result.dead += len(o.ids)
        else:
            result.retried += len(o.ids)

    def _retry_at(self, now: dt.datetime, tries: int) -> dt.datetime:
        """Exponential backoff, never onto a rest day (it then waits for the next working-day morning)."""
        at = now + min(self.base_backoff * 2 ** (tries - 1), MAX_BACKOFF)
        if self.calendar.is_workday(at.astimezone(self.policy.delivery.tz).date()):
            return at
        return send_slot(at, self.calendar, self.policy.delivery)

    def _cancel(self, ids: Sequence[int], result: DispatchResult) -> None:
        if not ids:
            return
        with self.engine.begin() as conn:
            conn.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                         .values(status="cancelled", lease_until=None, last_error="事项已办结或期限已变更"))  # fmt: skip
        result.cancelled += len(ids)


def _still_due(item: Any, target: str | None, due: dt.date | None) -> bool:
    """A level message is still true when the item is open and that target is still pending at that date."""
    if item is None or item.state not in OPEN_STATES:
        return False
    return (target, due) == pending(item)


def requeue(engine: Engine, ids: Sequence[int], now: dt.datetime) -> int:
    """Put dead (or any failed) rows back in the queue, due now; returns how many were requeued."""
    with engine.begin() as conn:
        stmt = (
            update(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.status.in_(("dead", "cancelled")))
            .values(status="pending", attempts=0, due_at=now, last_error=None).returning(OutboxMessage.id)
        )  # fmt: skip
        return len(conn.execute(stmt).all())
