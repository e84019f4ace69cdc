"""Who may read and do what in finance: the whole policy is the constants below.

- Accounting staff and managers (and admins) work every finance object:
  record, apply and take back payments, edit the payment configuration.
- Sales staff read the balances and payments of charters (an agent: the
  charters it sells) and their clients' receivables.
- A client reads its own charters' balances and payments, its own
  receivables and its own invoices (and their PDFs).
- A vendor reads its own bills and payables (`may_read_bill`); managers (and
  admins) approve vendor bills. Drivers read nothing of finance.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from protocol.roles import Role

if TYPE_CHECKING:
    from protocol.viewer import Viewer

WORK_FINANCE = (Role.ADMIN, Role.MANAGER, Role.ACCOUNTING)
READ_ANY_BALANCE = (*WORK_FINANCE, Role.SALES_SUPPORT)
READ_OWN_SALES_BALANCE = (Role.SALES_AGENT,)
READ_OWN_CLIENT_BALANCE = (Role.CLIENT,)
READ_ANY_INVOICE = WORK_FINANCE
READ_OWN_CLIENT_INVOICE = (Role.CLIENT,)
#: `invoiceClientPeriod` (a consolidated invoice by hand; the month-end run is the system's).
ISSUE_CONSOLIDATED_INVOICES = WORK_FINANCE
#: `Invoice.periodStart`, `periodEnd`: the invoice's readers (`may_read_invoice`).
#: `Charter.invoices` (consolidated ones included): the invoices' readers (`may_read_invoice`):
#: sales staff read a charter's balance and what was applied to it, not its invoices.
#: `PaymentApplication.payment` (the whole payment: its total, check number, what else it
#: paid): the payment's readers, finance staff and the client that paid (`may_read_invoice`).
#: The payment configuration (seed 001 §7): finance staff read it; the issue's
#: "accounting managers" (admins, managers, accounting) edit it.
READ_PAYMENT_CONFIG = WORK_FINANCE
EDIT_PAYMENT_CONFIG = (Role.ADMIN, Role.MANAGER, Role.ACCOUNTING)
#: Custom instalments, refunds and a payment's date change: finance staff only.
SET_PAYMENT_PLAN = WORK_FINANCE
REFUND_PAYMENTS = WORK_FINANCE
CHANGE_PAYMENT_DATE = WORK_FINANCE
#: `Charter.paymentPlan` has the balance's readers (`may_read_balance`).
#: Paying by card or ACH: finance staff for any client, a client for its own charters.
PAY_ANY_CHARTER = WORK_FINANCE
PAY_OWN_CHARTER = (Role.CLIENT,)
#: `Client.savedPaymentMethods`, `savePaymentMethod`, `removePaymentMethod`: finance
#: staff for any client, a client for itself (`may_manage_saved_methods`).
MANAGE_ANY_SAVED_METHOD = WORK_FINANCE
MANAGE_OWN_SAVED_METHOD = (Role.CLIENT,)
#: `Client.receivables`: the balance's readers, the client's own agent being the one
#: named on the client (`ClientFact.sales_agent_id`), see `may_read_receivables`.
#: `Payment.kind`, `refundOfId`, `refunded`, `providerStatus`: the payment's readers.
#: Vendor bills: finance staff enter, dispute and pay them; a manager approves them.
WORK_BILLS = WORK_FINANCE
APPROVE_BILLS = (Role.ADMIN, Role.MANAGER)
#: Readers of `Vendor.payables`, `vendorBill`, `vendorBills` and a bill's payments:
#: finance staff every vendor's, a vendor login its own. The AP reports: WORK_FINANCE.
READ_ANY_BILL = WORK_FINANCE
READ_OWN_VENDOR_BILL = (Role.VENDOR,)


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


def may_read_bill(
    viewer: Viewer, vendor_id: uuid.UUID | None, viewer_vendor_id: uuid.UUID | None
) -> bool:
    """A vendor's bills and payables: finance staff, and the vendor's own logins.

    `viewer_vendor_id` is the vendor the viewer's login works for
    (`VendorUserFact`), looked up by the caller; None when it works for none.
    """
    if viewer.has_any_role(*READ_ANY_BILL):
        return True
    return (
        viewer.has_any_role(*READ_OWN_VENDOR_BILL)
        and viewer_vendor_id is not None
        and viewer_vendor_id == vendor_id
    )


def _own_client(viewer: Viewer, roles: tuple[Role, ...], client_id: uuid.UUID | None) -> bool:
    return (
        viewer.has_any_role(*roles)
        and viewer.client_id is not None
        and viewer.client_id == client_id
    )


def may_pay_charter(viewer: Viewer, client_id: uuid.UUID | None) -> bool:
    """Card or ACH money for a charter: finance staff, or the client whose charter it is."""
    return viewer.has_any_role(*PAY_ANY_CHARTER) or _own_client(viewer, PAY_OWN_CHARTER, client_id)


def may_manage_saved_methods(viewer: Viewer, client_id: uuid.UUID | None) -> bool:
    """A client's saved cards and bank accounts: finance staff, and the client itself."""
    return viewer.has_any_role(*MANAGE_ANY_SAVED_METHOD) or _own_client(
        viewer, MANAGE_OWN_SAVED_METHOD, client_id
    )


