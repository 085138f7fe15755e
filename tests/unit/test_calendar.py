"""WorkingCalendar and its override files, checked against chinese_calendar 1.11.0 data.

Expected dates were derived from ``chinese_calendar`` (2025 and 2026 match the State Council
notices): 2025 春节 01-28..02-04 rest, 01-26 (Sun) and 02-08 (Sat) working; 2025 国庆/中秋
10-01..10-08 rest, 09-28 (Sun) and 10-11 (Sat) working; 2026 春节 02-15..02-23 rest, 02-14 and
02-28 (Sat) working; 2026 国庆 10-01..10-07 rest, 09-20 (Sun) and 10-10 (Sat) working.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from states.calendar import Due, WorkingCalendar
from states.calendar_files import YearOverride, load_calendar, read_override
from states.errors import InvalidInput

D = datetime.date

OVERRIDE_2027 = """\
year = 2027
rest_days = ["2027-01-01", "2027-02-06..2027-02-13"]
workdays = ["2027-02-20"]
"""


_CACHE: dict[str, WorkingCalendar] = {}


def _shared_calendar() -> WorkingCalendar:
    """One calendar per test module; hypothesis tests call it directly (no fixtures under @given)."""
    if "official" not in _CACHE:
        _CACHE["official"] = WorkingCalendar.official()
    return _CACHE["official"]


@pytest.fixture
def cal() -> WorkingCalendar:
    return _shared_calendar()


def naive_is_workday(d: datetime.date) -> bool:
    """chinese_calendar's answer, with the Monday–Friday fallback where it has no data."""
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:
        return d.weekday() < 5


def naive_add_workdays(start: datetime.date, n: int) -> datetime.date:
    d, k = start, 0
    while k < n:
        d += datetime.timedelta(days=1)
        k += naive_is_workday(d)
    return d


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2025, 1, 1), False),
        (D(2025, 1, 26), True),
        (D(2025, 1, 28), False),
        (D(2025, 2, 4), False),
        (D(2025, 2, 5), True),
        (D(2025, 2, 8), True),
        (D(2025, 2, 9), False),
        (D(2025, 9, 28), True),
        (D(2025, 10, 8), False),
        (D(2025, 10, 11), True),
        (D(2026, 2, 14), True),
        (D(2026, 2, 23), False),
        (D(2026, 2, 28), True),
        (D(2026, 9, 20), True),
        (D(2026, 10, 7), False),
        (D(2026, 10, 10), True),
        (D(2026, 3, 2), True),
        (D(2026, 3, 7), False),
    ],
    ids=[
        "2025-new-year",
        "2025-spring-sunday-adjusted-working",
        "2025-spring-first-rest",
        "2025-spring-last-rest",
        "2025-spring-back-to-work",
        "2025-spring-saturday-adjusted-working",
        "2025-ordinary-sunday",
        "2025-national-sunday-adjusted-working",
        "2025-national-last-rest",
        "2025-national-saturday-adjusted-working",
        "2026-spring-saturday-before-adjusted",
        "2026-spring-last-rest",
        "2026-spring-saturday-after-adjusted",
        "2026-national-sunday-adjusted-working",
        "2026-national-last-rest",
        "2026-national-saturday-adjusted-working",
        "2026-ordinary-monday",
        "2026-ordinary-saturday",
    ],
)
def test_is_workday(cal: WorkingCalendar, day: datetime.date, working: bool) -> None:
    assert cal.is_workday(day) is working


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        (D(2025, 1, 24), 1, D(2025, 1, 26)),
        (D(2025, 1, 27), 1, D(2025, 2, 5)),
        (D(2025, 1, 27), 5, D(2025, 2, 10)),
        (D(2025, 9, 26), 1, D(2025, 9, 28)),
        (D(2025, 9, 30), 1, D(2025, 10, 9)),
        (D(2025, 10, 1), 10, D(2025, 10, 21)),
        (D(2026, 2, 13), 1, D(2026, 2, 14)),
        (D(2026, 2, 13), 2, D(2026, 2, 24)),
        (D(2026, 9, 18), 1, D(2026, 9, 20)),
        (D(2026, 9, 30), 1, D(2026, 10, 8)),
        (D(2026, 10, 9), 1, D(2026, 10, 10)),
    ],
    ids=[
        "2025-spring-lands-on-adjusted-sunday",
        "2025-spring-skips-whole-span",
        "2025-spring-counts-adjusted-saturday",
        "2025-national-lands-on-adjusted-sunday",
        "2025-national-skips-whole-span",
        "2025-national-start-in-span-10-days",
        "2026-spring-lands-on-adjusted-saturday",
        "2026-spring-skips-whole-span",
        "2026-national-lands-on-adjusted-sunday",
        "2026-national-skips-whole-span",
        "2026-national-lands-on-adjusted-saturday",
    ],
)
def test_add_workdays_across_holidays(
    cal: WorkingCalendar, start: datetime.date, n: int, due: datetime.date
) -> None:
    assert cal.add_workdays(start, n) == Due(due, provisional=False)


