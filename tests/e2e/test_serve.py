"""``rectiflow serve`` as a user starts it: a process serving the pages and the API on 127.0.0.1,
with one worker (and the scheduler) or several workers; it stops on SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from app.cli import main
from tests.web_support import login

PASSWORD = "serve-password-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path}/serve.db"
    monkeypatch.setenv("RECTIFLOW_DATABASE_URL", url)
    monkeypatch.setenv("RECTIFLOW_TODAY", "2026-09-15")
    monkeypatch.setattr(sys, "stdin", _Stdin(PASSWORD))
    assert main(["init", "--admin", "admin"]) == 0
    assert main(["--as", "admin", "passwd", "admin"]) == 0
    return url


class _Stdin:
    def __init__(self, line: str) -> None:
        self.line = line

    def readline(self) -> str:
        return self.line + "\n"


@contextmanager
def serving(db: str, tmp_path: Path, *args: str) -> Iterator[str]:
    port = free_port()
    cmd = [sys.executable, "-c", "from app.cli import run; run()", "--db", db, "--today", "2026-09-15", "serve",
           "--port", str(port), *args]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # up to 30 s for the workers to import and bind
            try:
                httpx.get(base + "/login", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                time.sleep(0.1)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert "整改督办系统已启动" in out


@pytest.mark.parametrize("args", [(), ("--workers", "2", "--no-scheduler")], ids=["one-with-scheduler", "two-workers"])
def test_serve_answers_pages_and_api_then_stops(db: str, tmp_path: Path, args: tuple[str, ...]) -> None:
    with serving(db, tmp_path, *args) as base, httpx.Client(base_url=base) as c:
        assert login(c, "admin", PASSWORD).status_code == 303
        assert c.get("/ledger").status_code == 200
        assert c.get("/api/openapi.json").json()["info"]["title"] == "rectiflow 整改督办系统接口"
        assert c.get("/api/v1/me").status_code == 401
