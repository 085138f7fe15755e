"""Working days of the Chinese public calendar, answered from a precomputed index.

A :class:`WorkingCalendar` is built once (from ``chinese_calendar``'s tables plus optional
per-year overrides) and then answers every question with index arithmetic: no I/O, no clock,
no day-by-day walk. Years without official data fall back to Monday–Friday working days, and
every answer that depends on such a year is flagged ``provisional``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from chinese_calendar import constants as packaged_tables

from states.errors import InvalidInput

_FIELD = "日期"


@dataclass(frozen=True, slots=True)
class Due:
    """A computed deadline.

    Attributes:
        date: the last day of the period.
        provisional: True if any day the computation looked at lies in a year with no official
            holiday arrangement, so the date may move once that arrangement is published.
    """

    date: datetime.date
    provisional: bool


@dataclass(frozen=True, slots=True)
class YearOverride:
    """The official holiday arrangement of one year, as published by the State Council.

    Attributes:
        year: the year the arrangement covers.
        rest_days: holidays (放假), including weekend days inside holiday spans.
        workdays: adjusted working days (调休上班), usually weekend days.
    """

    year: int
    rest_days: frozenset[datetime.date]
    workdays: frozenset[datetime.date]


class WorkingCalendar:
    """Working days between ``first`` and ``last``, with O(1) ordinal arithmetic.

    A day is a working day if it is an extra working day, or a Monday–Friday that is not a rest
    day. Years outside ``official_years`` have no official data: only Monday–Friday work there.

    Attributes:
        first: the first date covered.
        last: the last date covered.
    """

    __slots__ = ("first", "last", "_first_ord", "_official", "_work", "_cum", "_days")

    def __init__(
        self,
        rest_days: Iterable[datetime.date],
        extra_workdays: Iterable[datetime.date],
        official_years: Iterable[int],
        first: datetime.date,
        last: datetime.date,
    ) -> None:
        """Build the index once.

        Args:
            rest_days: rest days (放假) of official years; weekend days among them change nothing.
            extra_workdays: adjusted working days (调休上班) of official years, usually weekends.
            official_years: years whose rest and working days are given in full.
            first: the first date covered.
            last: the last date covered.

        Raises:
            InvalidInput: if ``last`` is before ``first``, a date is both a rest day and a working
                day, or a date lies in a year that is not official.
        """
        if last < first:
            raise InvalidInput("日历范围", f"{first}..{last}", "结束日期早于开始日期")
        self.first, self.last = first, last
        self._first_ord = first.toordinal()
        self._official = frozenset(official_years)
        rest, extra = _checked_days(rest_days, extra_workdays, self._official)
        self._work = bytearray(_is_work(d, rest, extra) for d in _dates(first, last))
        self._cum, self._days = _index(first, self._work)

    @classmethod
    def official(
        cls,
        overrides: Mapping[int, YearOverride] | None = None,
        first_year: int = 2004,
        last_year: int = 2100,
    ) -> WorkingCalendar:
        """Build the calendar from ``chinese_calendar``'s data, with overrides applied.

        Args:
            overrides: per-year arrangements; each replaces that year's packaged data (or adds a
                year the package does not know) and makes the year official.
            first_year: the first year covered.
            last_year: the last year covered.

        Returns:
            A calendar covering 1 January ``first_year`` to 31 December ``last_year``.

        Raises:
            InvalidInput: if an override is inconsistent (see ``__init__``).
        """
        overrides = overrides or {}
        holidays, workdays = packaged_tables.holidays, packaged_tables.workdays
        packaged = {d.year for d in holidays}
        years = set(range(min(packaged), max(packaged) + 1)) | overrides.keys()
        years &= set(range(first_year, last_year + 1))
        rest = [d for d in holidays if d.year in years and d.year not in overrides]
        extra = [d for d in workdays if d.year in years and d.year not in overrides]
        for year in years & overrides.keys():
            rest.extend(overrides[year].rest_days)
            extra.extend(overrides[year].workdays)
        first, last = datetime.date(first_year, 1, 1), datetime.date(last_year, 12, 31)
        return cls(rest, extra, years, first, last)

    @property
    def official_years(self) -> frozenset[int]:
        """The years whose arrangement is official (answers there are not provisional)."""
        return self._official

    def is_workday(self, d: datetime.date) -> bool:
        """Tell whether ``d`` is a working day.

        Raises:
            InvalidInput: if ``d`` is outside the calendar.
        """
        return bool(self._work[self._pos(d)])

    def is_provisional(self, d: datetime.date) -> bool:
        """Tell whether the year of ``d`` lacks official data.

        Raises:
            InvalidInput: if ``d`` is outside the calendar.
        """
        self._pos(d)
        return d.year not in self._official

    def ordinal(self, d: datetime.date) -> int:
        """Count the working days in ``[first, d]``.

        Raises:
            InvalidInput: if ``d`` is outside the calendar.
        """
        return self._cum[self._pos(d)]

    def add_workdays(self, start: datetime.date, n: int) -> Due:
        """Return the ``n``-th working day after ``start``.

        Args:
            start: the day the period starts from (the day of receipt, of issue …).
            n: the number of working days, at least 1.

        Returns:
            The deadline, provisional if any day from ``start`` to it is in a non-official year.

        Raises:
            InvalidInput: if ``n`` < 1, or ``start`` or the result is outside the calendar.
        """
        _check_count("工作日数", n)
        # The start day itself is never counted (民法典 第二百零一条), even when it is a working
        # day; the n-th working day strictly after it is the last day of the period.
        target = self._cum[self._pos(start)] + n
        due = self._nth(target, start)
        return Due(due, self._provisional_span(start, due))

    def add_days(self, start: datetime.date, n: int) -> Due:
        """Return ``start`` + ``n`` calendar days, moved to the next working day if that is a rest day.

        Args:
            start: the day the period starts from (not counted, 民法典 第二百零一条).
            n: the number of calendar days, at least 1.

        Returns:
            The deadline, provisional if the days examined (the nominal end up to the result)
            touch a non-official year.

        Raises:
            InvalidInput: if ``n`` < 1, or ``start`` or the result is outside the calendar.
        """
        _check_count("天数", n)
        self._pos(start)
        end = start + datetime.timedelta(days=n)
        # A period ending on a rest day ends on the next working day (民法典 第二百零三条).
        due = self.next_workday(end)
        return Due(due, self._provisional_span(end, due))

    def workdays_between(self, a: datetime.date, b: datetime.date) -> int:
        """Count the working days in ``(a, b]``; negative (the count in ``(b, a]``) if ``b`` < ``a``.

        Raises:
            InvalidInput: if ``a`` or ``b`` is outside the calendar.
        """
        return self._cum[self._pos(b)] - self._cum[self._pos(a)]

    def next_workday(self, d: datetime.date) -> datetime.date:
        """Return ``d`` if it is a working day, else the first working day after it.

        Raises:
            InvalidInput: if ``d`` or the result is outside the calendar.
        """
        i = self._pos(d)
        return d if self._work[i] else self._nth(self._cum[i] + 1, d)

    def workday_at(self, k: int) -> datetime.date:
        """The working day whose ordinal is ``k`` (the inverse of :meth:`ordinal` on working days).

        Raises:
            InvalidInput: if ``k`` is outside the calendar.
        """
        if k < 1:
            raise InvalidInput(_FIELD, k, f"超出工作日历范围（{self.first} 至 {self.last}）")
        return self._nth(k, self.first)

    def _pos(self, d: datetime.date) -> int:
        """Index of ``d`` in the arrays, or InvalidInput if it is outside the calendar."""
        i = d.toordinal() - self._first_ord
        if i < 0 or i >= len(self._work):
            raise InvalidInput(_FIELD, d, f"超出工作日历范围（{self.first} 至 {self.last}）")
        return i

    def _nth(self, k: int, start: datetime.date) -> datetime.date:
        """The k-th working day of the calendar (1-based); ``start`` only names the query in errors."""
        if k > len(self._days):
            why = f"由此推算的期限超出工作日历范围（{self.first} 至 {self.last}）"
            raise InvalidInput(_FIELD, start, why)
        return self._days[k - 1]

    def _provisional_span(self, a: datetime.date, b: datetime.date) -> bool:
        """True if any year from ``a.year`` to ``b.year`` lacks official data."""
        return any(y not in self._official for y in range(a.year, b.year + 1))


def _dates(first: datetime.date, last: datetime.date) -> Iterable[datetime.date]:
    """Every date from ``first`` to ``last`` inclusive."""
    return map(datetime.date.fromordinal, range(first.toordinal(), last.toordinal() + 1))


def _is_work(d: datetime.date, rest: frozenset[datetime.date], extra: frozenset[datetime.date]) -> bool:
    """The rule ``chinese_calendar`` applies: listed working day, or a weekday not listed as rest."""
    return d in extra or (d.weekday() < 5 and d not in rest)


def _index(first: datetime.date, work: bytearray) -> tuple[list[int], list[datetime.date]]:
    """Cumulative working-day counts per date, and the working days in order."""
    cum: list[int] = []
    days: list[datetime.date] = []
    count = 0
    for i, flag in enumerate(work):
        if flag:
            count += 1
            days.append(datetime.date.fromordinal(first.toordinal() + i))
        cum.append(count)
    return cum, days


def _checked_days(
    rest_days: Iterable[datetime.date], extra_workdays: Iterable[datetime.date], official: frozenset[int]
) -> tuple[frozenset[datetime.date], frozenset[datetime.date]]:
    """Freeze the day sets, refusing contradictions and data for non-official years."""
    rest, extra = frozenset(rest_days), frozenset(extra_workdays)
    both = rest & extra
    if both:
        raise InvalidInput(_FIELD, min(both), "同时被列为放假日和调休上班日")
    stray = [d for d in rest | extra if d.year not in official]
    if stray:
        raise InvalidInput(_FIELD, min(stray), "所在年份不是官方年份，不能指定放假或调休")
    return rest, extra


def _check_count(field: str, n: int) -> None:
    """Refuse a period length below 1."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidInput(field, n, "须为不小于 1 的整数")