@pytest.mark.parametrize(
    ("start", "due"),
    [
        (D(2025, 2, 1), D(2025, 2, 5)),
        (D(2025, 10, 4), D(2025, 10, 9)),
        (D(2026, 2, 15), D(2026, 2, 24)),
        (D(2025, 3, 1), D(2025, 3, 3)),
    ],
    ids=["2025-spring-saturday", "2025-national-saturday", "2026-spring-sunday", "ordinary-saturday"],
)
def test_start_on_rest_day_first_working_day_after_is_day_one(
    cal: WorkingCalendar, start: datetime.date, due: datetime.date
) -> None:
    # chinese_calendar.find_workday(1, start) answers one working day later for these.
    assert cal.add_workdays(start, 1).date == due


def test_start_on_working_day_is_not_counted(cal: WorkingCalendar) -> None:
    assert cal.add_workdays(D(2025, 3, 3), 1).date == D(2025, 3, 4)


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        (D(2025, 1, 30), 30, D(2025, 3, 3)),
        (D(2025, 1, 9), 30, D(2025, 2, 8)),
        (D(2025, 1, 1), 30, D(2025, 2, 5)),
        (D(2025, 9, 8), 30, D(2025, 10, 9)),
        (D(2026, 1, 16), 30, D(2026, 2, 24)),
        (D(2026, 9, 1), 30, D(2026, 10, 8)),
        (D(2026, 1, 1), 1, D(2026, 1, 4)),
        (D(2025, 3, 3), 7, D(2025, 3, 10)),
    ],
    ids=[
        "ends-saturday-rolls-to-monday",
        "ends-adjusted-saturday-stays",
        "ends-in-2025-spring-rolls-past-span",
        "ends-in-2025-national-rolls-past-span",
        "ends-on-2026-spring-first-day-rolls-past-span",
        "ends-on-2026-national-first-day-rolls-past-span",
        "ends-in-2026-new-year-rolls-to-adjusted-sunday",
        "ends-on-working-day-unchanged",
    ],
)
def test_add_days(cal: WorkingCalendar, start: datetime.date, n: int, due: datetime.date) -> None:
    assert cal.add_days(start, n) == Due(due, provisional=False)


@pytest.mark.parametrize(
    ("a", "b", "count"),
    [
        (D(2025, 1, 27), D(2025, 2, 10), 5),
        (D(2025, 2, 10), D(2025, 1, 27), -5),
        (D(2025, 2, 1), D(2025, 2, 4), 0),
        (D(2025, 3, 3), D(2025, 3, 3), 0),
        (D(2025, 3, 3), D(2025, 3, 4), 1),
    ],
    ids=["across-spring", "reversed-negative", "inside-span", "same-day", "next-day"],
)
def test_workdays_between(cal: WorkingCalendar, a: datetime.date, b: datetime.date, count: int) -> None:
    assert cal.workdays_between(a, b) == count


