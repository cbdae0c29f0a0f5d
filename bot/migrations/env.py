"""Alembic environment: runs on the connection bot.db hands over (it holds the upgrade lock)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from bot.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is not None:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    # The alembic CLI (e.g. `alembic revision --autogenerate`) with -x url=<sqlalchemy url>.
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("pass the database as: alembic -x url=sqlite:///path.db ...")
    with create_engine(url).connect() as conn:
        context.configure(connection=conn, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
        conn.commit()
