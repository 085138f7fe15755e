"""Alembic migrations: from empty to head, the model matches them, and an upgrade keeps data."""

from __future__ import annotations

import datetime as dt

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from states import extensions, org, service
from states.model import Base
from states.service import Env
from states.store import current_revision, downgrade, head_revision, is_current, session_factory, upgrade


def test_from_empty_to_head(bare_engine: Engine) -> None:
    assert not is_current(bare_engine)
    upgrade(bare_engine)
    assert current_revision(bare_engine) == head_revision() and is_current(bare_engine)
    tables = set(inspect(bare_engine).get_table_names())
    assert {"departments", "users", "notices", "items", "item_departments", "item_events", "extensions",
            "evidence"} <= tables  # fmt: skip


def test_model_matches_the_migrations(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_upgrade_keeps_data_and_it_still_works(bare_engine: Engine, env: Env) -> None:
    upgrade(bare_engine, "0001")
    with bare_engine.begin() as conn:
        conn.execute(text("INSERT INTO departments (id, name, kind) VALUES (1, '医务科', 'functional')"))
        conn.execute(text("INSERT INTO users (id, username, name, role, department_id) VALUES "
                          "(1, 'jxb', '王敏', 'office', NULL), (2, 'ywk', '赵立新', 'department', 1)"))  # fmt: skip
        conn.execute(text("INSERT INTO notices (id, title, issuer, received_on, created_at) VALUES "
                          "(1, '考评通报', 'xx县卫生健康委员会', '2026-09-15', '2026-09-15 01:00:00')"))  # fmt: skip
        conn.execute(text(
            "INSERT INTO items (id, notice_id, seq, category, title, state, version, start_on, completion_due,"
            " completion_rule, provisional, created_at, updated_at) VALUES (1, 1, 1, '医疗方面', '临床输血管理不规范',"
            " 'assigned', 2, '2026-09-15', '2026-10-26', 'workdays:25', false, '2026-09-15 01:00:00',"
            " '2026-09-15 01:00:00')"))  # fmt: skip
        conn.execute(
            text("INSERT INTO item_departments (item_id, department_id, role) VALUES (1, 1, 'lead')")
        )
        conn.execute(text("INSERT INTO item_events (item_id, actor_id, at, action, from_state, to_state) VALUES "
                          "(1, 1, '2026-09-15 01:00:00', 'assign', 'issued', 'assigned')"))  # fmt: skip
    upgrade(bare_engine)
    now = dt.datetime(2026, 9, 20, 2, 0, tzinfo=dt.UTC)
    with session_factory(bare_engine)() as s:
        it = service.get_item(s, 1)
        assert (it.title, it.state, it.version, it.lead_names) == (
            "临床输血管理不规范",
            "assigned",
            2,
            ["医务科"],
        )
        ext = extensions.request_extension(s, env, 1, org.actor(s, "ywk"), now, target="completion_due",
                                        new_due=dt.date(2026, 11, 30), reason="设备到货延迟")  # fmt: skip
        assert ext.id == 1
    downgrade(bare_engine, "0001")
    with bare_engine.connect() as conn:
        assert conn.execute(text("SELECT title FROM items")).scalar_one() == "临床输血管理不规范"
        assert "extensions" not in inspect(conn).get_table_names()
