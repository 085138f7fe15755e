"""Channels against real servers on 127.0.0.1: aiosmtpd for mail, an HTTP server for webhooks.

Nothing is mocked: mails are parsed back from the bytes the server received, webhook bodies from
the bytes POSTed, and failures come from real replies, refused connections and real timeouts.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from config import ConfigError
from notifications.channels import ConsoleChannel, EmailChannel, WebhookChannel
from notifications.channels.webhook import WECOM_MAX_BYTES
from notifications.message import DeliveryError, OutgoingMessage
from notifications.settings import SmtpSettings, WebhookSettings, load_notification_settings
from tests.servers import SmtpServer, free_port

SUBJECT = "【整改督办】临床输血管理不规范 逾期提醒"
TO_NAME = "赵立新（医务科）"
TEXT = "赵立新（医务科）：\n\n下列整改事项已逾期 3 个工作日，请抓紧落实。\n\n督查办\n2026年9月28日\n"
HTML = "<div><p>赵立新（医务科）：</p><p>下列整改事项<strong>已逾期 3 个工作日</strong>。</p></div>\n"


def message(key: str = "R-2026-017/measures_due/overdue/v1/zhaolx", to: str = "zhaolx@hospital.example.cn"):
    return OutgoingMessage(key=key, to_name=TO_NAME, to_address=to, subject=SUBJECT, text=TEXT, html=HTML)


def send_mail(channel: EmailChannel, msg: OutgoingMessage) -> None:
    asyncio.run(channel.send(msg))


def failure(channel: EmailChannel | WebhookChannel, msg: OutgoingMessage) -> DeliveryError:
    with pytest.raises(DeliveryError) as info:
        asyncio.run(channel.send(msg))
    return info.value


def test_chinese_mail_parses_back_equal(smtp: SmtpServer) -> None:
    send_mail(smtp.channel(), message())
    [mail] = smtp.handler.received()
    assert mail["Subject"] == SUBJECT
    assert mail["To"].addresses[0].display_name == TO_NAME
    assert mail["To"].addresses[0].addr_spec == "zhaolx@hospital.example.cn"
    assert mail["From"].addresses[0].display_name == "督查办"
    assert mail["From"].addresses[0].addr_spec == "duchaban@hospital.example.cn"
    assert mail.get_body(("plain",)).get_content() == TEXT
    assert mail.get_body(("html",)).get_content() == HTML
    assert mail["Date"].datetime.tzinfo is not None
    assert smtp.handler.envelopes[0].rcpt_tos == ["zhaolx@hospital.example.cn"]


def test_a_retry_carries_the_same_message_id(smtp: SmtpServer) -> None:
    channel = smtp.channel()
    for key in ("k-1", "k-1", "k-2"):
        send_mail(channel, message(key=key))
    ids = [m["Message-ID"] for m in smtp.handler.received()]
    assert ids[0] == ids[1] != ids[2]
    assert ids[0] == f"<{hashlib.sha256(b'k-1').hexdigest()[:32]}@rectiflow>"


def test_text_only_mail_has_no_html_part(smtp: SmtpServer) -> None:
    msg = OutgoingMessage(key="k", to_name=TO_NAME, to_address="a@b.cn", subject=SUBJECT, text=TEXT)
    send_mail(smtp.channel(), msg)
    [mail] = smtp.handler.received()
    assert not mail.is_multipart() and mail.get_content() == TEXT


@pytest.mark.parametrize(
    ("stage", "reply", "permanent"),
    [
        ("data", "451 4.3.0 Try again later", False),
        ("rcpt", "450 4.2.1 Mailbox busy", False),
        ("rcpt", "550 5.1.1 No such user", True),
        ("data", "554 5.7.1 Message rejected", True),
    ],
    ids=["451-data", "450-rcpt", "550-rcpt", "554-data"],
)
def test_server_replies_are_classified(smtp: SmtpServer, stage: str, reply: str, permanent: bool) -> None:
    setattr(smtp.handler, f"{stage}_reply", reply)
    error = failure(smtp.channel(), message())
    assert error.permanent is permanent
    assert str(error).startswith("邮件服务器拒收：") and reply.split()[0] in str(error)


def test_nothing_listening_is_temporary() -> None:
    port = free_port()
    error = failure(EmailChannel(SmtpSettings(host="127.0.0.1", port=port, timeout=2)), message())
    assert not error.permanent
    assert f"无法连接邮件服务器 127.0.0.1:{port}" in str(error)


def test_a_silent_server_times_out_temporarily() -> None:
    with socket.socket() as silent:  # accepts connections (backlog) but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        settings = SmtpSettings(host="127.0.0.1", port=silent.getsockname()[1], timeout=0.5)
        started = time.monotonic()
        error = failure(EmailChannel(settings), message())
    assert not error.permanent
    assert time.monotonic() - started < 3


def test_non_ascii_address_without_smtputf8_is_permanent(start_smtp: Callable[..., SmtpServer]) -> None:
    server = start_smtp(enable_SMTPUTF8=False)
    error = failure(server.channel(), message(to="赵立新@hospital.example.cn"))
    assert error.permanent
    assert "赵立新@hospital.example.cn" in str(error) and "SMTPUTF8" in str(error)
    assert server.handler.envelopes == []


def test_non_ascii_address_with_smtputf8_is_delivered(smtp: SmtpServer) -> None:
    send_mail(smtp.channel(), message(to="赵立新@hospital.example.cn"))
    [mail] = smtp.handler.received_utf8()
    assert smtp.handler.envelopes[0].rcpt_tos == ["赵立新@hospital.example.cn"]
    assert mail["To"].addresses[0].username == "赵立新"
    assert mail["To"].addresses[0].display_name == TO_NAME
    assert mail["Subject"] == SUBJECT


@pytest.mark.parametrize("address", ["no-at-sign", "a b@c.cn", "@hospital.cn"])
def test_malformed_address_is_permanent(smtp: SmtpServer, address: str) -> None:
    error = failure(smtp.channel(), message(to=address))
    assert error.permanent and "格式无效" in str(error)


# --- Webhooks -------------------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


class Hook(BaseHTTPRequestHandler):
    """Records each POST and answers by path: /ok, /status/N, /errcode/N, /slow (2 s, then ok)."""

    server: HookServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        url = urlsplit(self.path)
        self.server.requests.append(Received(url.path, parse_qs(url.query), dict(self.headers), body))
        status, answer = 200, {"errcode": 0, "errmsg": "ok"}
        match url.path.strip("/").split("/"):
            case ["status", code]:
                status, answer = int(code), {"error": "refused"}
            case ["errcode", code]:
                answer = {"errcode": int(code), "errmsg": "refused"}
            case ["slow"]:
                self.server.stopping.wait(2)  # bounded; released early when the fixture stops
        self._answer(status, json.dumps(answer).encode())

    def _answer(self, status: int, payload: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass  # the client gave up (timeout test)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class HookServer(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Hook)
        self.requests: list[Received] = []
        self.stopping = threading.Event()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


@pytest.fixture
def hook() -> Iterator[HookServer]:
    server = HookServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.stopping.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


def webhook(url: str, fmt: str, **kw: Any) -> WebhookChannel:
    clock = kw.pop("clock", None)
    return WebhookChannel(WebhookSettings(url=url, format=fmt, **kw), clock=clock)  # type: ignore[arg-type]


def post(channel: WebhookChannel, msg: OutgoingMessage | None = None) -> None:
    asyncio.run(channel.send(msg or message()))


def test_wecom_markdown_body(hook: HookServer) -> None:
    post(webhook(hook.url("/ok?key=abc"), "wecom"))
    [req] = hook.requests
    assert req.query == {"key": ["abc"]}
    assert req.headers["Content-Type"].startswith("application/json")
    assert req.json() == {"msgtype": "markdown", "markdown": {"content": f"### {SUBJECT}\n{TEXT}"}}


def test_wecom_content_is_clipped_to_its_limit(hook: HookServer) -> None:
    long = OutgoingMessage(key="k", to_name=TO_NAME, to_address="", subject=SUBJECT, text="逾期事项。" * 2000)
    post(webhook(hook.url("/ok"), "wecom"), long)
    content = hook.requests[0].json()["markdown"]["content"]
    assert len(content.encode("utf-8")) <= WECOM_MAX_BYTES and content.endswith("已截断，详见邮件或系统）")


def test_dingtalk_markdown_body_and_signature(hook: HookServer) -> None:
    secret = "SEC0123456789abcdef+/="
    channel = webhook(
        hook.url("/ok?access_token=tok"), "dingtalk", secret=secret, clock=lambda: 1_790_000_000.123
    )
    post(channel)
    [req] = hook.requests
    assert req.json() == {
        "msgtype": "markdown",
        "markdown": {"title": SUBJECT, "text": f"### {SUBJECT}\n\n{TEXT}"},
    }
    assert req.query["access_token"] == ["tok"]
    assert req.query["timestamp"] == ["1790000000123"]
    digest = hmac.new(secret.encode(), f"1790000000123\n{secret}".encode(), hashlib.sha256).digest()
    assert req.query["sign"] == [base64.b64encode(digest).decode()]


def test_dingtalk_without_secret_is_not_signed(hook: HookServer) -> None:
    post(webhook(hook.url("/ok?access_token=tok"), "dingtalk"))
    assert hook.requests[0].query == {"access_token": ["tok"]}


def test_json_body_and_idempotency_key(hook: HookServer) -> None:
    post(webhook(hook.url("/hooks/rectiflow"), "json"))
    [req] = hook.requests
    key = message().key
    assert req.json() == {"key": key, "to": TO_NAME, "subject": SUBJECT, "text": TEXT}
    assert req.headers["Idempotency-Key"] == key


def test_an_injected_client_is_used(hook: HookServer) -> None:
    async def run() -> None:
        async with httpx.AsyncClient() as client:
            settings = WebhookSettings(url=hook.url("/ok"), format="wecom")
            await WebhookChannel(settings, client=client).send(message())
            assert not client.is_closed

    asyncio.run(run())
    assert len(hook.requests) == 1


@pytest.mark.parametrize(
    ("fmt", "path", "permanent"),
    [
        ("wecom", "/status/500", False),
        ("json", "/status/503", False),
        ("wecom", "/status/429", False),
        ("dingtalk", "/status/404", True),
        ("json", "/status/400", True),
        ("dingtalk", "/errcode/310000", True),
        ("wecom", "/errcode/93000", True),
        ("wecom", "/errcode/45009", False),
        ("dingtalk", "/errcode/130101", False),
    ],
    ids=lambda v: str(v),
)
def test_answers_are_classified(hook: HookServer, fmt: str, path: str, permanent: bool) -> None:
    error = failure(webhook(hook.url(path + "?key=secret-key"), fmt), message())
    assert error.permanent is permanent
    assert path.rsplit("/", 1)[1] in str(error)
    assert "secret-key" not in str(error)  # the robot key stays out of logs


def test_a_slow_endpoint_times_out_temporarily(hook: HookServer) -> None:
    started = time.monotonic()
    error = failure(webhook(hook.url("/slow"), "wecom", timeout=0.5), message())
    assert not error.permanent and "超时" in str(error)
    assert time.monotonic() - started < 1.9


def test_nothing_listening_is_temporary_for_webhooks() -> None:
    error = failure(webhook(f"http://127.0.0.1:{free_port()}/ok", "json", timeout=2), message())
    assert not error.permanent and "无法连接" in str(error)


# --- Console --------------------------------------------------------------------------------------


def test_console_writes_a_readable_block() -> None:
    out = io.StringIO()
    asyncio.run(ConsoleChannel(out).send(message()))
    block = out.getvalue()
    assert f"主题：{SUBJECT}" in block
    assert f"收件：{TO_NAME} <zhaolx@hospital.example.cn>" in block
    assert TEXT.strip() in block


# --- Settings (config/notifications.toml + environment) --------------------------------------------

CONFIG = Path(__file__).resolve().parents[2] / "config" / "notifications.toml"


def test_shipped_config_gives_the_defaults() -> None:
    settings = load_notification_settings(CONFIG, {})
    assert settings.smtp == SmtpSettings()
    assert settings.smtp.mail_from == "督查办 <duchaban@hospital.example.cn>"
    assert settings.webhooks == {} and settings.console is False


def test_environment_overrides_the_file() -> None:
    env = {
        "RECTIFLOW_SMTP_HOST": "smtp.hospital.example.cn",
        "RECTIFLOW_SMTP_PORT": "465",
        "RECTIFLOW_SMTP_USER": "duchaban",
        "RECTIFLOW_SMTP_PASSWORD": "s3cret",
        "RECTIFLOW_SMTP_TLS": "tls",
        "RECTIFLOW_MAIL_FROM": "质控科 <zhikong@hospital.example.cn>",
        "RECTIFLOW_SMTP_HOSTNAME_UNRELATED": "ignored",
    }
    smtp = load_notification_settings(CONFIG, env).smtp
    assert (smtp.host, smtp.port, smtp.username, smtp.password, smtp.tls) == (
        "smtp.hospital.example.cn",
        465,
        "duchaban",
        "s3cret",
        "tls",
    )
    assert smtp.mail_from == "质控科 <zhikong@hospital.example.cn>"
    assert "s3cret" not in repr(smtp)


def test_webhooks_by_department(tmp_path: Path) -> None:
    path = tmp_path / "notifications.toml"
    path.write_text(
        'console = true\n[webhooks."医务科"]\nurl = "https://qyapi.example.cn/send?key=k"\nformat = "wecom"\n'
        '[webhooks."护理部"]\nurl = "https://oapi.example.cn/robot/send"\nformat = "dingtalk"\n'
        'secret = "SECabc"\ntimeout = 3\n',
        encoding="utf-8",
    )
    settings = load_notification_settings(path, {})
    assert settings.console is True
    assert settings.webhooks["医务科"] == WebhookSettings(
        url="https://qyapi.example.cn/send?key=k", format="wecom"
    )
    assert settings.webhooks["护理部"].secret == "SECabc" and settings.webhooks["护理部"].timeout == 3.0


@pytest.mark.parametrize(
    ("toml", "env", "message"),
    [
        ("", {"RECTIFLOW_SMTP_TLS": "ssl"}, "RECTIFLOW_SMTP_TLS「ssl」无效；可用：none, starttls, tls"),
        ("", {"RECTIFLOW_SMTP_PORT": "twenty-five"}, "RECTIFLOW_SMTP_PORT「twenty-five」无效"),
        ("[smtp]\nport = 70000\n", {}, "smtp.port「70000」无效"),
        ('[smtp]\ntls = "SSL"\n', {}, "smtp.tls「SSL」无效；可用：none, starttls, tls"),
        ('[smtp]\nhots = "x"\n', {}, "未知配置项 smtp.hots；可用：host"),
        ("[smtp]\ntimeout = 0\n", {}, "smtp.timeout「0」无效"),
        ("", {"RECTIFLOW_SMTP_USER": "u"}, "用户名和密码须同时设置"),
        ("", {"RECTIFLOW_MAIL_FROM": "督查办"}, "RECTIFLOW_MAIL_FROM「督查办」无效"),
        ('console = "yes"\n', {}, "console「yes」无效；可用：true, false"),
        (
            '[webhooks."医务科"]\nurl = "ftp://x"\nformat = "wecom"\n',
            {},
            'webhooks."医务科".url「ftp://x」无效',
        ),
        (
            '[webhooks."医务科"]\nurl = "https://x"\nformat = "slack"\n',
            {},
            "format「slack」无效；可用：wecom, dingtalk, json",
        ),
        ('[webhooks."医务科"]\nurl = "https://x"\nformat = "wecom"\nsecret = "s"\n', {}, "仅钉钉机器人"),
        ('[webhooks."医务科"]\nformat = "wecom"\n', {}, "须设置 url 和 format"),
        ("[smtp\n", {}, "notifications.toml"),
    ],
    ids=[
        "env-tls",
        "env-port",
        "port-range",
        "tls",
        "unknown-key",
        "timeout",
        "user-without-password",
        "mail-from",
        "console",
        "webhook-url",
        "webhook-format",
        "secret-not-dingtalk",
        "webhook-missing-url",
        "bad-toml",
    ],
)
def test_bad_settings_name_the_key(tmp_path: Path, toml: str, env: dict[str, str], message: str) -> None:
    path = tmp_path / "notifications.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_notification_settings(path, env)


def test_missing_file_gives_the_defaults(tmp_path: Path) -> None:
    assert (
        load_notification_settings(tmp_path / "absent.toml", {"RECTIFLOW_SMTP_HOST": ""}).smtp
        == SmtpSettings()
    )


def test_a_long_chinese_subject_folds_and_parses_back_equal(smtp: SmtpServer) -> None:
    subject = "【整改督办】" + "临床输血管理不规范、疑难危重病例讨论记录不规范" * 3 + " 督办通知"
    name = "赵立新（医务科科长）"
    send_mail(smtp.channel(), OutgoingMessage(key="long", to_name=name, to_address="zhaolx@hospital.example.cn",
                                              subject=subject, text=TEXT, html=HTML))  # fmt: skip
    [mail] = smtp.handler.received()
    assert mail["Subject"] == subject
    assert mail["To"].addresses[0].display_name == name
    assert mail.get_body(("plain",)).get_content() == TEXT
