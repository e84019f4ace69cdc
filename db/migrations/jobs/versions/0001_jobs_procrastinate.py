"""procrastinate 3.10's schema, in the jobs schema.

Later procrastinate releases ship migration scripts
(procrastinate/sql/migrations); a version bump adds a revision here that
applies the new ones, in order.

Revision ID: 0001_jobs
"""

from __future__ import annotations

from importlib.resources import files

from alembic import op
from sqlalchemy.util import await_only

revision: str = "0001_jobs"
down_revision: str | None = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    sql = files("procrastinate.sql").joinpath("schema.sql").read_text()
    # A script of many statements (functions, triggers) runs as one simple query on
    # the driver connection, inside this migration's transaction.
    driver = op.get_bind().connection.dbapi_connection
    await_only(driver._connection.execute(f"SET LOCAL search_path TO jobs;\n{sql}"))
    op.execute("SET LOCAL search_path TO public")


def downgrade() -> None:
    op.execute("DROP SCHEMA jobs CASCADE")
