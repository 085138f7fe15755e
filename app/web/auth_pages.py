"""Log-in and log-out pages (登录 / 退出)."""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from app.web.deps import LOGIN_CSRF_COOKIE, SESSION_COOKIE, Web, db, page_user, runtime, safe_next, templates
from states import auth
from states.errors import Unauthenticated

router = APIRouter(include_in_schema=False)

#: Where each role lands after logging in.
HOME = {"office": "/ledger", "admin": "/ledger", "department": "/my", "leader": "/dashboard"}


def _login_form(request: Request, next_url: str, error: str | None = None, status: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = templates.TemplateResponse(
        request, "login.html", {"user": None, "next": next_url, "error": error, "login_csrf": token},
        status_code=status,
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=runtime(request).settings.cookie_secure)  # fmt: skip
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return _login_form(request, safe_next(next))


@router.post("/login")
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    csrf: str = Form(""),
    next: str = Form("/"),
    session: Session = Depends(db),
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, csrf):
        return _login_form(request, safe_next(next), "页面已过期，请重新登录", 403)
    app = runtime(request)
    try:
        done = auth.login(session, username, password, app.clock.now(), app.settings.session_hours)
    except Unauthenticated as exc:
        return _login_form(request, safe_next(next), str(exc), 401)
    target = safe_next(next)
    response = RedirectResponse(HOME.get(done.actor.role, "/") if target == "/" else target, status_code=303)
    response.set_cookie(SESSION_COOKIE, done.token, httponly=True, samesite="lax",
                        secure=app.settings.cookie_secure, max_age=app.settings.session_hours * 3600)  # fmt: skip
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, csrf: str = Form(""), web: Web = Depends(page_user)) -> Response:
    web.check_csrf(csrf)
    auth.logout(web.session, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
def home(web: Web = Depends(page_user)) -> Response:
    return RedirectResponse(HOME.get(web.actor.role, "/ledger"), status_code=303)
