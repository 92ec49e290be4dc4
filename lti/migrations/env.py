"""Alembic environment: run with the connection lti.db.migrate() passes in (no alembic.ini needed)."""

from alembic import context

from lti.db import Base

connection = context.config.attributes.get("connection")
if connection is None:  # e.g. `alembic revision --autogenerate -x url=...`
    from lti.db import make_engine

    connection = make_engine(context.get_x_argument(as_dictionary=True)["url"]).connect()

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
