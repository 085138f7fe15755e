"""Channel settings (通知渠道配置), parsed once from ``config/notifications.toml`` and the environment.

:func:`load_notification_settings` returns a frozen :class:`NotificationSettings`; a bad value raises
:class:`config.ConfigError` naming the key (or variable) and the accepted values. Environment variables
override the file; an empty variable counts as unset. A missing file gives the defaults.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Literal

from config import ConfigError

TLS_MODES = ("none", "starttls", "tls")
WEBHOOK_FORMATS = ("wecom", "dingtalk", "json")
TOP_KEYS = ("console", "smtp", "webhooks")
SMTP_KEYS = ("host", "port", "username", "password", "tls", "mail_from", "timeout")
WEBHOOK_KEYS = ("url", "format", "secret", "timeout")
ENV_KEYS = {
    "RECTIFLOW_SMTP_HOST": "host",
    "RECTIFLOW_SMTP_PORT": "port",
    "RECTIFLOW_SMTP_USER": "username",
    "RECTIFLOW_SMTP_PASSWORD": "password",
    "RECTIFLOW_SMTP_TLS": "tls",
    "RECTIFLOW_MAIL_FROM": "mail_from",
}
SMTP_DEFAULTS: dict[str, Any] = {
    "host": "127.0.0.1",
    "port": 25,
    "username": "",
    "password": "",
    "tls": "none",
    "mail_from": "督查办 <duchaban@hospital.example.cn>",
    "timeout": 10.0,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpSettings:
    """How to reach the mail relay."""

    host: str = "127.0.0.1"
    port: int = 25
    username: str | None = None
    """Login name; ``None`` sends without AUTH."""
    password: str | None = field(default=None, repr=False)
    tls: Literal["none", "starttls", "tls"] = "none"
    """``none`` (plain), ``starttls`` (upgrade after connect, usually port 587), ``tls`` (implicit, 465)."""
    mail_from: str = "督查办 <duchaban@hospital.example.cn>"
    """Sender, optionally with a (Chinese) display name."""
    timeout: float = 10.0
    """Seconds allowed for each network step (connect, each command)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSettings:
    """One group robot (群机器人) or JSON endpoint."""

    url: str
    format: Literal["wecom", "dingtalk", "json"]
    secret: str | None = field(default=None, repr=False)
    """DingTalk signing secret (加签); only for ``format = "dingtalk"``."""
    timeout: float = 5.0


@dataclass(frozen=True, slots=True, kw_only=True)
class NotificationSettings:
    smtp: SmtpSettings
    webhooks: dict[str, WebhookSettings] = field(default_factory=dict)
    """Robots by department name (科室名称), e.g. ``{"医务科": WebhookSettings(...)}``."""
    console: bool = False
    """Also print every message to the terminal (demo)."""


def load_notification_settings(path: Path, environ: Mapping[str, str]) -> NotificationSettings:
    """Read ``path`` (``config/notifications.toml``) and apply the ``RECTIFLOW_SMTP_*`` overrides.

    Args:
        path: the TOML file; when it does not exist the defaults are used.
        environ: the environment (``os.environ`` at the edge, a dict in tests).

    Returns:
        The parsed settings.

    Raises:
        ConfigError: unreadable TOML, an unknown key, or a value outside what is accepted.
    """
    raw = _read(path)
    _check_keys(raw, TOP_KEYS, path, "")
    console = raw.get("console", False)
    if not isinstance(console, bool):
        raise ConfigError(f"{path}: console「{console}」无效；可用：true, false")
    smtp_raw = _table(raw, "smtp", path)
    _check_keys(smtp_raw, SMTP_KEYS, path, "smtp.")
    smtp = _smtp({**SMTP_DEFAULTS, **smtp_raw}, path, environ)
    hooks = _table(raw, "webhooks", path)
    webhooks = {name: _webhook(name, _table(hooks, name, path, "webhooks."), path) for name in hooks}
    return NotificationSettings(smtp=smtp, webhooks=webhooks, console=console)


def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def _table(raw: Mapping[str, Any], key: str, path: Path, prefix: str = "") -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: {prefix}{key} 应为表（[{prefix}{key}]）")
    return value


def _check_keys(raw: Mapping[str, Any], known: tuple[str, ...], path: Path, prefix: str) -> None:
    unknown = sorted(set(raw) - set(known))
    if unknown:
        names = ", ".join(prefix + k for k in unknown)
        raise ConfigError(f"{path}: 未知配置项 {names}；可用：{', '.join(known)}")


def _smtp(values: dict[str, Any], path: Path, environ: Mapping[str, str]) -> SmtpSettings:
    where = {key: f"{path}: smtp.{key}" for key in SMTP_KEYS}
    for var, key in ENV_KEYS.items():
        if environ.get(var):
            values[key], where[key] = environ[var], var
    username = _string(values["username"], where["username"]) or None
    password = _string(values["password"], where["password"]) or None
    if bool(username) != bool(password):
        raise ConfigError(
            f"{where['username']} / {where['password']}: 用户名和密码须同时设置或同时留空（不登录）"
        )
    return SmtpSettings(
        host=_host(values["host"], where["host"]),
        port=_port(values["port"], where["port"]),
        username=username,
        password=password,
        tls=_choice(values["tls"], where["tls"], TLS_MODES),
        mail_from=_mail_from(values["mail_from"], where["mail_from"]),
        timeout=_timeout(values["timeout"], where["timeout"]),
    )


def _webhook(name: str, values: dict[str, Any], path: Path) -> WebhookSettings:
    prefix = f'webhooks."{name}".'
    _check_keys(values, WEBHOOK_KEYS, path, prefix)
    where = f"{path}: {prefix}"
    if "url" not in values or "format" not in values:
        raise ConfigError(f'{path}: [webhooks."{name}"] 须设置 url 和 format')
    url = _string(values["url"], where + "url")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}url「{url}」无效：应以 http:// 或 https:// 开头")
    fmt = _choice(values["format"], where + "format", WEBHOOK_FORMATS)
    secret = _string(values.get("secret", ""), where + "secret") or None
    if secret and fmt != "dingtalk":
        raise ConfigError(f'{where}secret：仅钉钉机器人（format = "dingtalk"）支持加签')
    timeout = _timeout(values.get("timeout", 5.0), where + "timeout")
    return WebhookSettings(url=url, format=fmt, secret=secret, timeout=timeout)


def _string(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}「{value}」无效：应为字符串")
    return value


def _host(value: object, where: str) -> str:
    host = _string(value, where).strip()
    if not host:
        raise ConfigError(f"{where} 不能为空：应为邮件服务器主机名或 IP")
    return host


def _choice(value: object, where: str, accepted: tuple[str, ...]) -> Any:
    if value not in accepted:
        raise ConfigError(f"{where}「{value}」无效；可用：{', '.join(accepted)}")
    return value


def _port(value: object, where: str) -> int:
    try:
        port = int(value) if isinstance(value, int | str) and not isinstance(value, bool) else -1
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise ConfigError(f"{where}「{value}」无效；可用：1–65535 的整数（常见：25, 465, 587）")
    return port


def _timeout(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{where}「{value}」无效：应为大于 0 的秒数")
    return float(value)


def _mail_from(value: object, where: str) -> str:
    text = _string(value, where).strip()
    _, addr = parseaddr(text)
    local, _, domain = addr.rpartition("@")
    if not local or not domain or not addr.isascii():
        raise ConfigError(
            f"{where}「{value}」无效：应为 ASCII 邮箱地址，可带中文显示名，"
            "例如 督查办 <duchaban@hospital.example.cn>"
        )
    return text