@pytest.mark.parametrize(
    ("day", "expected"),
    [(D(2025, 3, 3), D(2025, 3, 3)), (D(2025, 1, 28), D(2025, 2, 5)), (D(2025, 10, 5), D(2025, 10, 9))],
    ids=["working-day-itself", "in-spring-span", "in-national-span"],
)
def test_next_workday(cal: WorkingCalendar, day: datetime.date, expected: datetime.date) -> None:
    assert cal.next_workday(day) == expected


# late enough to cross several years, early enough that 60 working days stay inside 2035
dates_2004_2035 = st.dates(D(2004, 1, 1), D(2035, 6, 30))


@given(start=dates_2004_2035, n=st.integers(1, 60))
def test_add_workdays_consistent_with_ordinal_and_between(start: datetime.date, n: int) -> None:
    cal = _shared_calendar()
    due = cal.add_workdays(start, n).date
    assert cal.ordinal(due) - cal.ordinal(start) == n
    assert cal.workdays_between(start, due) == n
    assert cal.workdays_between(due, start) == -n
    assert cal.is_workday(due)


@settings(max_examples=300)
@given(start=st.dates(D(2020, 1, 1), D(2026, 12, 31)), n=st.integers(1, 30))
def test_agrees_with_naive_loop_over_chinese_calendar(start: datetime.date, n: int) -> None:
    cal = _shared_calendar()
    assert cal.add_workdays(start, n).date == naive_add_workdays(start, n)
    assert cal.is_workday(start) is naive_is_workday(start)


def test_deadline_into_2027_is_provisional(cal: WorkingCalendar) -> None:
    assert 2027 not in cal.official_years
    assert cal.add_workdays(D(2026, 12, 24), 10) == Due(D(2027, 1, 7), provisional=True)
    assert cal.add_days(D(2026, 12, 1), 31) == Due(D(2027, 1, 1), provisional=True)
    assert cal.is_provisional(D(2027, 6, 1))
    assert not cal.is_provisional(D(2026, 6, 1))


def test_2027_override_makes_year_official_and_moves_deadline(tmp_path: Path) -> None:
    (tmp_path / "2027.toml").write_text(OVERRIDE_2027, encoding="utf-8")
    cal = load_calendar(tmp_path)
    assert 2027 in cal.official_years
    assert cal.add_workdays(D(2026, 12, 24), 10) == Due(D(2027, 1, 8), provisional=False)
    assert cal.is_workday(D(2027, 2, 20))
    assert not cal.is_workday(D(2027, 2, 8))


def test_override_replaces_packaged_year() -> None:
    override = YearOverride(year=2025, rest_days=frozenset({D(2025, 3, 3)}), workdays=frozenset())
    cal = WorkingCalendar.official({2025: override})
    assert not cal.is_workday(D(2025, 3, 3))
    assert not cal.is_workday(D(2025, 2, 8))  # the packaged 调休 Saturday is gone
    assert cal.is_workday(D(2025, 1, 28))


def test_missing_or_empty_dir_means_packaged_data(tmp_path: Path) -> None:
    assert load_calendar(None).official_years == frozenset(range(2004, 2027))
    assert load_calendar(tmp_path / "absent").official_years == frozenset(range(2004, 2027))
    (tmp_path / "2027.toml.example").write_text(OVERRIDE_2027, encoding="utf-8")
    assert 2027 not in load_calendar(tmp_path).official_years


