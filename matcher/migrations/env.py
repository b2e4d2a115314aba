"""Alembic's environment: how migrations reach the database.

:func:`matcher.db.upgrade` passes its connection in ``config.attributes``; the
``alembic`` command (``alembic -c alembic.ini ...``) connects to
:func:`matcher.db.database_url` instead (``MATCHER_DATABASE_URL``, else SQLite
in ``./instance``).
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from matcher import db
from matcher.models import Base

config = context.config
target_metadata = Base.metadata

# Logging only when run from alembic.ini: the application configures its own.
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def run_migrations_offline() -> None:
    """Write the SQL to standard output (``alembic upgrade --sql``) instead of running it."""
    context.configure(
        url=db.database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations(connection: Connection) -> None:
    """Run the migrations on ``connection`` in one transaction."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite alters most things only by copying the table: batch mode does that.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
        db.check_foreign_keys(connection)


def run_migrations_online() -> None:
    """Run the migrations on the given connection, else on the configured database."""
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    engine = db.make_engine(db.database_url())
    try:
        with engine.connect() as connection, db.foreign_keys_off(connection):
            run_migrations(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
