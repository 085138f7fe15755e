"""Builds what the interfaces need from the settings: engine, sessions, calendar, clock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import config
from app.clock import Clock, FixedClock, SystemClock
from states.calendar_files import load_calendar
from states.service import Env
from states.store import make_engine, session_factory


@dataclass(frozen=True, slots=True, kw_only=True)
class App:
    settings: config.Settings
    engine: Engine
    sessions: sessionmaker[Session]
    env: Env
    clock: Clock

    def today(self) -> dt.date:
        return self.env.local_date(self.clock.now())


def bootstrap(
    settings: config.Settings | None = None, *, database_url: str | None = None, today: dt.date | None = None
) -> App:
    """Create the engine, session factory, calendar and clock once, for one process.

    Args:
        settings: parsed settings (:func:`config.load` by default).
        database_url: overrides the settings' database URL.
        today: pins the clock to this day (the injected clock); the wall clock otherwise.
    """
    settings = settings or config.load()
    engine = make_engine(database_url or settings.database_url)
    env = Env(calendar=load_calendar(settings.calendars_dir), tz=settings.timezone)
    clock: Clock = FixedClock(today, settings.timezone) if today else SystemClock()
    return App(settings=settings, engine=engine, sessions=session_factory(engine), env=env, clock=clock)
