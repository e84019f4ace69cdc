from db.migrations.env_common import run_migrations
from subgraphs.reports.models import SCHEMA, Base

run_migrations(Base.metadata, SCHEMA)
