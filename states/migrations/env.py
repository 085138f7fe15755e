"""Alembic environment: runs on the engine handed over in ``config.attributes['engine']``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from states.model import Base

config = context.config
engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url") or "")

sqlite = engine.dialect.name == "sqlite"
with engine.connect() as connection:
    if sqlite:
        # A batch migration copies a table and drops the old one; with foreign keys enforced, SQLite
        # refuses to drop a table others refer to. The pragma only works outside a transaction.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()  # ends SQLAlchemy's autobegun transaction (pysqlite opened none)
    with connection.begin():
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=sqlite)
        context.run_migrations()
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()
