"""Benchmark: N-th working day after a date, WorkingCalendar vs a loop over chinese_calendar.

Usage (from the repository root)::

    python bench/workdays.py [--n 100000] [--seed 20251123]

Both sides answer the same random (start, N) pairs, start uniform in 2020-01-01..2026-12-31 and
N in 1..30; every answer must agree. The last line printed is ``speedup: X``.
"""

from __future__ import annotations

import argparse
import datetime
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import chinese_calendar  # noqa: E402

from states.calendar import WorkingCalendar  # noqa: E402

FIRST, LAST = datetime.date(2020, 1, 1), datetime.date(2026, 12, 31)
ONE_DAY = datetime.timedelta(days=1)

Case = tuple[datetime.date, int]
T = TypeVar("T")


def make_cases(count: int, seed: int) -> list[Case]:
    """Random (start, N) pairs, reproducible from ``seed``."""
    rng = random.Random(seed)
    span = LAST.toordinal() - FIRST.toordinal()
    return [
        (datetime.date.fromordinal(FIRST.toordinal() + rng.randint(0, span)), rng.randint(1, 30))
        for _ in range(count)
    ]


def baseline_is_workday(d: datetime.date) -> bool:
    """chinese_calendar's answer; Monday–Friday where it has no data (as the engine does)."""
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:
        return d.weekday() < 5


def baseline(cases: list[Case]) -> list[datetime.date]:
    """The straightforward day-by-day loop."""
    results = []
    for start, n in cases:
        d, k = start, 0
        while k < n:
            d += ONE_DAY
            if baseline_is_workday(d):
                k += 1
        results.append(d)
    return results


def engine(cal: WorkingCalendar, cases: list[Case]) -> list[datetime.date]:
    """WorkingCalendar.add_workdays for each case."""
    return [cal.add_workdays(start, n).date for start, n in cases]


def timed(fn: Callable[..., T], *args: object) -> tuple[T, float]:
    """(result, seconds) of fn(*args)."""
    t0 = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - t0


def report_mismatches(cases: list[Case], got: list[datetime.date], want: list[datetime.date]) -> int:
    """Print up to 10 disagreements; return how many there are."""
    bad = [(c, g, w) for c, g, w in zip(cases, got, want, strict=True) if g != w]
    for (start, n), g, w in bad[:10]:
        print(f"MISMATCH start={start} n={n}: engine={g} baseline={w}")
    return len(bad)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="number of deadlines (default 100000)")
    parser.add_argument("--seed", type=int, default=20251123, help="random seed (default 20251123)")
    args = parser.parse_args()
    cases = make_cases(args.n, args.seed)
    cal, build_s = timed(WorkingCalendar.official)
    got, engine_s = timed(engine, cal, cases)
    want, baseline_s = timed(baseline, cases)
    if report_mismatches(cases, got, want):
        return 1
    engine_total = build_s + engine_s
    print(f"deadlines: {args.n} (seed {args.seed}), all agree")
    print(f"engine build: {build_s * 1000:.1f} ms")
    print(f"engine queries: {engine_s * 1000:.1f} ms, {args.n / engine_s:,.0f} deadlines/s")
    print(f"engine incl. build: {engine_total * 1000:.1f} ms, {args.n / engine_total:,.0f} deadlines/s")
    print(f"baseline: {baseline_s * 1000:.1f} ms, {args.n / baseline_s:,.0f} deadlines/s")
    print(f"speedup: {baseline_s / engine_total:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
