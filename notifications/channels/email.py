"""E-mail over SMTP with aiosmtplib (邮件渠道).

One connection per message: the dispatcher decides how many to send and when to retry. Failures are
classified at this boundary: nothing listening, timeouts, a dropped connection and 4xx replies are
temporary; 5xx replies, a malformed address and an address the server cannot carry are permanent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr

import aiosmtplib

from notifications.message import DeliveryError, OutgoingMessage
from notifications.settings import SmtpSettings


def message_id(key: str) -> str:
    """The ``Message-ID`` of the delivery with idempotency key ``key``; a retry carries the same id.

    Args:
        key: the outbox idempotency key.

    Returns:
        ``<32 hex digits of sha256(key)@rectiflow>``.
    """
    return f"<{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}@rectiflow>"


class EmailChannel:
    """Sends each :class:`OutgoingMessage` as one mail (plain text, plus an HTML alternative).

    Args:
        settings: the relay, login, TLS mode, sender and timeout.
        clock: returns the aware time written in the ``Date`` header (``datetime.now(UTC)`` by default).
    """

    name = "email"

    def __init__(self, settings: SmtpSettings, *, clock: Callable[[], datetime] | None = None) -> None:
        self._settings = settings
        self._clock = clock or (lambda: datetime.now(UTC))
        display, addr = parseaddr(settings.mail_from)
        self._sender = _address(display, addr)

    def build(self, message: OutgoingMessage) -> Message:
        """Build the mail for ``message`` without sending it.

        ASCII addresses (nearly all) take the fast builder: the ``email`` package's default policy
        parses every header it is given and costs about four times as much per mail, which caps the
        dispatch rate. Both write RFC 2047 words for Chinese names and subjects and base64 bodies.

        Raises:
            DeliveryError: permanent, when the recipient address is malformed.
        """
        to = _recipient(message)  # validates the address
        if to.addr_spec.isascii() and self._sender.addr_spec.isascii():
            return self._build_fast(message, to)
        return self._build_full(message)

    def _build_fast(self, message: OutgoingMessage, to: Address) -> Message:
        body = MIMEText(message.text, "plain", "utf-8")
        if message.html:
            msg: Message = MIMEMultipart("alternative")
            msg.attach(body)
            msg.attach(MIMEText(message.html, "html", "utf-8"))
        else:
            msg = body
        msg["From"] = _fold_address(self._sender)
        msg["To"] = _fold_address(to)
        msg["Subject"] = Header(" ".join(message.subject.split()), "utf-8")  # type: ignore[assignment]
        msg["Date"] = format_datetime(self._clock())
        msg["Message-ID"] = message_id(message.key)
        return msg

    def _build_full(self, message: OutgoingMessage) -> EmailMessage:
        """The default-policy builder, for non-ASCII addresses (sent with SMTPUTF8)."""
        msg = EmailMessage()
        msg["From"] = self._sender
        msg["To"] = _recipient(message)
        msg["Subject"] = " ".join(message.subject.split())  # a header cannot carry a line break
        msg["Date"] = format_datetime(self._clock())
        msg["Message-ID"] = message_id(message.key)
        msg.set_content(message.text)
        if message.html:
            msg.add_alternative(message.html, subtype="html")
        return msg

    async def send(self, message: OutgoingMessage) -> None:
        """Deliver ``message`` once.

        Raises:
            DeliveryError: ``permanent=False`` for connection problems, timeouts and 4xx replies;
                ``permanent=True`` for 5xx replies and addresses that cannot be delivered.
        """
        mail = self.build(message)
        s = self._settings
        try:
            await aiosmtplib.send(
                mail,
                hostname=s.host,
                port=s.port,
                username=s.username,
                password=s.password,
                use_tls=s.tls == "tls",
                start_tls=s.tls == "starttls",
                timeout=s.timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:  # TimeoutError is an OSError
            raise self._classify(exc, message.to_address) from exc

    def _classify(self, exc: BaseException, to_address: str) -> DeliveryError:
        where = f"{self._settings.host}:{self._settings.port}"
        if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
            codes = [r.code for r in exc.recipients]
            detail = "；".join(f"{r.code} {r.message}" for r in exc.recipients)
            return DeliveryError(f"邮件服务器拒收：{detail}", permanent=all(c >= 500 for c in codes))
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            return DeliveryError(f"邮件服务器拒收：{exc.code} {exc.message}", permanent=exc.code >= 500)
        if isinstance(exc, aiosmtplib.SMTPNotSupported):
            if not to_address.isascii():
                return DeliveryError(
                    f"收件地址「{to_address}」含中文等非 ASCII 字符，邮件服务器 {where} 不支持 SMTPUTF8，"
                    "无法投递：请改用 ASCII 邮箱地址",
                    permanent=True,
                )
            return DeliveryError(f"邮件服务器 {where} 不支持所需功能：{exc.message}", permanent=True)
        if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
            return DeliveryError(f"邮件服务器 {where} 断开了连接：{exc}", permanent=False)
        return DeliveryError(f"无法连接邮件服务器 {where}：{str(exc) or type(exc).__name__}", permanent=False)


def _fold_address(address: Address) -> str:
    """``=?utf-8?b?…?= <addr>`` for a Chinese display name, the plain address otherwise."""
    name = address.display_name
    if not name:
        return address.addr_spec
    return formataddr((Header(name, "utf-8").encode() if not name.isascii() else name, address.addr_spec))


def _recipient(message: OutgoingMessage) -> Address:
    return _address(message.to_name, message.to_address)


def _address(display_name: str, addr: str) -> Address:
    # Built from parts: Address(addr_spec=…) refuses a non-ASCII local part outright, and such an
    # address is deliverable through a server offering SMTPUTF8 (aiosmtplib checks that on send).
    local, _, domain = addr.strip().rpartition("@")
    try:
        if not local or not domain or any(c in addr for c in " <>,;\r\n"):
            raise ValueError(addr)
        return Address(display_name=display_name, username=local, domain=domain.encode("idna").decode())
    except (ValueError, UnicodeError) as exc:
        raise DeliveryError(f"邮件地址「{addr}」格式无效", permanent=True) from exc
