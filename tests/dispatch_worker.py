"""A dispatcher in its own process, for the crash and concurrency tests.

Usage: python -m tests.dispatch_worker DB_URL SMTP_PORT NOW_ISO [BATCH] [CONCURRENCY]
"""

from __future__ import annotations

import datetime as dt
import sys

import config
from notifications.channels import EmailChannel
from notifications.dispatch import Dispatcher
from notifications.render import Renderer
from notifications.settings import SmtpSettings
from states.calendar import WorkingCalendar
from states.store import make_engine


def main(url: str, port: str, now: str, batch: str = "50", concurrency: str = "1") -> None:
    engine = make_engine(url)
    channel = EmailChannel(SmtpSettings(host="127.0.0.1", port=int(port), timeout=10))
    policy = config.load_policy(config.load(environ={}))
    renderer = Renderer(config.CONFIG_DIR / "templates" / "messages")
    dispatcher = Dispatcher(engine, {"email": lambda _address: channel}, renderer, WorkingCalendar.official(), policy,
                            batch=int(batch), concurrency=int(concurrency))  # fmt: skip
    result = dispatcher.run(dt.datetime.fromisoformat(now))
    sys.stdout.write(f"{result.sent}\n")
    engine.dispose()


if __name__ == "__main__":
    main(*sys.argv[1:])
