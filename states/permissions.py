"""Who may do what (权限). Deny by default: an action not listed for a role is refused.

Department members act only on items their department leads (file measures, ask for an
extension); the supervision office assigns, verifies, sends back, closes, reopens and withdraws;
leaders and the office decide extensions; admins manage the organisation and may do what the
office does.
"""

from __future__ import annotations

from dataclasses import dataclass

from states.errors import PermissionDenied
from states.model import Item

OFFICE = frozenset({"office", "admin"})

#: action -> roles allowed to take it (before the department check).
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "assign": OFFICE,
    "verify": OFFICE,
    "reject": OFFICE,
    "close": OFFICE,
    "reopen": OFFICE,
    "withdraw": OFFICE,
    "file_measures": frozenset({"department"}),
    "request_extension": frozenset({"department"}),
    "decide_extension": frozenset({"office", "leader", "admin"}),
    "create_notice": OFFICE,
    "create_item": OFFICE,
    "recompute_deadlines": OFFICE,
    "manage": frozenset({"admin"}),
    # 考核评分 (states.assessment): a department files its indicators' results, the office decides.
    "file_result": frozenset({"department"}),
    "verify_result": OFFICE,
    "reject_result": OFFICE,
    "record_assessment": OFFICE,
    "revoke_assessment": OFFICE,
    "compute_scores": OFFICE,
}

#: actions a department member may take only on items its department leads.
OWN_DEPARTMENT_ACTIONS = frozenset({"file_measures", "request_extension"})

#: ``reader`` is the local console without ``--as``: it sees everything and may do nothing.
ROLES_SEEING_ALL = frozenset({"office", "leader", "admin", "reader"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """The acting user, resolved once at the edge (CLI, API, flow)."""

    id: int
    username: str
    name: str
    role: str
    department_id: int | None = None


def refusal(actor: Actor, action: str, *, lead: bool = False) -> str | None:
    """Why ``actor`` may not take ``action``, or ``None`` when allowed.

    Args:
        actor: the acting user.
        action: an action name from :data:`ROLE_ACTIONS`.
        lead: whether the actor's department leads the item acted on (see :func:`leads`);
            department-bound actions are refused without it.

    Returns:
        A Chinese reason, or ``None``.
    """
    if actor.role not in ROLE_ACTIONS.get(action, frozenset()):
        return "角色无此权限"
    if action in OWN_DEPARTMENT_ACTIONS and not lead:
        return "只能办理本科室牵头的事项"
    return None


def require(actor: Actor, action: str, *, lead: bool = False) -> None:
    """Raise :class:`PermissionDenied` unless ``actor`` may take ``action``."""
    reason = refusal(actor, action, lead=lead)
    if reason is not None:
        raise PermissionDenied(actor.username, action, reason)


def leads(actor: Actor, item: Item) -> bool:
    """True when the actor's department is a lead department of the item."""
    return any(d.department_id == actor.department_id and d.role == "lead" for d in item.departments)


def can_see(actor: Actor, item: Item) -> bool:
    """Office, leaders and admins see every item; a department sees items it leads or helps with."""
    if actor.role in ROLES_SEEING_ALL:
        return True
    return any(d.department_id == actor.department_id for d in item.departments)


CONSOLE_READER = Actor(id=0, username="console", name="本机控制台", role="reader")
