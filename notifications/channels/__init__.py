"""Delivery channels, one per module: e-mail (SMTP), webhooks (WeCom, DingTalk, JSON), console.

Each implements :class:`notifications.message.Channel` and classifies its own failures as
:class:`~notifications.message.DeliveryError` (permanent or temporary).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from notifications.channels.console import ConsoleChannel
from notifications.channels.email import EmailChannel
from notifications.channels.webhook import WebhookChannel
from notifications.message import Channel, DeliveryError
from notifications.settings import NotificationSettings

__all__ = ["ConsoleChannel", "EmailChannel", "WebhookChannel", "channel_factories"]


def channel_factories(
    settings: NotificationSettings, *, console: TextIO | None = None
) -> dict[str, Callable[[str], Channel]]:
    """Channel name → the channel for an address, built once per dispatcher.

    E-mail and console serve every address; a webhook address is a department name, whose group
    robot comes from ``[webhooks."科室"]`` (none configured: a permanent delivery error).
    """
    email, printer = EmailChannel(settings.smtp), ConsoleChannel(console)

    def webhook(department: str) -> Channel:
        robot = settings.webhooks.get(department)
        if robot is None:
            raise DeliveryError(
                f"科室「{department}」未配置群机器人（config/notifications.toml）", permanent=True
            )
        return WebhookChannel(robot)

    return {"email": lambda _address: email, "console": lambda _address: printer, "webhook": webhook}
