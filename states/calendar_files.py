"""Per-year holiday arrangements read from TOML files, and the calendar built from them.

This is the only module of the calendar that touches the file system; :mod:`states.calendar`
stays pure. A file looks like ``config/calendars/2027.toml.example``::

    year = 2027
    rest_days = ["2027-01-01", "2027-02-06..2027-02-13"]
    workdays = ["2027-02-20"]
"""

from __future__ import annotations

import datetime
import re
import tomllib
from pathlib import Path

from states.calendar import WorkingCalendar, YearOverride
from states.errors import InvalidInput

__all__ = ["YearOverride", "load_calendar", "read_override"]

_KEYS = frozenset({"year", "rest_days", "workdays"})
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def load_calendar(calendars_dir: Path | None) -> WorkingCalendar:
    """Build the official calendar with every ``*.toml`` override found in ``calendars_dir``.

    Args:
        calendars_dir: the directory of override files; None or a missing directory means none.

    Returns:
        ``WorkingCalendar.official(overrides)``.

    Raises:
        InvalidInput: if a file is invalid, two files declare the same year, or the path is not
            a directory.
    """
    overrides: dict[int, YearOverride] = {}
    for path in _override_files(calendars_dir):
        override = read_override(path)
        if override.year in overrides:
            raise InvalidInput(f"日历文件 {path} 的 year", override.year, "该年份已由另一个文件定义")
        overrides[override.year] = override
    return WorkingCalendar.official(overrides)


def read_override(path: Path) -> YearOverride:
    """Read and strictly validate one override file.

    Args:
        path: a TOML file with exactly the keys ``year``, ``rest_days`` and ``workdays``.

    Returns:
        The year's arrangement, with ranges expanded.

    Raises:
        InvalidInput: naming the file, the key and the bad value, if the file cannot be read or
            parsed, a key is missing or unknown, a date is malformed, a range is reversed, a date
            lies outside the declared year, or a date is both a rest day and a working day.
    """
    data = _load_toml(path)
    unknown = sorted(data.keys() - _KEYS)
    if unknown:
        raise InvalidInput(f"日历文件 {path}", unknown[0], f"未知的键，只允许 {', '.join(sorted(_KEYS))}")
    year = _year(path, data)
    rest = _days(path, data, "rest_days", year)
    work = _days(path, data, "workdays", year)
    both = rest & work
    if both:
        field = f"日历文件 {path} 的 rest_days/workdays"
        raise InvalidInput(field, min(both), "同一日期不能既放假又调休上班")
    return YearOverride(year=year, rest_days=rest, workdays=work)


def _override_files(calendars_dir: Path | None) -> list[Path]:
    """The ``*.toml`` files of the directory, sorted; none if it is None or missing."""
    if calendars_dir is None or not calendars_dir.exists():
        return []
    if not calendars_dir.is_dir():
        raise InvalidInput("日历目录", calendars_dir, "不是目录")
    return sorted(calendars_dir.glob("*.toml"))


def _load_toml(path: Path) -> dict[str, object]:
    """Parse the file, turning read and syntax errors into InvalidInput."""
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise InvalidInput("日历文件", path, f"无法读取：{exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput("日历文件", path, f"不是合法的 TOML：{exc}") from exc


def _year(path: Path, data: dict[str, object]) -> int:
    """The ``year`` key: a required integer."""
    year = _required(path, data, "year")
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2200:
        raise InvalidInput(f"日历文件 {path} 的 year", year, "须为四位年份整数，如 2027")
    return year


def _days(path: Path, data: dict[str, object], key: str, year: int) -> frozenset[datetime.date]:
    """A required list of dates and ranges, expanded, each checked to lie in ``year``."""
    items = _required(path, data, key)
    field = f"日历文件 {path} 的 {key}"
    if not isinstance(items, list):
        raise InvalidInput(field, items, '须为列表，如 ["2027-01-01", "2027-02-06..2027-02-13"]')
    days: set[datetime.date] = set()
    for item in items:
        days.update(_expand(field, item))
    outside = sorted(d for d in days if d.year != year)
    if outside:
        raise InvalidInput(field, outside[0], f"不在文件声明的年份 {year} 内")
    return frozenset(days)


def _expand(field: str, item: object) -> list[datetime.date]:
    """One list entry: a date (string or TOML date) or a ``"start..end"`` range, start <= end."""
    if isinstance(item, datetime.date) and not isinstance(item, datetime.datetime):
        return [item]
    if not isinstance(item, str):
        raise InvalidInput(field, item, "须为 YYYY-MM-DD 日期或 YYYY-MM-DD..YYYY-MM-DD 区间")
    start_text, sep, end_text = item.partition("..")
    start = _date(field, item, start_text)
    end = _date(field, item, end_text) if sep else start
    if end < start:
        raise InvalidInput(field, item, "区间的结束日期早于开始日期")
    return [start + datetime.timedelta(days=i) for i in range((end - start).days + 1)]


def _date(field: str, item: str, text: str) -> datetime.date:
    """A strict ``YYYY-MM-DD`` date; ``item`` is the whole entry, quoted in the error."""
    try:
        if _DATE.fullmatch(text):
            return datetime.date.fromisoformat(text)
    except ValueError:
        pass
    raise InvalidInput(field, item, "日期须为 YYYY-MM-DD 格式的有效日期")


def _required(path: Path, data: dict[str, object], key: str) -> object:
    """The value of a required key."""
    if key not in data:
        raise InvalidInput(f"日历文件 {path}", key, "缺少必填的键")
    return data[key]
