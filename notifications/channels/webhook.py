"""Group robots and JSON endpoints over HTTP (群机器人渠道): WeCom, DingTalk, plain JSON.

The message goes to ``settings.url`` whatever ``OutgoingMessage.to_address`` says. Failures are
classified here: timeouts, connection errors, HTTP 429 and 5xx, and the robots' documented "busy /
too fast" codes are temporary; any other 4xx and any other non-zero ``errcode`` are permanent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

import httpx

from notifications.message import DeliveryError, OutgoingMessage
from notifications.settings import WebhookSettings

# Codes the robots answer with HTTP 200 that mean "try again later": -1 系统繁忙 (both),
# 45009 接口调用超过限制 (WeCom), 130101 发送速度太快而限流 (DingTalk).
RETRYABLE_ERRCODES = {"wecom": {-1, 45009}, "dingtalk": {-1, 130101}}
# WeCom refuses markdown content longer than 4096 bytes (UTF-8) with errcode 40058.
WECOM_MAX_BYTES = 4096
CLIPPED = "\n\n……（内容过长，已截断，详见邮件或系统）"


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: base64(HMAC-SHA256(key=secret, msg="{timestamp}\\n{secret}")), URL-encoded.

    Args:
        secret: the robot's signing secret (``SEC…``).
        timestamp_ms: milliseconds since the epoch; DingTalk refuses a timestamp over an hour off.

    Returns:
        The value of the ``sign`` query parameter, already percent-encoded.
    """
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


class WebhookChannel:
    """POSTs each message as JSON to one robot or endpoint.

    Args:
        settings: URL, body format, DingTalk secret and timeout.
        client: an ``httpx.AsyncClient`` to reuse; by default one is opened per send.
        clock: seconds since the epoch, for DingTalk's signature timestamp (``time.time`` by default).
    """

    name = "webhook"

    def __init__(
        self,
        settings: WebhookSettings,
        *,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._settings = settings
        self._client = client
        self._clock = clock or time.time
        url = httpx.URL(settings.url)
        # For messages: the robot key / access token sits in the query string and stays out of logs.
        self._where = f"{url.scheme}://{url.netloc.decode('ascii')}{url.path}"

    def request(self, message: OutgoingMessage) -> tuple[str, dict[str, Any], dict[str, str]]:
        """The URL, JSON body and headers that :meth:`send` would POST for ``message``."""
        s = self._settings
        title = f"### {message.subject}\n"
        if s.format == "wecom":
            content = _clip(title + message.text, WECOM_MAX_BYTES)
            return s.url, {"msgtype": "markdown", "markdown": {"content": content}}, {}
        if s.format == "dingtalk":
            body = {
                "msgtype": "markdown",
                "markdown": {"title": message.subject, "text": f"{title}\n{message.text}"},
            }
            return self._signed_url(), body, {}
        body = {"key": message.key, "to": message.to_name, "subject": message.subject, "text": message.text}
        return s.url, body, {"Idempotency-Key": message.key}

    async def send(self, message: OutgoingMessage) -> None:
        """POST ``message`` once.

        Raises:
            DeliveryError: temporary or permanent, as described in the module docstring.
        """
        url, body, headers = self.request(message)
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", **headers}
        try:
            if self._client is not None:
                response = await self._post(self._client, url, content, headers)
            else:
                async with httpx.AsyncClient() as client:
                    response = await self._post(client, url, content, headers)
        except httpx.TimeoutException as exc:
            raise DeliveryError(
                f"机器人接口 {self._where} 超时（{self._settings.timeout:g} 秒）", permanent=False
            ) from exc
        except httpx.TransportError as exc:
            raise DeliveryError(f"无法连接机器人接口 {self._where}：{exc}", permanent=False) from exc
        self._check(response)

    async def _post(
        self, client: httpx.AsyncClient, url: str, content: bytes, headers: dict[str, str]
    ) -> httpx.Response:
        return await client.post(url, content=content, headers=headers, timeout=self._settings.timeout)

    def _signed_url(self) -> str:
        s = self._settings
        if not s.secret:
            return s.url
        timestamp = int(self._clock() * 1000)
        joiner = "&" if "?" in s.url else "?"
        return f"{s.url}{joiner}timestamp={timestamp}&sign={dingtalk_sign(s.secret, timestamp)}"

    def _check(self, response: httpx.Response) -> None:
        status = response.status_code
        if status == 429 or status >= 500:
            raise DeliveryError(f"机器人接口 {self._where} 暂时不可用：HTTP {status}", permanent=False)
        if not 200 <= status < 300:
            raise DeliveryError(f"机器人接口 {self._where} 拒收：HTTP {status}", permanent=True)
        if self._settings.format == "json":
            return
        try:
            answer = response.json()
            errcode, errmsg = int(answer["errcode"]), answer.get("errmsg", "")
        except (ValueError, KeyError, TypeError) as exc:
            raise DeliveryError(
                f"机器人接口 {self._where} 的应答无法识别：{response.text[:200]}", permanent=True
            ) from exc
        if errcode != 0:
            retry = errcode in RETRYABLE_ERRCODES[self._settings.format]
            raise DeliveryError(
                f"机器人接口 {self._where} 拒收：errcode {errcode} {errmsg}", permanent=not retry
            )


def _clip(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    room = limit - len(CLIPPED.encode("utf-8"))
    return data[:room].decode("utf-8", errors="ignore") + CLIPPED
