"""What an office edits: settings, calendar overrides, rules and templates (配置).

:func:`load` parses ``settings.toml`` once into a frozen :class:`Settings`; a bad value raises
:class:`ConfigError` naming the file, the key and what is accepted. Nothing happens at import.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from states.errors import InvalidInput, RectiflowError
from states.escalation import Policy, parse_delivery, parse_policy

CONFIG_DIR = Path(__file__).parent
KEYS = ("database_url", "timezone", "calendars_dir", "evidence_dir", "institution", "reports_dir",
        "max_upload_mb", "session_hours", "cookie_secure")
INT_KEYS = ("max_upload_mb", "session_hours")
BOOL_KEYS = ("cookie_secure",)


def load_policy(settings: Settings) -> Policy:
    """Read ``escalation.toml`` from the settings' folder.

    Raises:
        ConfigError: unreadable TOML or a value the policy does not accept.
    """
    path = settings.config_dir / "escalation.toml"
    if not path.exists():
        raise ConfigError(f"{path}: 缺少升级督办策略文件")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return parse_policy(data, parse_delivery(data, settings.timezone))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    except InvalidInput as exc:
        raise ConfigError(f"{path}: {exc}") from exc


class ConfigError(RectiflowError, ValueError):
    """A settings file or variable holds a value the engine cannot use."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    database_url: str
    """SQLAlchemy URL of the store."""
    timezone: ZoneInfo
    """Zone in which calendar days are counted."""
    calendars_dir: Path
    """Folder of per-year official calendar files."""
    evidence_dir: Path
    """Folder where evidence files are stored."""
    config_dir: Path
    """The folder these settings were read from (policy, templates, notifications)."""
    institution: str = "本院"
    """The institution's name, signed under reports (整改报告落款)."""
    reports_dir: Path = Path("reports")
    """Where the report job writes the rectification reports of finished notices."""
    max_upload_mb: int = 20
    """Largest evidence file accepted from the web or the API."""
    session_hours: int = 12
    """How long a web log-in lasts."""
    cookie_secure: bool = False
    """Send the session cookie over HTTPS only (set when the site is served over HTTPS)."""


def load(config_dir: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read ``settings.toml`` from ``config_dir`` (``RECTIFLOW_CONFIG_DIR`` or this folder).

    Raises:
        ConfigError: unreadable TOML, an unknown key, or an unknown time zone.
    """
    env = dict(os.environ if environ is None else environ)
    folder = Path(config_dir or env.get("RECTIFLOW_CONFIG_DIR") or CONFIG_DIR)
    raw = _read(folder / "settings.toml")
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise ConfigError(
            f"{folder / 'settings.toml'}: 未知配置项 {', '.join(unknown)}；可用：{', '.join(KEYS)}"
        )
    tz_name = env.get("RECTIFLOW_TIMEZONE") or raw.get("timezone", "Asia/Shanghai")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"timezone「{tz_name}」不是有效的时区名，例如 Asia/Shanghai") from exc
    return Settings(
        database_url=env.get("RECTIFLOW_DATABASE_URL") or raw.get("database_url", "sqlite:///rectiflow.db"),
        timezone=tz,
        calendars_dir=folder / raw.get("calendars_dir", "calendars"),
        evidence_dir=Path(raw.get("evidence_dir", "evidence")),
        config_dir=folder,
        institution=raw.get("institution", "本院"),
        reports_dir=Path(raw.get("reports_dir", "reports")),
        max_upload_mb=raw.get("max_upload_mb", 20),
        session_hours=raw.get("session_hours", 12),
        cookie_secure=raw.get("cookie_secure", False),
    )


def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    for key, value in data.items():
        if key in INT_KEYS:
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigError(f"{path}: {key} 应为正整数")
        elif key in BOOL_KEYS:
            if not isinstance(value, bool):
                raise ConfigError(f"{path}: {key} 应为 true 或 false")
        elif not isinstance(value, str):
            raise ConfigError(f"{path}: {key} 应为字符串")
    return data
