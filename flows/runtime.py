"""Builds, once per process, what every entry point needs: engine, sessions, calendar, policy,
clock, and (on demand) the dispatcher with its channels."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, replace
from typing import IO

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import config
from flows.clock import Clock, FixedClock, SystemClock
from notifications.channels import channel_factories
from notifications.dispatch import Dispatcher
from notifications.render import Renderer
from notifications.settings import load_notification_settings
from states.calendar_files import load_calendar
from states.escalation import Policy
from states.service import Env
from states.store import make_engine, session_factory


@dataclass(frozen=True, slots=True, kw_only=True)
class App:
    """One process's engine, sessions, calendar, policy and clock."""

    settings: config.Settings
    engine: Engine
    sessions: sessionmaker[Session]
    env: Env
    policy: Policy
    clock: Clock

    def today(self) -> dt.date:
        return self.env.local_date(self.clock.now())

    def dispatcher(self, *, console: IO[str] | None = None) -> Dispatcher:
        """A dispatcher with the channels of ``config/notifications.toml`` and the environment."""
        return build_dispatcher(self, console=console)


def bootstrap(
    settings: config.Settings | None = None,
    *,
    database_url: str | None = None,
    today: dt.date | None = None,
    channels: tuple[str, ...] | None = None,
) -> App:
    """Create the engine, session factory, calendar, policy and clock once, for one process.

    Args:
        settings: parsed settings (:func:`config.load` by default).
        database_url: overrides the settings' database URL.
        today: pins the clock to this day (the injected clock); the wall clock otherwise.
        channels: overrides the policy's channels (the demo uses the console).
    """
    settings = settings or config.load()
    policy = config.load_policy(settings)
    if channels is not None:
        policy = replace(policy, delivery=replace(policy.delivery, channels=channels))
    engine = make_engine(database_url or settings.database_url)
    env = Env(calendar=load_calendar(settings.calendars_dir), tz=settings.timezone, delivery=policy.delivery)
    clock: Clock = FixedClock(today, settings.timezone) if today else SystemClock()
    return App(settings=settings, engine=engine, sessions=session_factory(engine), env=env, policy=policy,
               clock=clock)  # fmt: skip


def build_dispatcher(app: App, *, console: IO[str] | None = None) -> Dispatcher:
    ns = load_notification_settings(app.settings.config_dir / "notifications.toml", dict(os.environ))
    return Dispatcher(app.engine, channel_factories(ns, console=console),
                      Renderer(app.settings.config_dir / "templates" / "messages"), app.env.calendar, app.policy)  # fmt: skip
