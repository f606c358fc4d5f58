"""Alembic environment of prt serve's schema: run programmatically by ``poseval_refine.serve.db.migrate``.

Migrations of several processes starting at once are serialised: on SQLite the transaction begins
IMMEDIATE (the database's write lock), on PostgreSQL it takes a transaction-level advisory lock."""

from alembic import context

from poseval_refine.serve.db import Base, is_sqlite, make_engine

url = context.config.get_main_option("sqlalchemy.url")
engine = make_engine(url)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, transactional_ddl=True,
                      render_as_batch=is_sqlite(url))
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(2826028)")
        context.run_migrations()
engine.dispose()
