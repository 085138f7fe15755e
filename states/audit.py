"""The audit trail (办理记录) written with ORM changes, and the flush that detects lost races."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from states.errors import Conflict
from states.model import Item, ItemEvent
from states.permissions import Actor


def record(
    session: Session, item: Item, actor: Actor | None, now: dt.datetime, action: str, **kw: Any
) -> ItemEvent:
    """Add an event for ``item`` to the session (written by the caller's flush)."""
    event = ItemEvent(item_id=item.id, actor_id=actor.id if actor else None, at=now, action=action, **kw)
    session.add(event)
    return event


def flush(session: Session, item_id: int, action: str) -> None:
    """Flush; an item UPDATE that finds another version raises :class:`Conflict`."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict(item_id, action) from exc


def iso(d: dt.date | None) -> str | None:
    return None if d is None else d.isoformat()
