"""The command line (``rectiflow …``): every command calls the service functions in ``states``.

Global options: ``--db URL`` (``RECTIFLOW_DATABASE_URL``), ``--today YYYY-MM-DD``
(``RECTIFLOW_TODAY``, the injected clock) and ``--as USER`` (``RECTIFLOW_USER``, the acting user).
Errors print one line on stderr and exit non-zero; nothing is written then.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from flows.runtime import App, bootstrap
from states import org
from states.errors import InvalidInput, RectiflowError
from states.permissions import Actor
from states.store import is_current

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

console = Console()
err = Console(stderr=True)

cli = typer.Typer(
    name="rectiflow",
    help="rectiflow 整改督办系统：通报登记、整改事项、工作日期限、核验销号与统计。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def parse_date(value: str | None, name: str = "日期") -> dt.date | None:
    """Parse ``YYYY-MM-DD``; raise :class:`InvalidInput` naming the option otherwise."""
    if value is None:
        return None
    try:
        if not ISO_DATE.fullmatch(value.strip()):
            raise ValueError(value)
        return dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInput(name, value, "应为 YYYY-MM-DD 格式的有效日期") from exc


def read_password() -> str:
    """A password from standard input: the first line, without its line end."""
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise InvalidInput("密码", "", "标准输入为空")
    return line


def split_names(value: str | None) -> list[str]:
    """Split a list of department names typed as ``A,B``, ``A，B`` or ``A、B``."""
    if not value:
        return []
    for sep in "，、;；":
        value = value.replace(sep, ",")
    return [v.strip() for v in value.split(",") if v.strip()]


@dataclass
class State:
    """Per-invocation state: the global options and the lazily built :class:`App`."""

    db: str | None
    today_arg: str | None
    user: str | None
    _app: App | None = field(default=None, repr=False)
    _now: dt.datetime | None = field(default=None, repr=False)

    def app(self, *, migrated: bool = True) -> App:
        if self._app is None:
            self._app = bootstrap(database_url=self.db, today=parse_date(self.today_arg, "--today"))
        if migrated and not _exists(self._app.engine):
            raise InvalidInput(
                "数据库", self._app.engine.url.render_as_string(), "文件不存在，请先运行 rectiflow init"
            )
        if migrated and not is_current(self._app.engine):
            raise InvalidInput(
                "数据库",
                self._app.engine.url.render_as_string(),
                "未初始化或版本过旧，请先运行 rectiflow init",
            )
        return self._app

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.app().sessions() as s:
            yield s

    def actor(self, session: Session, *, required: bool = True) -> Actor | None:
        if not self.user:
            if required:
                raise InvalidInput("--as", "", "请用 --as 或环境变量 RECTIFLOW_USER 指定操作人")
            return None
        return org.actor(session, self.user)

    def now(self) -> dt.datetime:
        """The clock, read once per command."""
        if self._now is None:
            self._now = self.app(migrated=False).clock.now()
        return self._now

    def today(self) -> dt.date:
        return self.app(migrated=False).env.local_date(self.now())

    def close(self) -> None:
        if self._app is not None:
            self._app.engine.dispose()


def _exists(engine: Engine) -> bool:
    """A SQLite file must exist before anything but ``init`` touches it (no empty file left behind)."""
    database = engine.url.database
    return (
        engine.url.get_backend_name() != "sqlite"
        or not database
        or database == ":memory:"
        or Path(database).exists()
    )


def state(ctx: typer.Context) -> State:
    return ctx.ensure_object(State) if ctx.obj is None else ctx.obj  # type: ignore[no-any-return]


@cli.callback()
def _globals(
    ctx: typer.Context,
    db: str | None = typer.Option(
        None, "--db", envvar="RECTIFLOW_DATABASE_URL", help="数据库 URL 或 SQLite 文件路径"
    ),
    today: str | None = typer.Option(None, "--today", envvar="RECTIFLOW_TODAY", help="模拟“今天” YYYY-MM-DD"),
    user: str | None = typer.Option(None, "--as", envvar="RECTIFLOW_USER", help="操作人用户名"),
) -> None:
    """rectiflow 整改督办系统。"""
    ctx.obj = State(db=db, today_arg=today, user=user)
    ctx.call_on_close(ctx.obj.close)


def emit_json(data: Any) -> None:
    """Print JSON with Chinese left readable (not \\u-escaped)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rectiflow`` command; returns the exit status."""
    from app import (  # noqa: F401  (they register commands)
        account_commands,
        commands,
        intake_commands,
        item_commands,
        ops_commands,
        score_commands,
    )

    try:
        rv = typer.main.get_command(cli).main(args=argv, prog_name="rectiflow", standalone_mode=False)
    except typer.Abort:
        return _fail("已取消")
    except typer.TyperException as exc:  # usage errors: bad option, missing argument, not a number
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        return _fail(
            f"参数有误：{' '.join(message.split())}（用 --help 查看用法）", getattr(exc, "exit_code", 2)
        )
    except RectiflowError as exc:
        return _fail(str(exc))
    except OverflowError:
        return _fail("编号或数值超出范围")
    except SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return _fail(f"数据库操作失败：{first}")
    return rv if isinstance(rv, int) else 0


def _fail(message: str, code: int = 1) -> int:
    err.print(f"错误：{message}", markup=False, highlight=False, soft_wrap=True)
    return code


def run() -> None:
    sys.exit(main())
