"""What a channel sends, and how it says it failed.

A channel turns an :class:`OutgoingMessage` into one delivery (a mail, a webhook POST, a console
line). Transport failures raise :class:`DeliveryError` marked permanent (do not retry: the
address or the content is refused) or temporary (retry later with backoff).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class DeliveryError(Exception):
    """A delivery failed.

    Attributes:
        permanent: True when retrying cannot help (5xx SMTP reply, 4xx HTTP except 429, bad address).
    """

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingMessage:
    """One rendered message for one recipient on one channel."""

    key: str
    """Idempotency key of this delivery; a retried send carries the same key (and Message-ID)."""
    to_name: str
    """Display name, e.g. 赵立新（医务科）."""
    to_address: str
    """E-mail address, webhook URL, or a label for the console."""
    subject: str
    text: str
    html: str | None = None


class Channel(Protocol):
    """A way to deliver messages. Implementations live in ``notifications/channels/``."""

    name: str

    async def send(self, message: OutgoingMessage) -> None:
        """Deliver ``message`` once or raise :class:`DeliveryError`."""
        ...
