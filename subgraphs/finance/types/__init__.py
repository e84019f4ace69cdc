"""Finance's GraphQL types, one module per aggregate: thin views; who reads what is `service/access.py`."""

from subgraphs.finance.types.bills import BillPayment, Vendor, VendorBill, VendorBillStatus
from subgraphs.finance.types.entities import Charter, Client, Receivables
from subgraphs.finance.types.invoices import Invoice, InvoiceLine, InvoiceStatus
from subgraphs.finance.types.payments import (
    ZERO,
    Balance,
    Payment,
    PaymentApplication,
    PaymentMethod,
    gid,
)

__all__ = [
    "ZERO",
    "Balance",
    "BillPayment",
    "Charter",
    "Client",
    "Invoice",
    "InvoiceLine",
    "InvoiceStatus",
    "Payment",
    "PaymentApplication",
    "PaymentMethod",
    "Receivables",
    "Vendor",
    "VendorBill",
    "VendorBillStatus",
    "gid",
]
