"""The web app under test: a runtime on the test's database with a clock the test moves, served
by a real uvicorn server on 127.0.0.1 (a thread that stops with the fixture)."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import uvicorn
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

import config
from app.web import create_app
from flows.clock import OFFICE_HOUR
from flows.runtime import App, bootstrap
from states import auth
from states.model import User
from states.store import session_factory
from tests.factories import Org

#: The password every test user gets (see :func:`give_passwords`).
PASSWORD = "test-password-1"


@dataclass(slots=True)
class MovableClock:
    """The injected clock of a web test: a day at 09:00 local time, moved by the test."""

    today: dt.date
    tz: ZoneInfo
    at: dt.time = OFFICE_HOUR

    def now(self) -> dt.datetime:
        return dt.datetime.combine(self.today, self.at, tzinfo=self.tz).astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class WebTest:
    """A served web app: its runtime (database, clock), base URL and organisation."""

    runtime: App
    base: str
    org: Org
    clock: MovableClock

    @contextmanager
    def client(self, username: str | None = None) -> Iterator[httpx.Client]:
        """A browser-like client (cookies kept, redirects followed), logged in as ``username`` when given."""
        with httpx.Client(base_url=self.base, follow_redirects=True, timeout=30) as client:
            if username:
                response = login(client, username)
                assert response.status_code == 303, response.text
            yield client

    def api(self, token: str) -> httpx.Client:
        """An API client sending ``token`` as a Bearer token (use it in a ``with`` block)."""
        return httpx.Client(base_url=self.base + "/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def web_runtime(engine: Engine, tmp_path: Path, today: dt.date) -> App:
    """A runtime on ``engine``: evidence and reports under ``tmp_path``, the clock at ``today``."""
    settings = replace(config.load(), evidence_dir=tmp_path / "evidence", reports_dir=tmp_path / "reports",
                       database_url=engine.url.render_as_string(hide_password=False))  # fmt: skip
    app = bootstrap(settings, today=today)
    app.engine.dispose()
    return replace(app, engine=engine, sessions=session_factory(engine),
                   clock=MovableClock(today, settings.timezone))  # fmt: skip


def give_passwords(session: Session, password: str = PASSWORD) -> None:
    """Every user can log in with ``password`` (hashed once, cheaply: tests need no slow hash)."""
    session.execute(update(User).values(password_hash=auth.hash_password(password, n=2**10)))
    session.commit()


@contextmanager
def live_server(runtime: App) -> Iterator[str]:
    """Serve the web app on a free port of 127.0.0.1; yields its base URL and stops on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY then works
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(runtime), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        if server.started:
            break
        threading.Event().wait(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def login(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    """Log a browser-like client in through the form (CSRF cookie included)."""
    client.get("/login")
    return client.post("/login", data={"username": username, "password": password, "next": "/",
                                       "csrf": client.cookies.get("rf_login_csrf", "")},
                       follow_redirects=False)  # fmt: skip