def may_read_receivables(
    viewer: Viewer, client_id: uuid.UUID | None, sales_agent_id: uuid.UUID | None
) -> bool:
    """A client's receivables: as a balance, the agent being the client's own (sales' record)."""
    return may_read_balance(viewer, client_id, sales_agent_id)


# Receivables reports and the agent dashboard's money (issue 12 section 5) --------------
#
# The receivables reports (outstanding by client, charter payment status,
# zero balance, unearned revenue, check log, due dates, departed trips by
# agent, cancellations) are for finance staff only, one gate for all.
READ_RECEIVABLES_REPORTS = WORK_FINANCE
#: `User.bookedRevenueMonthToDate`, `profitMonthToDate`, `nonCardMoneyDue`: sales'
#: `User.salesDashboard` rule (sales/service/access.py) so one dashboard reads whole.
READ_ANY_AGENT_MONEY = (Role.ADMIN, Role.MANAGER, Role.ACCOUNTING, Role.SALES_SUPPORT)
READ_OWN_AGENT_MONEY = (Role.SALES_AGENT,)


def may_read_agent_money(viewer: Viewer, user_id: uuid.UUID | None) -> bool:
    """An agent's money figures: the agent itself, admins, managers, sales support; nobody else."""
    if viewer.has_any_role(*READ_ANY_AGENT_MONEY):
        return True
    return (
        viewer.has_any_role(*READ_OWN_AGENT_MONEY)
        and viewer.user_id is not None
        and viewer.user_id == user_id
    )


# Reports and dashboards (issue 16) -----------------------------------------------------
#
#: `payments(from, to, method)` (the payments report): `payment(id)`'s readers, finance
#: staff (admins, managers, accounting).
READ_PAYMENTS = WORK_FINANCE
#: `revenueMonthToDate` (the operator's booked, profit and collected this month): admins,
#: managers, accounting. Sales support reads agents' figures, not the operator's books.
READ_OPERATOR_REVENUE = (Role.ADMIN, Role.MANAGER, Role.ACCOUNTING)
#: `Charter.profit`: the figures of `User.profitMonthToDate` for the charter's agent
#: (`may_read_agent_money` with the charter's `sales_agent_id`): the agent itself, admins,
#: managers, accounting, sales support. A charter finance has no facts of names no agent,
#: so only READ_ANY_AGENT_MONEY reads (a null) for it.
#: `Payables.paidMonthToDate`, `paidYearToDate`: the payables' readers (`may_read_bill`).


# The accounting sync (issue 12 section 6) ----------------------------------------------
#
# What reaches QuickBooks and what went wrong is bookkeeping: finance staff only.
#: `Invoice.accountingSync`, `Payment.accountingSync`: a FORBIDDEN error for anyone else
#: (the invoice's own client included), the rest of the invoice still answering.
READ_ACCOUNTING_SYNC = WORK_FINANCE
#: `syncRecords`, `syncConflicts`.
READ_SYNC_QUEUE = WORK_FINANCE
#: `retrySync` (a dead letter back to pending), `resolveSyncConflict`.
WORK_SYNC_QUEUE = WORK_FINANCE


# The client portal's money (issue 14 section 2) -----------------------------------------
#
#: `Client.nextPaymentDue`, `Client.recentPayments`: the receivables' readers
#: (`may_read_receivables`): finance staff, sales support, the client's own agent, the
#: client itself. `Charter.paidInFull`, `paidInFullAt`: the balance's (`may_read_balance`).
#: `payFromPlan` (the deposit, the balance or the next instalment, its amount from the
#: plan): the payers of `payByCard` (`may_pay_charter`).
#: `Client.autopay` (read), `setAutopay`, `disableAutopay`: finance staff for any
#: client, a client's own users for it (`may_manage_autopay`).
MANAGE_ANY_AUTOPAY = WORK_FINANCE
MANAGE_OWN_AUTOPAY = (Role.CLIENT,)


def may_manage_autopay(viewer: Viewer, client_id: uuid.UUID | None) -> bool:
    """A client's autopay and its last result: finance staff, and the client itself."""
    return viewer.has_any_role(*MANAGE_ANY_AUTOPAY) or _own_client(
        viewer, MANAGE_OWN_AUTOPAY, client_id
    )
