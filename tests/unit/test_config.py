"""Settings are parsed once, strictly, and name what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

import config


def test_defaults_from_the_shipped_file() -> None:
    s = config.load(environ={})
    assert s.timezone.key == "Asia/Shanghai"
    assert s.database_url == "sqlite:///rectiflow.db"
    assert s.calendars_dir == config.CONFIG_DIR / "calendars"


def test_environment_overrides(tmp_path: Path) -> None:
    s = config.load(
        tmp_path, environ={"RECTIFLOW_DATABASE_URL": "sqlite:///x.db", "RECTIFLOW_TIMEZONE": "Asia/Urumqi"}
    )
    assert (s.database_url, s.timezone.key) == ("sqlite:///x.db", "Asia/Urumqi")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('databse_url = "x"\n', "未知配置项 databse_url"),
        ('timezone = "Beijing"\n', "不是有效的时区名"),
        ("timezone = 8\n", "应为字符串"),
        ("timezone = \n", "settings.toml"),
    ],
    ids=["unknown-key", "bad-zone", "not-a-string", "bad-toml"],
)
def test_bad_settings_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "settings.toml").write_text(text, encoding="utf-8")
    with pytest.raises(config.ConfigError, match=message):
        config.load(tmp_path, environ={})
