"""Shared fixtures: the calendar, real stores (SQLite file; PostgreSQL when configured), an organisation.

PostgreSQL tests run when ``RECTIFLOW_TEST_PG_URL`` is set (``.ci/run`` sets it and fails on
their skips); each test gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from states.calendar import WorkingCalendar
from states.service import Env
from states.store import make_engine, normalize_url, session_factory, upgrade
from tests.factories import Org, build_org
from tests.servers import smtp, start_smtp  # noqa: F401  (fixtures)
from tests.web_support import WebTest, give_passwords, live_server, web_runtime

PG_URL = os.environ.get("RECTIFLOW_TEST_PG_URL")
PG_SKIP = (
    "PostgreSQL not configured: set RECTIFLOW_TEST_PG_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)"
)

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def calendar() -> WorkingCalendar:
    return WorkingCalendar.official()


@pytest.fixture
def env(calendar: WorkingCalendar) -> Env:
    return Env(calendar=calendar)


@contextmanager
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema for one test; yields a URL whose connections use it, then drops it."""
    assert PG_URL
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(PG_URL))
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield normalize_url(PG_URL) + ("&" if "?" in PG_URL else "?") + f"options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def bare_engine(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Engine]:
    """An empty database of each backend (no schema yet)."""
    if request.param == "sqlite":
        engine = make_engine(f"{tmp_path}/rectiflow.db")
        yield engine
    else:
        if not PG_URL:
            pytest.skip(PG_SKIP)
        with pg_schema() as url:
            engine = make_engine(url)
            yield engine
            engine.dispose()
    assert engine.pool.checkedout() == 0, "a test leaked a connection"  # type: ignore[attr-defined]
    engine.dispose()


@pytest.fixture
def engine(bare_engine: Engine) -> Engine:
    """A migrated database of each backend."""
    upgrade(bare_engine)
    return bare_engine


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as s:
        yield s


@pytest.fixture
def org(session: Session) -> Org:
    return build_org(session)


@pytest.fixture
def web(engine: Engine, session: Session, org: Org, tmp_path: Path) -> Iterator[WebTest]:
    """The web app on a real uvicorn server over the test's database, with ``org``'s users able to log in."""
    give_passwords(session)
    runtime = web_runtime(engine, tmp_path, dt.date(2026, 9, 15))
    with live_server(runtime) as base:
        yield WebTest(runtime=runtime, base=base, org=org, clock=runtime.clock)  # type: ignore[arg-type]


@pytest.fixture
def now() -> dt.datetime:
    """09:00 Beijing time on 2026-09-15, the day the demo notice arrives."""
    return dt.datetime(2026, 9, 15, 1, 0, tzinfo=dt.UTC)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """In CI a skipped PostgreSQL test (``RECTIFLOW_REQUIRE_PG=1``) or browser test
    (``RECTIFLOW_REQUIRE_BROWSER=1``) is a failure."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    for marker, variable in (("postgres", "RECTIFLOW_REQUIRE_PG"), ("browser", "RECTIFLOW_REQUIRE_BROWSER")):
        if report.skipped and os.environ.get(variable) == "1" and item.get_closest_marker(marker):
            report.outcome = "failed"
            report.longrepr = f"{marker} test skipped although {variable}=1: {report.longrepr}"
