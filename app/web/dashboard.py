"""The leader's dashboard (督办看板) and its data endpoint."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
