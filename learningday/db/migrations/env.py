"""Alembic environment: runs online against the URL handed in by learningday.db.migrate."""

from alembic import context

from learningday.db.engine import make_engine
from learningday.db.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "learningday.db.migrate sets sqlalchemy.url"
connectable = make_engine(url)
with connectable.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
connectable.dispose()
