"""Escalation (催办 → 督办 → 约谈): the policy, and the daily set-based scan.

A level fires for an item's *pending* target (see :mod:`states.queries`) when the working days
from the target to today fall in the level's band ``[offset, next level's offset)``: the
reminder at −2 (two working days before), due today at 0, overdue at +1, 督办 at +3, 约谈 from +10.
Because a band is a range, a scan that missed a day still sends the level the item is in, and
never the ones before it.

The scan is one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` per level and target, over the
``(state, due)`` indexes; the message key holds the item, target, level, due date, recipient and
channel, so a second scan of the same day adds nothing, and an approved extension (a new due
date) starts the ladder again. Closed and withdrawn items are never selected.

Concurrency: two scans of the same day may run at once (two schedulers, a retried flow): the
unique key lets exactly one insert each message; the other's insert skips it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, String, and_, cast, literal, or_, select

from states.calendar import WorkingCalendar
from states.errors import InvalidInput
from states.model import Item
from states.outbox import CHANNELS, RECIPIENT_ROLES, Delivery, Notice, enqueue, send_slot

TARGETS = ("measures_due", "completion_due")
LEVEL_KINDS = ("reminder", "due_today", "overdue", "supervision", "talk")


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
    """Messages queued per level (0 for levels that matched nothing)."""
    due_at: dt.datetime
    """When the queued messages go out (the next working-day send time)."""

    @property
    def total(self) -> int:
        return sum(self.queued.values())


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


def _pending(target: str) -> Any:
    """Open items whose pending target is ``target`` (mirrors :func:`states.queries.pending`)."""
    if target == "measures_due":
        return and_(Item.state.in_(("issued", "assigned")), Item.measures_due.is_not(None))
    return or_(
        Item.state.in_(("measures_filed", "verified")),
        and_(Item.state.in_(("issued", "assigned")), Item.measures_due.is_(None)),
    )


def scan(
    conn: Connection, policy: Policy, calendar: WorkingCalendar, today: dt.date, now: dt.datetime
) -> ScanResult:
    """Queue every level message due on ``today``, in the caller's transaction.

    Args:
        conn: a connection inside the caller's transaction.
        policy: the escalation policy.
        calendar: the working-day calendar.
        today: the office's calendar day the scan is for.
        now: the time of the scan (aware UTC); messages go out at the next working-day send time.

    Returns:
        The number of messages queued per level.
    """
    due_at = send_slot(now, calendar, policy.delivery)
    queued: dict[str, int] = {}
    for level, lo, hi in policy.bands():
        count = 0
        for target in level.targets:
            column = getattr(Item, target)
            first, last = window(calendar, today, lo, hi)
            in_band = [column <= last] + ([column >= first] if first is not None else [])
            items = select(Item.id, literal(target).label("target"), column.label("due")).where(
                _pending(target), *in_band
            ).subquery()  # fmt: skip
            key = cast(items.c.id, String) + f":{target}:{level.name}:" + cast(items.c.due, String)
            notice = Notice(kind=level.name, roles=level.recipients, key_prefix=key, items=items)
            count += enqueue(conn, notice, policy.delivery, due_at, now)
        queued[level.name] = count
    return ScanResult(day=today, queued=queued, due_at=due_at)
