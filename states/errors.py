"""Errors raised by the domain core.

Every error is a :class:`RectiflowError`, subclasses the builtin that fits, keeps the facts as
attributes and builds its Chinese, user-facing message in ``__init__``.
"""

from __future__ import annotations

STATE_LABELS = {
    "issued": "已下发",
    "assigned": "已交办",
    "measures_filed": "已提交措施",
    "verified": "已核验",
    "closed": "已销号",
    "withdrawn": "已撤销",
}

ACTION_LABELS = {
    "assign": "交办",
    "file_measures": "提交整改措施",
    "verify": "核验通过",
    "reject": "退回",
    "close": "销号",
    "reopen": "重新打开",
    "withdraw": "撤销",
    "request_extension": "申请延期",
    "decide_extension": "审批延期",
    "create_item": "登记事项",
    "create_notice": "登记通报",
    "manage": "维护组织架构",
    "view_dashboard": "查看督办看板",
    "file_result": "填报考核结果",
    "verify_result": "核验考核结果",
    "reject_result": "退回考核结果",
    "record_assessment": "登记加分或否决事项",
    "revoke_assessment": "撤销加分或否决事项",
    "compute_scores": "计算并保存考核评分",
    "view_scores": "查看考核评分",
}


class RectiflowError(Exception):
    """Base of every error the engine raises on purpose."""


class InvalidInput(RectiflowError, ValueError):
    """A value given by the user cannot be used.

    Attributes:
        field: the name of the input, as the user typed it.
        value: the rejected value.
    """

    def __init__(self, field: str, value: object, why: str) -> None:
        self.field, self.value, self.why = field, value, why
        super().__init__(f"{field}「{value}」无效：{why}")


class NotFound(RectiflowError, LookupError):
    """A referenced record does not exist.

    Attributes:
        kind: what was looked up, in Chinese (事项, 通报, 科室, 用户 …).
        key: the id or name that was not found.
    """

    def __init__(self, kind: str, key: object) -> None:
        self.kind, self.key = kind, key
        super().__init__(f"{kind}「{key}」不存在")


class ItemNotFound(NotFound):
    def __init__(self, item_id: object) -> None:
        super().__init__("事项", item_id)


class InvalidTransition(RectiflowError):
    """An action is not allowed from the item's current state, or a guard refused it.

    Attributes:
        item_id: the item.
        state: its current state.
        action: the refused action.
        reason: why, when a guard said so.
    """

    def __init__(self, item_id: object, state: str, action: str, reason: str | None = None) -> None:
        self.item_id, self.state, self.action, self.reason = item_id, state, action, reason
        why = reason or "当前状态不允许此操作"
        super().__init__(
            f"事项 {item_id} 当前为「{STATE_LABELS.get(state, state)}」，"
            f"不能「{ACTION_LABELS.get(action, action)}」：{why}"
        )


class PermissionDenied(RectiflowError, PermissionError):
    """The acting user may not do this.

    Attributes:
        actor: the username.
        action: the refused action.
        reason: why.
    """

    def __init__(self, actor: str, action: str, reason: str) -> None:
        self.actor, self.action, self.reason = actor, action, reason
        super().__init__(f"用户 {actor} 无权「{ACTION_LABELS.get(action, action)}」：{reason}")


class Conflict(RectiflowError):
    """Someone else changed the item (or another record, named by ``subject``) first; nothing was
    written.

    Attributes:
        item_id: the item, or the record's identifier.
        action: the action that lost the race.
    """

    def __init__(self, item_id: object, action: str, *, subject: str | None = None) -> None:
        self.item_id, self.action = item_id, action
        label = ACTION_LABELS.get(action, action)
        what = subject or f"事项 {item_id}"
        super().__init__(f"{what} 已被他人同时修改，本次「{label}」未生效，请刷新后重试")


class Unauthenticated(RectiflowError):
    """No valid log-in: wrong password, no session, an unknown or revoked token."""

    def __init__(self, why: str) -> None:
        self.why = why
        super().__init__(why)
