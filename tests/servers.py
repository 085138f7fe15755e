"""Real servers on 127.0.0.1 for tests: an aiosmtpd mail server that records what it accepts."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from notifications.channels import EmailChannel
from notifications.settings import SmtpSettings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- SMTP -----------------------------------------------------------------------------------------


class Recorder:
    """An aiosmtpd handler keeping every accepted envelope; it can answer a set reply instead."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None
        self.delay = 0.0
        """Seconds to wait before accepting each mail (a slow relay)."""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply:
            return self.data_reply
        if self.delay:
            await asyncio.sleep(self.delay)
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def received(self) -> list[EmailMessage]:
        """The accepted mails, parsed; lines end in LF as in a mailbox (SMTP carries CRLF)."""
        data = [e.content.replace(b"\r\n", b"\n") for e in self.envelopes]
        return [email.message_from_bytes(d, policy=email.policy.default) for d in data]

    def received_utf8(self) -> list[EmailMessage]:
        """The accepted mails, for SMTPUTF8 messages whose headers are raw UTF-8 (RFC 6532)."""
        data = [e.content.decode("utf-8").replace("\r\n", "\n") for e in self.envelopes]
        return [email.message_from_string(d, policy=email.policy.default) for d in data]


@dataclass
class SmtpServer:
    handler: Recorder
    port: int

    def channel(self, **overrides: Any) -> EmailChannel:
        fields = {"host": "127.0.0.1", "port": self.port, "timeout": 5.0, **overrides}
        return EmailChannel(SmtpSettings(**fields))


@pytest.fixture
def start_smtp(request: pytest.FixtureRequest) -> Callable[..., SmtpServer]:
    """Starts an aiosmtpd server on a free loopback port; stopped when the test ends."""

    def start(port: int | None = None, **smtp_parameters: Any) -> SmtpServer:
        handler, port = Recorder(), port or free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **smtp_parameters)
        controller.start()
        request.addfinalizer(controller.stop)
        return SmtpServer(handler, port)

    return start


@pytest.fixture
def smtp(start_smtp: Callable[..., SmtpServer]) -> SmtpServer:
    return start_smtp()
