"""Escalation (催办 → 督办 → 约谈): the policy, the daily set-based scan, and the fan-out.

A level fires for an item's *pending* target (see :mod:`states.queries`) when the working days
from the target to today fall in the level's band ``[offset, next level's offset)``: the
reminder at −2 (two working days before), due today at 0, overdue at +1, 督办 at +3, 约谈 from +10.
Because a band is a range, a scan that missed a day still sends the level the item is in, and
never the ones before it.

Two steps, each one transaction, each idempotent:

1. :func:`scan` is one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` per level and target over
   the ``(state, due)`` indexes into :class:`~states.model.Escalation`: one row per item, target,
   level and due date. A second scan of the same day adds nothing; an approved extension (a new
   due date) starts the ladder again; closed and withdrawn items are never selected.
2. :func:`fan_out` claims the escalations no fan-out has taken and writes the outbox messages of
   each level's recipients (one ``INSERT … SELECT`` per level), keyed by item, target, level, due
   date, recipient and channel. The scan job runs it right after the scan, and every dispatch pass
   runs it first, so escalations committed by a scan that died before its fan-out still go out.

Why two steps: the scan's transaction writes one narrow row per item hit (about 10,000 on a
day of a million open items) instead of one wide row per recipient and channel (about 3.4 times
as many), so the daily scan holds SQLite's write lock for a fraction of the time; recipients are
resolved when the messages are written, from the users and policy of that moment; and the
escalations are the record of the ladder each item climbed, independent of channels.

Concurrency: two scans or two fan-outs may run at once (two schedulers, a retried flow, several
dispatchers). Unique keys let exactly one insert each escalation and message; a fan-out claims
rows with ``UPDATE … SET fanout = token WHERE fanout IS NULL``, so a row is claimed once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, String, and_, cast, literal, select, union_all, update

from states.calendar import WorkingCalendar
from states.errors import InvalidInput
from states.model import Escalation, Item
from states.outbox import CHANNELS, RECIPIENT_ROLES, Delivery, Notice, enqueue, insert_ignoring, send_slot

TARGETS = ("measures_due", "completion_due")
LEVEL_KINDS = ("reminder", "due_today", "overdue", "supervision", "talk")
LEVEL_LABELS = {
    "reminder": "到期前提醒", "due_today": "今日到期", "overdue": "逾期提醒", "supervision": "督办通知",
    "talk": "约谈名单",
}  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class Level:
    """One rung of the ladder."""

    name: str
    """Message kind and template name (reminder, due_today, overdue, supervision, talk)."""
    offset: int
    """Working days from the target: negative before it, 0 on the day, positive when late."""
    recipients: tuple[str, ...]
    targets: tuple[str, ...] = TARGETS


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """The escalation policy an office edits in ``config/escalation.toml``."""

    levels: tuple[Level, ...]
    delivery: Delivery = field(default_factory=Delivery)
    scan_time: dt.time = dt.time(8, 30)
    max_attempts: int = 8

    def bands(self) -> list[tuple[Level, int, int | None]]:
        """Each level with its band ``[offset, upper)`` (``None``: no upper end)."""
        ordered = sorted(self.levels, key=lambda lv: lv.offset)
        uppers: list[int | None] = [lv.offset for lv in ordered[1:]] + [None]
        return list(zip(ordered, [lv.offset for lv in ordered], uppers, strict=True))


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanResult:
    """What one scan did."""

    day: dt.date
    queued: dict[str, int]
    """Escalations recorded per level, i.e. items (and targets) newly at that level (0 for none)."""
    due_at: dt.datetime
    """When the queued messages go out (the next working-day send time)."""

    messages: dict[str, int] = field(default_factory=dict)
    """Outbox messages the fan-out after the scan wrote, per level (empty before it ran)."""

    @property
    def total(self) -> int:
        return sum(self.queued.values())

    @property
    def total_messages(self) -> int:
        return sum(self.messages.values())


def parse_policy(data: Mapping[str, Any], delivery: Delivery) -> Policy:
    """Build a :class:`Policy` from parsed TOML, strictly.

    Raises:
        InvalidInput: an unknown key, level, role, target or channel, or a duplicate offset.
    """
    levels = tuple(_level(i, raw) for i, raw in enumerate(data.get("levels", []), start=1))
    offsets = [lv.offset for lv in levels]
    if len(set(offsets)) != len(offsets):
        raise InvalidInput("levels.offset", offsets, "各级别的 offset 不能重复")
    if not levels:
        raise InvalidInput("levels", "", "至少需要一个级别")
    attempts = int(data.get("max_attempts", 8))
    if attempts < 1:
        raise InvalidInput("max_attempts", attempts, "至少为 1")
    return Policy(levels=levels, delivery=delivery, scan_time=_time("scan_time", data.get("scan_time", "08:30")),
                  max_attempts=attempts)  # fmt: skip


def _level(n: int, raw: Mapping[str, Any]) -> Level:
    unknown = set(raw) - {"name", "offset", "recipients", "targets"}
    if unknown:
        raise InvalidInput(
            f"levels[{n}]", ", ".join(sorted(unknown)), "未知字段；可用：name, offset, recipients, targets"
        )
    name, offset = raw.get("name"), raw.get("offset")
    if name not in LEVEL_KINDS:
        raise InvalidInput(f"levels[{n}].name", name, f"可选值：{', '.join(LEVEL_KINDS)}")
    if not isinstance(offset, int) or isinstance(offset, bool):
        raise InvalidInput(f"levels[{n}].offset", offset, "应为整数（工作日，负数表示期限前）")
    recipients = tuple(raw.get("recipients", ()))
    bad = [r for r in recipients if r not in RECIPIENT_ROLES] or ([] if recipients else ["（空）"])
    if bad:
        raise InvalidInput(f"levels[{n}].recipients", ", ".join(bad), f"可选值：{', '.join(RECIPIENT_ROLES)}")
    targets = tuple(raw.get("targets", TARGETS))
    if not targets or any(t not in TARGETS for t in targets):
        raise InvalidInput(f"levels[{n}].targets", ", ".join(targets), f"可选值：{', '.join(TARGETS)}")
    return Level(name=name, offset=offset, recipients=recipients, targets=targets)


def parse_delivery(data: Mapping[str, Any], tz: Any) -> Delivery:
    """The ``channels``, ``send_time`` and ``top_leaders`` keys of the policy file."""
    channels = tuple(data.get("channels", ("email",)))
    if not channels or any(c not in CHANNELS for c in channels):
        raise InvalidInput("channels", ", ".join(channels), f"可选值：{', '.join(CHANNELS)}")
    return Delivery(channels=channels, send_time=_time("send_time", data.get("send_time", "09:00")),
                    top_leaders=tuple(data.get("top_leaders", ())), tz=tz)  # fmt: skip


def _time(key: str, value: object) -> dt.time:
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidInput(key, value, "应为 HH:MM 格式的时间") from exc


def window(
    calendar: WorkingCalendar, today: dt.date, lo: int, hi: int | None
) -> tuple[dt.date | None, dt.date]:
    """Due dates whose working-day distance to ``today`` lies in ``[lo, hi)``.

    The distance is ``ordinal(today) - ordinal(due)``; a due date on a rest day has the ordinal of
    the working day before it, so it counts from there.

    Returns:
        ``(first, last)`` dates, inclusive; ``first`` is ``None`` for an open band.
    """
    t = calendar.ordinal(today)
    last = calendar.workday_at(t - lo + 1) - dt.timedelta(days=1)
    first = None if hi is None else calendar.workday_at(t - hi + 1)
    return first, last


def _pending(target: str) -> list[Any]:
    """Open items whose pending target is ``target`` (mirrors :func:`states.queries.pending`), as
    disjoint conditions: each is a range on one ``(state, due)`` index, read by an index alone."""
    if target == "measures_due":
        return [and_(Item.state.in_(("issued", "assigned")), Item.measures_due.is_not(None))]
    return [
        Item.state.in_(("measures_filed", "verified")),
        and_(Item.state.in_(("issued", "assigned")), Item.measures_due.is_(None)),
    ]


def scan(
    conn: Connection, policy: Policy, calendar: WorkingCalendar, today: dt.date, now: dt.datetime
) -> ScanResult:
    """Record every level reached on ``today`` as an escalation, in the caller's transaction.

    The messages are written by :func:`fan_out` (the scan job runs it next).

    Args:
        conn: a connection inside the caller's transaction.
        policy: the escalation policy.
        calendar: the working-day calendar.
        today: the office's calendar day the scan is for.
        now: the time of the scan (aware UTC); messages go out at the next working-day send time.

    Returns:
        The number of escalations recorded per level.
    """
    due_at = send_slot(now, calendar, policy.delivery)
    queued: dict[str, int] = {}
    for level, lo, hi in policy.bands():
        count = 0
        first, last = window(calendar, today, lo, hi)
        for target in level.targets:
            column = getattr(Item, target)
            in_band = [column <= last] + ([column >= first] if first is not None else [])
            rows = union_all(*(select(
                Item.id, literal(target), literal(level.name), column,
                literal(due_at, Escalation.due_at.type), literal(now, Escalation.created_at.type),
            ).where(case, *in_band) for case in _pending(target)))  # fmt: skip
            count += insert_ignoring(conn, Escalation, ["item_id", "target", "level", "due", "due_at", "created_at"],
                                     rows, ["item_id", "target", "level", "due"])  # fmt: skip
        queued[level.name] = count
    return ScanResult(day=today, queued=queued, due_at=due_at)


def fan_out(conn: Connection, policy: Policy, now: dt.datetime) -> dict[str, int]:
    """Write the outbox messages of every escalation no fan-out has claimed yet, in the caller's
    transaction.

    Recipients and channels are the policy's at this moment; a level the policy no longer has
    claims its escalations and writes nothing (nobody is named to receive it).

    Returns:
        Messages written per level (levels without any are left out).
    """
    unclaimed = Escalation.fanout.is_(None)
    if conn.execute(select(Escalation.id).where(unclaimed).limit(1)).first() is None:
        return {}  # the usual dispatch pass: a read, no write lock taken
    token = uuid.uuid4().hex
    if not conn.execute(update(Escalation).where(unclaimed).values(fanout=token)).rowcount:
        return {}  # another fan-out claimed them first
    written: Counter[str] = Counter()
    levels = {lv.name: lv for lv in policy.levels}
    mine = Escalation.fanout == token
    for name, due_at in conn.execute(select(Escalation.level, Escalation.due_at).where(mine).distinct()):
        level = levels.get(name)
        if level is None:
            continue
        items = (
            select(Escalation.item_id.label("id"), Escalation.target, Escalation.due)
            .where(mine, Escalation.level == name, Escalation.due_at == due_at).subquery()
        )  # fmt: skip
        key = cast(items.c.id, String) + ":" + items.c.target + f":{name}:" + cast(items.c.due, String)
        notice = Notice(kind=name, roles=level.recipients, key_prefix=key, items=items)
        written[name] += enqueue(conn, notice, policy.delivery, due_at, now)
    return dict(written)
