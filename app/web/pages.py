"""Office and department pages: ledger (台账), notices, import, items and their actions, extensions."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
