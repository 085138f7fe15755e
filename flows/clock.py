"""The clock, read once at the edge and passed down as ``now`` (an aware UTC datetime)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

#: The simulated time of day for ``--today``: offices act during working hours.
OFFICE_HOUR = dt.time(9, 0)


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    """The wall clock. Only production entry points use it."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class FixedClock:
    """A clock pinned to a day (``--today`` / ``RECTIFLOW_TODAY``) at 09:00 local time."""

    today: dt.date
    tz: ZoneInfo
    at: dt.time = OFFICE_HOUR

    def now(self) -> dt.datetime:
        return dt.datetime.combine(self.today, self.at, tzinfo=self.tz).astimezone(dt.UTC)
