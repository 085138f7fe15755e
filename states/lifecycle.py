"""The item lifecycle (整改事项状态机), declared once as data.

``issued → assigned → measures_filed → verified → closed``, plus the named send-back edges
``reject`` (measures_filed → assigned) and ``reopen`` (closed → assigned, 回头看 found a relapse),
and ``withdraw`` from any open state to the terminal ``withdrawn`` (撤销).

One static :class:`transitions.Machine` serves every item (``model=None``): the service layer
fires ``MACHINE.events[action].trigger(subject)`` on a small subject object, so no per-item machine
is built and no model list grows. The table is checked when this module is imported
(:func:`check_table`), so a broken edit fails at start-up, not in production.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from transitions import Machine, MachineError

from states.errors import RectiflowError

STATES: tuple[str, ...] = ("issued", "assigned", "measures_filed", "verified", "closed", "withdrawn")
INITIAL = "issued"
FINAL: frozenset[str] = frozenset({"withdrawn"})
OPEN_STATES: frozenset[str] = frozenset({"issued", "assigned", "measures_filed", "verified"})
DONE_STATES: frozenset[str] = frozenset({"closed", "withdrawn"})

#: Actions that need a reason (退回、重新打开、撤销 must say why).
REASON_REQUIRED: frozenset[str] = frozenset({"reject", "reopen", "withdraw"})

TRANSITIONS: tuple[dict[str, Any], ...] = (
    {"trigger": "assign", "source": "issued", "dest": "assigned"},
    {"trigger": "file_measures", "source": "assigned", "dest": "measures_filed"},
    {"trigger": "verify", "source": "measures_filed", "dest": "verified"},
    {"trigger": "reject", "source": "measures_filed", "dest": "assigned"},
    {"trigger": "close", "source": "verified", "dest": "closed"},
    {"trigger": "reopen", "source": "closed", "dest": "assigned"},
    {"trigger": "withdraw", "source": sorted(OPEN_STATES), "dest": "withdrawn"},
)

ACTIONS: tuple[str, ...] = tuple(dict.fromkeys(str(t["trigger"]) for t in TRANSITIONS))

# transitions logs every trigger at INFO; the engine's own events are the audit trail.
logging.getLogger("transitions").setLevel(logging.WARNING)


@dataclass(slots=True)
class Subject:
    """What the machine moves: a state and nothing else.

    The service copies the item's state in, fires the trigger, and writes the result back
    inside its transaction together with the version bump and the event row.
    """

    state: str


MACHINE = Machine(
    model=None,
    states=list(STATES),
    transitions=[dict(t) for t in TRANSITIONS],
    initial=INITIAL,
    model_attribute="state",
    auto_transitions=False,
)


def sources(action: str) -> frozenset[str]:
    """States from which ``action`` is allowed.

    Args:
        action: a trigger name from :data:`ACTIONS`.

    Returns:
        The source states of every edge of that trigger (empty for an unknown action).
    """
    out: set[str] = set()
    for t in TRANSITIONS:
        if t["trigger"] == action:
            src = t["source"]
            out.update([src] if isinstance(src, str) else src)
    return frozenset(out)


def next_state(state: str, action: str) -> str | None:
    """Fire ``action`` on a subject in ``state`` and return the new state, or ``None`` if refused.

    Args:
        state: the current state.
        action: a trigger name.

    Returns:
        The destination state, or ``None`` when the machine has no such edge from ``state``.
    """
    event = MACHINE.events.get(action)
    if event is None:
        return None
    subject = Subject(state)
    try:
        event.trigger(subject)
    except MachineError:
        return None
    return subject.state


def _edges() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {s: set() for s in STATES}
    for t in TRANSITIONS:
        src = t["source"]
        for s in [src] if isinstance(src, str) else src:
            graph[str(s)].add(str(t["dest"]))
    return graph


class TableError(RectiflowError):
    """The transition table is inconsistent (raised at import, so a broken edit cannot start)."""


def _check(ok: bool, fault: str) -> None:
    if not ok:
        raise TableError(fault)


def check_table() -> None:
    """Check the transition table; raise :class:`TableError` naming the fault.

    Every state is reachable from the initial one, final states have no exits, every
    non-final state has an exit, and ``closed`` is left only by ``reopen``.
    """
    graph = _edges()
    seen, todo = {INITIAL}, [INITIAL]
    while todo:
        for nxt in graph[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    unreachable = set(STATES) - seen
    _check(not unreachable, f"unreachable states: {sorted(unreachable)}")
    for s in FINAL:
        _check(not graph[s], f"final state {s} has exits: {sorted(graph[s])}")
    traps = [s for s in STATES if s not in FINAL and not graph[s]]
    _check(not traps, f"non-final states without exits: {traps}")
    leaving_closed = {a for a in ACTIONS if "closed" in sources(a)}
    _check(leaving_closed == {"reopen"}, f"closed is left by {sorted(leaving_closed)}")


check_table()
