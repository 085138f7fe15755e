"""The transition table itself, and every (state, action) pair against it."""

from __future__ import annotations

import itertools

import pytest

from states import lifecycle
from states.lifecycle import ACTIONS, STATES, next_state

EXPECTED = {
    ("issued", "assign"): "assigned",
    ("assigned", "file_measures"): "measures_filed",
    ("measures_filed", "verify"): "verified",
    ("measures_filed", "reject"): "assigned",
    ("verified", "close"): "closed",
    ("closed", "reopen"): "assigned",
    **{(s, "withdraw"): "withdrawn" for s in ("issued", "assigned", "measures_filed", "verified")},
}


@pytest.mark.parametrize(("state", "action"), list(itertools.product(STATES, ACTIONS)), ids=lambda v: str(v))
def test_every_pair_follows_the_table(state: str, action: str) -> None:
    assert next_state(state, action) == EXPECTED.get((state, action))


def test_table_checks_pass() -> None:
    lifecycle.check_table()


def test_withdrawn_is_terminal_and_closed_only_reopens() -> None:
    assert [a for a in ACTIONS if next_state("withdrawn", a)] == []
    assert [a for a in ACTIONS if next_state("closed", a)] == ["reopen"]


def test_a_broken_table_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tuple(t for t in lifecycle.TRANSITIONS if t["trigger"] != "reopen") + (
        {"trigger": "close", "source": "closed", "dest": "withdrawn"},
    )
    monkeypatch.setattr(lifecycle, "TRANSITIONS", broken)
    with pytest.raises(lifecycle.TableError, match="closed is left by"):
        lifecycle.check_table()


def test_unknown_action_is_refused() -> None:
    assert next_state("issued", "approve_everything") is None


def test_one_machine_serves_all_items() -> None:
    assert lifecycle.MACHINE.models == []
    for _ in range(3):
        next_state("issued", "assign")
    assert lifecycle.MACHINE.models == []
