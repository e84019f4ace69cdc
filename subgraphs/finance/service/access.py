"""Who may read and do what in finance: the whole policy is the constants below.

- Accounting staff and managers (and admins) work every finance object:
  record, apply and take back payments, edit the payment configuration.
- Sales staff read the balances and payments of charters (an agent: the
  charters it sells) and their clients' receivables.
- A client reads its own charters' balances and payments, its own
  receivables and its own invoices (and their PDFs); vendors and drivers read nothing of finance.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from subgraphs.kit.auth.roles import Role

if TYPE_CHECKING:
    from subgraphs.kit.auth.viewer import Viewer

WORK_FINANCE = (Role.ADMIN, Role.MANAGER, Role.ACCOUNTING)
READ_ANY_BALANCE = (*WORK_FINANCE, Role.SALES_SUPPORT)
READ_OWN_SALES_BALANCE = (Role.SALES_AGENT,)
READ_OWN_CLIENT_BALANCE = (Role.CLIENT,)
READ_ANY_INVOICE = WORK_FINANCE
READ_OWN_CLIENT_INVOICE = (Role.CLIENT,)


def may_read_balance(
    viewer: Viewer, client_id: uuid.UUID | None, sales_agent_id: uuid.UUID | None
) -> bool:
    """A charter's (or a client's) money: finance staff, its agent, its own client."""
    if viewer.has_any_role(*READ_ANY_BALANCE):
        return True
    if viewer.has_any_role(*READ_OWN_SALES_BALANCE) and viewer.user_id is not None:
        return sales_agent_id == viewer.user_id
    return (
        viewer.has_any_role(*READ_OWN_CLIENT_BALANCE)
        and viewer.client_id is not None
        and viewer.client_id == client_id
    )


def may_read_invoice(viewer: Viewer, client_id: uuid.UUID | None) -> bool:
    """An invoice (and its PDF): finance staff and the client it bills, nobody else."""
    if viewer.has_any_role(*READ_ANY_INVOICE):
        return True
    return (
        viewer.has_any_role(*READ_OWN_CLIENT_INVOICE)
        and viewer.client_id is not None
        and viewer.client_id == client_id
    )
