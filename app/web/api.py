"""The JSON API (/api/v1): token authentication, the same services and permission rules as the CLI."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
