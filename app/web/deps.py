"""What every web page and API call needs: the runtime, a database session, the logged-in actor,
the CSRF check, and the mapping of engine errors to HTTP statuses (one place for all routes)."""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from flows.runtime import App
from states import auth
from states.errors import (
    ACTION_LABELS,
    STATE_LABELS,
    Conflict,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    RectiflowError,
    Unauthenticated,
)
from states.model import ROLE_LABELS
from states.permissions import Actor
from states.queries import LIGHT_LABELS

SESSION_COOKIE = "rf_session"
LOGIN_CSRF_COOKIE = "rf_login_csrf"
TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

#: Engine error → HTTP status (the API answers these as JSON, pages as an error page).
STATUS: tuple[tuple[type[RectiflowError], int], ...] = (
    (Unauthenticated, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (Conflict, 409),
    (InvalidTransition, 409),
    (InvalidInput, 400),
)

templates = Jinja2Templates(directory=TEMPLATES)
templates.env.globals.update(STATE_LABELS=STATE_LABELS, ACTION_LABELS=ACTION_LABELS, ROLE_LABELS=ROLE_LABELS,
                             LIGHT_LABELS=LIGHT_LABELS)  # fmt: skip


def status_of(exc: RectiflowError) -> int:
    return next((code for cls, code in STATUS if isinstance(exc, cls)), 400)


def error_code(exc: RectiflowError) -> str:
    """A stable machine-readable name: ``conflict``, ``not_found``, ``invalid_transition`` …"""
    return {401: "unauthenticated", 403: "forbidden", 404: "not_found", 400: "invalid_input"}.get(
        status_of(exc), "invalid_transition" if isinstance(exc, InvalidTransition) else "conflict"
    )


class LoginRequired(Exception):
    """A page was asked for without a live session: the handler redirects to the log-in page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def runtime(request: Request) -> App:
    return request.app.state.runtime  # type: ignore[no-any-return]


def db(request: Request) -> Iterator[Session]:
    with runtime(request).sessions() as session:
        yield session


@dataclass(frozen=True, slots=True, kw_only=True)
class Api:
    """One API request: the token's actor and the clock read once."""

    runtime: App
    session: Session
    actor: Actor
    now: dt.datetime

    @property
    def today(self) -> dt.date:
        return self.runtime.env.local_date(self.now)


@dataclass(frozen=True, slots=True, kw_only=True)
class Web(Api):
    """One page request: an :class:`Api` context plus the request and the session's form token."""

    request: Request
    csrf: str

    def check_csrf(self, token: str | None) -> None:
        """Refuse a form post whose CSRF token is not this session's."""
        if not token or not hmac.compare_digest(token, self.csrf):
            raise PermissionDenied(self.actor.username, "submit", "表单已过期或来源不明，请刷新页面后重试")

    def render(self, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(
            self.request, name, {"user": self.actor, "csrf": self.csrf, "today": self.today, **context},
            status_code=status_code,
        )


def page_user(request: Request, session: Session = Depends(db)) -> Web:
    """The logged-in web user; a page asked for without a session redirects to ``/login``."""
    app = runtime(request)
    now = app.clock.now()
    found = auth.session_actor(session, request.cookies.get(SESSION_COOKIE), now)
    if found is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return Web(request=request, runtime=app, session=session, actor=found[0], csrf=found[1], now=now)


def api_user(request: Request, session: Session = Depends(db)) -> Api:
    """The API caller, from ``Authorization: Bearer <token>``; 401 otherwise."""
    app = runtime(request)
    now = app.clock.now()
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    actor = auth.token_actor(session, token.strip() if scheme.lower() == "bearer" else None, now)
    return Api(runtime=app, session=session, actor=actor, now=now)


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_json(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status, headers=headers)


def error_page(request: Request, status: int, message: str) -> Response:
    """The error page, with the nav bar of whoever is logged in (the handler gets no ``Web`` context)."""
    app = runtime(request)
    with app.sessions() as session:
        found = auth.session_actor(session, request.cookies.get(SESSION_COOKIE), app.clock.now())
    user, csrf = found if found is not None else (None, "")
    return templates.TemplateResponse(request, "error.html", {"user": user, "csrf": csrf, "message": message,
                                                              "status": status}, status_code=status)  # fmt: skip


def login_redirect(next_url: str) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(next_url, safe='')}", status_code=303)


def safe_next(value: str | None) -> str:
    """Only a local path may follow the log-in (no open redirect to another site)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"
