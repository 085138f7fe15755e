"""The web app (网页与接口): server-rendered Chinese pages for the office, departments and leaders,
and the JSON API under ``/api/v1``. Every change goes through the service functions in ``states``.

Everything is served by the app itself (styles, charts as server-side SVG): institution intranets
have no internet.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from app.web import api, auth_pages, dashboard, documents, pages, scores
from app.web.deps import (
    STATIC,
    LoginRequired,
    error_code,
    error_json,
    error_page,
    is_api,
    login_redirect,
    status_of,
)
from flows.runtime import App
from states.errors import RectiflowError

logger = logging.getLogger(__name__)
HTTP_MESSAGES = {404: "页面或资源不存在", 405: "不支持该请求方法", 413: "上传内容过大"}


def create_app(runtime: App) -> FastAPI:
    """The ASGI app for one process's runtime (engine, calendar, clock)."""
    web = FastAPI(title="rectiflow 整改督办系统接口", version="1", docs_url="/api/docs",
                  openapi_url="/api/openapi.json", redoc_url=None)  # fmt: skip
    web.state.runtime = runtime
    web.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in _routers():
        web.include_router(router)
    for cls, handler in HANDLERS:
        web.add_exception_handler(cls, handler)
    return web


async def _login(request: Request, exc: Exception) -> Response:
    if is_api(request):
        return error_json(401, "unauthenticated", "未登录")
    assert isinstance(exc, LoginRequired)
    return login_redirect(exc.next_url)


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RectiflowError)
    status = status_of(exc)
    if is_api(request):
        return error_json(status, error_code(exc), str(exc))
    return error_page(request, status, str(exc))


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    own = isinstance(exc.detail, str) and exc.status_code not in HTTP_MESSAGES
    message = exc.detail if own else HTTP_MESSAGES.get(exc.status_code, str(exc.detail))
    if is_api(request):
        return error_json(exc.status_code, "http_error", message)
    return error_page(request, exc.status_code, message)


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [f"{'.'.join(str(p) for p in e['loc'][1:]) or e['loc'][0]}：{e['msg']}" for e in exc.errors()]
    message = "请求参数有误：" + "；".join(problems)
    if is_api(request):
        return error_json(400, "invalid_input", message)
    return error_page(request, 400, message)


async def _unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    message = "服务器内部错误，请稍后重试或联系管理员"
    return error_json(500, "internal_error", message) if is_api(request) else error_page(request, 500, message)


#: Every error a route may raise, and how it is answered (JSON on /api/, a page elsewhere).
HANDLERS = ((LoginRequired, _login), (RectiflowError, _refused), (HTTPException, _http),
            (RequestValidationError, _invalid), (Exception, _unexpected))  # fmt: skip


def _routers() -> list:  # type: ignore[type-arg]
    """Every router of the app: log-in, the pages of each role, the API."""
    return [auth_pages.router, pages.router, dashboard.router, scores.router, documents.router, api.router]
