"""The web app for ``uvicorn --factory`` (``rectiflow serve --workers N``): each worker process builds
its own runtime from the environment (``RECTIFLOW_DATABASE_URL``, ``RECTIFLOW_TODAY``, ``RECTIFLOW_CONFIG_DIR``)."""

from __future__ import annotations

import datetime as dt
import os

from fastapi import FastAPI

from app.web import create_app
from flows.runtime import bootstrap


def app_from_env() -> FastAPI:
    today = os.environ.get("RECTIFLOW_TODAY")
    return create_app(bootstrap(today=dt.date.fromisoformat(today) if today else None))
