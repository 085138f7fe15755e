"""Two transitions racing on one item over real, separate connections: one wins, the other gets
a conflict, and nothing half-written remains."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from states import service
from states.errors import Conflict
from states.model import ItemEvent
from states.service import Env
from tests.factories import Org, build_org, drive, item


def _race(sessions: sessionmaker[Session], calls: list[Callable[[Session], object]]) -> list[object]:
    """Each call gets its own session and connection; both start writing at the same moment."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(k: int) -> None:
        with sessions() as s:
            s.connection()  # each side holds its own connection before the start
            barrier.wait()
            try:
                results[k] = calls[k](s)
            except Exception as exc:  # the loser's error is the result under test
                results[k] = exc

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_verify_and_withdraw_race(sessions: sessionmaker[Session], env: Env, now: dt.datetime) -> None:
    with sessions() as s:
        o: Org = build_org(s)
        it = item(s, env, o, now)
        assert it.id == 1
        drive(s, env, o, it.id, "measures_filed", now)
        version = it.version
    # Both users opened the item at the same version, as a form would submit it.
    results = _race(sessions, [
        lambda s: service.verify(s, env, 1, o.office, now, expected_version=version),
        lambda s: service.withdraw(s, env, 1, o.office, now, reason="重复登记", expected_version=version),
    ])  # fmt: skip
    conflicts = [r for r in results if isinstance(r, Conflict)]
    winners = [r for r in results if not isinstance(r, Exception)]
    assert (len(winners), len(conflicts)) == (1, 1), results
    with sessions() as s:
        final = service.get_item(s, 1)
        assert final.version == version + 1
        assert final.state in ("verified", "withdrawn")
        actions = s.scalars(
            select(ItemEvent.action).where(ItemEvent.item_id == 1).order_by(ItemEvent.id)
        ).all()
        assert actions[-1] == {"verified": "verify", "withdrawn": "withdraw"}[final.state]
        assert s.scalar(select(func.count(ItemEvent.id)).where(ItemEvent.item_id == 1)) == 4


def test_same_action_twice_applies_once(sessions: sessionmaker[Session], env: Env, now: dt.datetime) -> None:
    with sessions() as s:
        o = build_org(s)
        item(s, env, o, now)
    # Without a version from a form, the loser sees a conflict or, if it read after the winner
    # committed, a refused transition; either way exactly one assignment is written.
    results = _race(sessions, [lambda s: service.assign(s, env, 1, o.office, now)] * 2)
    assert sorted(type(r).__name__ for r in results) in (
        ["Conflict", "Transition"],
        ["InvalidTransition", "Transition"],
    )
    with sessions() as s:
        assert s.scalars(select(ItemEvent.action).where(ItemEvent.item_id == 1)).all() == ["create", "assign"]
