"""Finance's lifecycles as explicit transition tables (the kit's `machine`).

An invoice starts as a draft, is sent, and then moves with the money
applied to it (service/applications.py sets partially_paid and paid under
the invoice's row lock) or with the calendar (overdue). It may be voided
until it is paid; voiding one that already holds money is refused by the
service (take the payments back first), because the table cannot see money.
Void is final. Money taken back (applications.unapply: a bounced check)
moves an invoice back: paid to partially_paid or sent, partially_paid to sent.
"""

from __future__ import annotations

from subgraphs.kit.state_machine import machine

INVOICE = machine(
    "invoice",
    {
        "draft": {"sent", "void"},
        "sent": {"partially_paid", "paid", "overdue", "void"},
        "partially_paid": {"paid", "overdue", "void", "sent"},
        "overdue": {"partially_paid", "paid", "void"},
        "paid": {"partially_paid", "sent"},
        "void": set(),
    },
)

#: A vendor bill is received, approved by a manager, then moves with the money
#: paid on it (service/bills.py, under the bill's row lock) or with the calendar
#: (overdue). A dispute may be raised until it is paid and is resolved back to
#: where the bill's facts put it (approval, money paid, due date). Paid is final.
BILL = machine(
    "bill",
    {
        "received": {"approved", "disputed"},
        "approved": {"partially_paid", "paid", "overdue", "disputed"},
        "partially_paid": {"paid", "overdue", "disputed"},
        "overdue": {"partially_paid", "paid", "disputed"},
        "disputed": {"received", "approved", "partially_paid", "overdue"},
        "paid": set(),
    },
)
