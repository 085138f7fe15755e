"""Who may do what: every role against every action, deny by default."""

from __future__ import annotations

import pytest

from states.errors import PermissionDenied
from states.model import Item, ItemDepartment
from states.permissions import Actor, can_see, leads, refusal, require

MEDICAL, PHARMACY, TRANSFUSION = 1, 2, 3
ACTORS = {
    "office": Actor(id=1, username="jxb", name="王敏", role="office"),
    "admin": Actor(id=2, username="admin", name="管理员", role="admin"),
    "leader": Actor(id=3, username="fyz", name="张卫东", role="leader"),
    "lead_dept": Actor(id=4, username="ywk", name="赵立新", role="department", department_id=MEDICAL),
    "coop_dept": Actor(id=5, username="sxk", name="钱军", role="department", department_id=TRANSFUSION),
    "other_dept": Actor(id=6, username="yjk", name="周海", role="department", department_id=PHARMACY),
}
ALLOWED = {
    "assign": {"office", "admin"},
    "verify": {"office", "admin"},
    "reject": {"office", "admin"},
    "close": {"office", "admin"},
    "reopen": {"office", "admin"},
    "withdraw": {"office", "admin"},
    "file_measures": {"lead_dept"},
    "request_extension": {"lead_dept"},
    "decide_extension": {"office", "admin", "leader"},
    "create_notice": {"office", "admin"},
    "create_item": {"office", "admin"},
    "manage": {"admin"},
}


def _item() -> Item:
    return Item(
        departments=[
            ItemDepartment(department_id=MEDICAL, role="lead"),
            ItemDepartment(department_id=TRANSFUSION, role="cooperating"),
        ]
    )


@pytest.mark.parametrize("action", sorted(ALLOWED))
@pytest.mark.parametrize("who", sorted(ACTORS))
def test_role_matrix(who: str, action: str) -> None:
    allowed = who in ALLOWED[action]
    assert (refusal(ACTORS[who], action, lead=leads(ACTORS[who], _item())) is None) is allowed
    if not allowed:
        with pytest.raises(PermissionDenied) as exc:
            require(ACTORS[who], action, lead=leads(ACTORS[who], _item()))
        assert exc.value.actor == ACTORS[who].username and "无权" in str(exc.value)


def test_unknown_action_is_denied_for_everyone() -> None:
    assert all(refusal(a, "delete_everything") for a in ACTORS.values())


def test_department_outside_the_item_is_told_why() -> None:
    assert (
        refusal(ACTORS["coop_dept"], "file_measures", lead=leads(ACTORS["coop_dept"], _item()))
        == "只能办理本科室牵头的事项"
    )


@pytest.mark.parametrize(
    ("who", "sees"),
    [("office", True), ("leader", True), ("lead_dept", True), ("coop_dept", True), ("other_dept", False)],
)
def test_visibility(who: str, sees: bool) -> None:
    assert can_see(ACTORS[who], _item()) is sees