def test_read_override_expands_ranges(tmp_path: Path) -> None:
    path = tmp_path / "2027.toml"
    path.write_text(OVERRIDE_2027, encoding="utf-8")
    override = read_override(path)
    assert override.year == 2027
    assert len(override.rest_days) == 9
    assert override.workdays == frozenset({D(2027, 2, 20)})


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ('year = 2027\nrest_days = ["2028-01-01"]\nworkdays = []\n', "2028-01-01"),
        ('year = 2027\nrest_days = ["2027-02-20"]\nworkdays = ["2027-02-20"]\n', "2027-02-20"),
        ('year = 2027\nrest_days = ["2027-02-13..2027-02-06"]\nworkdays = []\n', "2027-02-13..2027-02-06"),
        ('year = 2027\nrest_days = ["2027-02-30"]\nworkdays = []\n', "2027-02-30"),
        ('year = 2027\nrest_days = ["20270101"]\nworkdays = []\n', "20270101"),
        ('year = 2027\nrest_days = "2027-01-01"\nworkdays = []\n', "rest_days"),
        ("year = 2027\nrest_days = [1]\nworkdays = []\n", "rest_days"),
        ('year = "2027"\nrest_days = []\nworkdays = []\n', "year"),
        ("year = 2027\nrest_days = []\n", "workdays"),
        ("year = 2027\nrest_days = []\nworkdays = []\nholidays = []\n", "holidays"),
        ("this is not toml [[[", "TOML"),
        (b"\xff\xfe garbage", "TOML"),
    ],
    ids=[
        "date-outside-year",
        "date-in-both-lists",
        "reversed-range",
        "impossible-date",
        "compact-date-format",
        "list-expected",
        "non-string-entry",
        "year-not-integer",
        "missing-key",
        "unknown-key",
        "garbage",
        "not-utf8",
    ],
)
def test_bad_override_file_names_file(tmp_path: Path, text: str | bytes, mentions: str) -> None:
    path = tmp_path / "2027.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        load_calendar(tmp_path)
    assert str(path) in str(err.value)
    assert mentions in str(err.value)


def test_two_files_for_one_year_refused(tmp_path: Path) -> None:
    (tmp_path / "2027.toml").write_text(OVERRIDE_2027, encoding="utf-8")
    (tmp_path / "2027-copy.toml").write_text(OVERRIDE_2027, encoding="utf-8")
    with pytest.raises(InvalidInput, match="2027"):
        load_calendar(tmp_path)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.is_workday(D(2003, 12, 31)),
        lambda c: c.is_workday(D(2101, 1, 1)),
        lambda c: c.ordinal(D(1999, 1, 1)),
        lambda c: c.add_workdays(D(2100, 12, 30), 5),
        lambda c: c.add_days(D(2100, 12, 1), 60),
        lambda c: c.workdays_between(D(2025, 1, 1), D(2140, 1, 1)),
        lambda c: c.is_provisional(D(2101, 1, 1)),
    ],
    ids=[
        "before-first",
        "after-last",
        "ordinal-before",
        "add-workdays-past-last",
        "add-days-past-last",
        "between-past-last",
        "provisional-after-last",
    ],
)
def test_outside_range_refused(cal: WorkingCalendar, call: Callable[[WorkingCalendar], object]) -> None:
    with pytest.raises(InvalidInput, match="工作日历范围") as err:
        call(cal)
    assert err.value.field == "日期"


@pytest.mark.parametrize("n", [0, -1], ids=["zero", "negative"])
def test_non_positive_counts_refused(cal: WorkingCalendar, n: int) -> None:
    with pytest.raises(InvalidInput):
        cal.add_workdays(D(2025, 3, 3), n)
    with pytest.raises(InvalidInput):
        cal.add_days(D(2025, 3, 3), n)


def test_constructor_refuses_contradictions() -> None:
    day = D(2025, 3, 3)
    with pytest.raises(InvalidInput, match="同时"):
        WorkingCalendar([day], [day], [2025], D(2025, 1, 1), D(2025, 12, 31))
    with pytest.raises(InvalidInput, match="官方年份"):
        WorkingCalendar([day], [], [], D(2025, 1, 1), D(2025, 12, 31))


def test_non_official_year_is_monday_to_friday() -> None:
    cal = WorkingCalendar([], [], [], D(2027, 1, 1), D(2027, 12, 31))
    assert cal.is_workday(D(2027, 1, 1))
    assert not cal.is_workday(D(2027, 1, 2))
    assert cal.add_workdays(D(2027, 1, 1), 1) == Due(D(2027, 1, 4), provisional=True)
