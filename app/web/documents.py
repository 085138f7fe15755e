"""Documents served to the browser: rectification reports and closure records (销号单)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
