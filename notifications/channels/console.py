"""Messages printed to a terminal (控制台渠道), for the demo and for trying a configuration."""

from __future__ import annotations

import sys
from typing import TextIO

from notifications.message import OutgoingMessage

RULE = "─" * 60


class ConsoleChannel:
    """Writes each message as a readable block: subject, recipient, text. Never raises DeliveryError.

    Args:
        stream: where to write; ``sys.stdout`` at the time of sending by default.
    """

    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def send(self, message: OutgoingMessage) -> None:
        """Write ``message`` to the stream."""
        stream = self._stream or sys.stdout
        stream.write(self.format(message))
        stream.flush()

    @staticmethod
    def format(message: OutgoingMessage) -> str:
        """The block written for ``message``."""
        to = (
            message.to_name
            if message.to_name == message.to_address
            else f"{message.to_name} <{message.to_address}>"
        )
        return f"{RULE}\n主题：{message.subject}\n收件：{to}\n\n{message.text.rstrip()}\n{RULE}\n"
