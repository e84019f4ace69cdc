"""charters: seed rules (issue 9 section 6): change cases as seed 002 describes them

Revision ID: 0003_charters_seed_rules
Revises: 0002_charters_security
Create Date: 2026-12-09 10:00:00
"""

from collections.abc import Sequence

revision: str = "0003_charters_seed_rules"
down_revision: str | None = "0002_charters_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
