"""Alembic environment: runs with the app's engine (see portal/migrate.py)."""
from alembic import context
from sqlmodel import SQLModel

import portal.models  # noqa: F401  (registers the core tables)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    given = config.attributes.get("connection")  # portal.migrate.upgrade runs in its own transaction
    if given is not None:
        context.configure(connection=given, target_metadata=target_metadata,
                          render_as_batch=given.dialect.name == "sqlite", compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
