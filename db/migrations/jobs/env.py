"""The job runner's queue (procrastinate's tables and functions) in the `jobs` schema.

No models: procrastinate owns these objects and ships their SQL; this
history applies it (`versions/`), and `check` has nothing to compare.
"""

from sqlalchemy import MetaData

from db.migrations.env_common import run_migrations

run_migrations(MetaData(schema="jobs"), "jobs", compare=False)
