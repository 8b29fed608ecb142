"""Alembic environment: runs on the connection handed over by :func:`migrations.upgrade`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from notifications import models as _outbox  # noqa: F401 - registers the outbox tables
from states import directory, progress, records  # noqa: F401 - registers their tables
from states.models import Base

config = context.config
connection = config.attributes.get("connection")

if connection is None:  # `alembic` on the command line: use PRODUZIR_* settings
    from states.settings import StatesSettings, load

    engine = create_engine(load(StatesSettings).resolved_database_url())
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
