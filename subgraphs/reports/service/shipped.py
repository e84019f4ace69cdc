"""The report templates shipped with the product (issue 16 section 2), as data.

They are ordinary shared templates with a stable `key`: installing them at
start-up inserts the missing ones and brings changed ones back to what the
code says, so a release that fixes a shipped operation fixes every database.
Users' own templates (no key) are never touched, and an archived shipped
template stays archived. Each operation is written against the checked-in
supergraph; a test validates every one, so a schema change that breaks one
fails CI instead of a manager's morning.

What the current graph cannot answer yet (see the issue 16 report):
- "Sales by agent" filters charters by pickup (`CharterFilter` has no booked-at range):
  month to date here means picking up from the 1st of this month.
- "Payment summary" reads the payments applied to charters (`Charter.payments`):
  finance has no `payments(from, to)` list, so unapplied money is not in it.
- "Vendor bid analytics" counts bids per vendor and status; a win rate needs a ratio
  the templates' aggregations do not compute.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text

from subgraphs.reports.models import ReportTemplate
from subgraphs.reports.service import audit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.kit.context import Services

log = logging.getLogger(__name__)

#: Statuses of a charter once it is booked (a quote accepted), cancelled ones aside.
BOOKED_AND_LATER = "[BOOKED, CONFIRMED, IN_PROGRESS, COMPLETED]"
PAGE_INFO = "pageInfo { hasNextPage endCursor }"
#: One install at a time across replicas starting together.
INSTALL_LOCK = "reports.shipped_templates"


@dataclass(frozen=True)
class Shipped:
    key: str
    name: str
    description: str
    operation: str
    rows_path: str
    columns: list[dict[str, str]]
    group_by: list[str] = field(default_factory=list)
    aggregations: list[dict[str, str]] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    visualisation: str = "table"
    page_size: int = 100

    def values(self) -> dict[str, Any]:
        """The template's columns as the code ships them."""
        return {
            "name": self.name,
            "description": self.description,
            "operation": self.operation,
            "variables": self.variables,
            "rows_path": self.rows_path,
            "page_size": self.page_size,
            "columns": self.columns,
            "group_by": self.group_by,
            "aggregations": self.aggregations,
            "visualisation": self.visualisation,
        }


def column(path: str, label: str, format: str = "text") -> dict[str, str]:
    return {"path": path, "label": label, "format": format}


def aggregate(path: str, function: str) -> dict[str, str]:
    return {"column": path, "function": function}


SALES_BY_AGENT = Shipped(
    key="sales_by_agent",
    name="Sales by agent",
    description=(
        "Booked charters (booked, confirmed, in progress, completed) picking up from the 1st of "
        "this month, by sales agent: how many and their accepted quote total. What each reader "
        "sees is what the graph lets them read."
    ),
    operation=f"""query SalesByAgent($from: DateTime, $to: DateTime, $first: Int = 100, $after: String) {{
  charters(
    first: $first
    after: $after
    where: {{status: {BOOKED_AND_LATER}, pickupFrom: $from, pickupTo: $to}}
  ) {{
    edges {{ node {{ reference salesAgent {{ name email }} quote {{ total accepted }} }} }}
    {PAGE_INFO}
  }}
}}""",
    variables={"from": {"relative": "month_start_instant"}},
    rows_path="charters.edges.node",
    columns=[
        column("salesAgent.name", "Agent"),
        column("salesAgent.email", "E-mail"),
        column("reference", "Charter"),
        column("quote.total", "Booked", "money"),
    ],
    group_by=["salesAgent.name", "salesAgent.email"],
    aggregations=[aggregate("reference", "count"), aggregate("quote.total", "sum")],
    visualisation="bar",
)

CHARTER_STATUS_SUMMARY = Shipped(
    key="charter_status_summary",
    name="Charter status summary",
    description=(
        "How many charters (quotes included) are in each status, optionally for pickups "
        "in a window (`from` inclusive, `to` exclusive)."
    ),
    operation=f"""query CharterStatusSummary($from: DateTime, $to: DateTime, $first: Int = 100, $after: String) {{
  charters(first: $first, after: $after, where: {{pickupFrom: $from, pickupTo: $to}}) {{
    edges {{ node {{ reference status }} }}
    {PAGE_INFO}
  }}
}}""",
    rows_path="charters.edges.node",
    columns=[column("status", "Status"), column("reference", "Charter")],
    group_by=["status"],
    aggregations=[aggregate("reference", "count")],
    visualisation="pie",
)

PAYMENT_SUMMARY = Shipped(
    key="payment_summary",
    name="Payment summary",
    description=(
        "Money applied to charters by payment method: how many applications and their total "
        "(finance staff; refunds reduce what they gave back)."
    ),
    operation=f"""query PaymentSummary($from: DateTime, $to: DateTime, $first: Int = 100, $after: String) {{
  charters(first: $first, after: $after, where: {{pickupFrom: $from, pickupTo: $to}}) {{
    edges {{ node {{ reference payments {{ amount payment {{ method }} }} }} }}
    {PAGE_INFO}
  }}
}}""",
    rows_path="charters.edges.node.payments",
    columns=[
        column("payment.method", "Method"),
        column("amount", "Amount", "money"),
    ],
    group_by=["payment.method"],
    aggregations=[aggregate("amount", "count"), aggregate("amount", "sum")],
    visualisation="pie",
)

CERTIFICATION_EXPIRATIONS = Shipped(
    key="certification_expirations",
    name="Certification expirations",
    description=(
        "Vendors' active certifications (DOT, MC, insurance) expiring in the next "
        "`withinDays` days (30 by default), expired ones still marked active included; "
        "soonest first."
    ),
    operation=f"""query CertificationExpirations($withinDays: Int! = 30, $first: Int = 100, $after: String) {{
  expiringCertifications(withinDays: $withinDays, first: $first, after: $after) {{
    edges {{
      node {{
        vendor {{ name }}
        certification {{ type number expiresOn daysUntilExpiration }}
      }}
    }}
    {PAGE_INFO}
  }}
}}""",
    variables={"withinDays": 30},
    rows_path="expiringCertifications.edges.node",
    columns=[
        column("vendor.name", "Vendor"),
        column("certification.type", "Type"),
        column("certification.number", "Number"),
        column("certification.expiresOn", "Expires", "date"),
        column("certification.daysUntilExpiration", "Days left", "number"),
    ],
    aggregations=[aggregate("certification.number", "count")],
)

VENDOR_BID_ANALYTICS = Shipped(
    key="vendor_bid_analytics",
    name="Vendor bid analytics",
    description=(
        "Bids on charters (optionally picking up in a window) by vendor and status: how many, "
        "their total and average amount; a vendor's ACCEPTED and REJECTED rows are its wins "
        "and losses."
    ),
    operation=f"""query VendorBidAnalytics($from: DateTime, $to: DateTime, $first: Int = 100, $after: String) {{
  charters(first: $first, after: $after, where: {{pickupFrom: $from, pickupTo: $to}}) {{
    edges {{ node {{ reference bids(first: 100) {{ status amount vendor {{ name }} }} }} }}
    {PAGE_INFO}
  }}
}}""",
    rows_path="charters.edges.node.bids",
    columns=[
        column("vendor.name", "Vendor"),
        column("status", "Status"),
        column("amount", "Amount", "money"),
    ],
    group_by=["vendor.name", "status"],
    aggregations=[
        aggregate("amount", "count"),
        aggregate("amount", "sum"),
        aggregate("amount", "average"),
    ],
    visualisation="bar",
    # 100 charters of 100 bids each is past the router's cost limit (50,000): 50 a page.
    page_size=50,
)

# --- The finance reports of issue 10 -------------------------------------------------------
# Finance computes each one (its root fields, finance staff only); a template only lays its
# rows out and sums them again, so the run's totals are the report's own totals.


def money_columns(prefix: str, fields: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [column(f"{prefix}{path}", label, "money") for path, label in fields]


def sums(columns: list[dict[str, str]]) -> list[dict[str, str]]:
    """A sum of every money or number column: the report's totals line."""
    return [aggregate(c["path"], "sum") for c in columns if c["format"] in ("money", "number")]


AGING_BUCKETS = "buckets { current days1To30 days31To60 days61To90 days91To120 over120 total }"
AGING_COLUMNS = money_columns(
    "buckets.",
    [
        ("current", "Current"),
        ("days1To30", "1-30 days"),
        ("days31To60", "31-60 days"),
        ("days61To90", "61-90 days"),
        ("days91To120", "91-120 days"),
        ("over120", "Over 120 days"),
        ("total", "Total"),
    ],
)

AR_AGING = Shipped(
    key="finance_ar_aging",
    name="AR aging",
    description=(
        "What clients owe on open invoices by days past due on `asOf` (default today in the "
        "operator's time zone), largest total first. Finance staff."
    ),
    operation=f"""query ArAging($asOf: Date) {{
  arAging(asOf: $asOf) {{ rows {{ clientName {AGING_BUCKETS} }} }}
}}""",
    rows_path="arAging.rows",
    columns=[column("clientName", "Client"), *AGING_COLUMNS],
    aggregations=sums(AGING_COLUMNS),
)

AP_AGING = Shipped(
    key="finance_ap_aging",
    name="AP aging",
    description=(
        "What the operator owes each vendor on unpaid bills by days past due on `asOf` "
        "(default today in the operator's time zone). Finance staff."
    ),
    operation=f"""query ApAging($asOf: Date) {{
  apAging(asOf: $asOf) {{ rows {{ vendorName {AGING_BUCKETS} }} }}
}}""",
    rows_path="apAging.rows",
    columns=[column("vendorName", "Vendor"), *AGING_COLUMNS],
    aggregations=sums(AGING_COLUMNS),
)

_PAYABLES = money_columns(
    "", [("billed", "Billed"), ("paid", "Paid"), ("owed", "Owed"), ("overdue", "Overdue")]
)
VENDOR_PAYABLES = Shipped(
    key="finance_vendor_payables",
    name="Vendor payables",
    description="Every vendor's bills: billed, paid, owed and overdue, most owed first. Finance staff.",
    operation="""query VendorPayables {
  vendorPayables { rows { vendorName billed paid owed overdue } }
}""",
    rows_path="vendorPayables.rows",
    columns=[column("vendorName", "Vendor"), *_PAYABLES],
    aggregations=sums(_PAYABLES),
    visualisation="bar",
)

_RECEIVABLES = [
    column("charters", "Charters", "number"),
    *money_columns(
        "",
        [
            ("owed", "Owed"),
            ("paid", "Paid"),
            ("outstanding", "Outstanding"),
            ("overdue", "Overdue"),
        ],
    ),
]
OUTSTANDING_RECEIVABLES = Shipped(
    key="finance_outstanding_receivables",
    name="Outstanding receivables",
    description=(
        "By client, today (operator's time zone): its booked charters' accepted prices, what "
        "was paid, what is outstanding and the overdue part of it. Finance staff."
    ),
    operation="""query OutstandingReceivables {
  outstandingReceivables { rows { clientName charters owed paid outstanding overdue } }
}""",
    rows_path="outstandingReceivables.rows",
    columns=[column("clientName", "Client"), *_RECEIVABLES],
    aggregations=sums(_RECEIVABLES),
    visualisation="bar",
)

_UNEARNED = money_columns("", [("owed", "Price"), ("received", "Received")])
UNEARNED_REVENUE = Shipped(
    key="finance_unearned_revenue",
    name="Unearned revenue",
    description=(
        "Money received for charters not cancelled whose pickup is still ahead, earliest "
        "pickup first. Finance staff."
    ),
    operation="""query UnearnedRevenue {
  unearnedRevenue { rows { reference clientName pickupAt owed received } }
}""",
    rows_path="unearnedRevenue.rows",
    columns=[
        column("reference", "Charter"),
        column("clientName", "Client"),
        column("pickupAt", "Pickup", "datetime"),
        *_UNEARNED,
    ],
    aggregations=[aggregate("reference", "count"), *sums(_UNEARNED)],
)

_TRIPS = [
    column("trips", "Trips", "number"),
    *money_columns("", [("revenue", "Revenue"), ("cost", "Cost"), ("profit", "Profit")]),
    column("uncosted", "Uncosted trips", "number"),
]
DEPARTED_TRIPS_BY_AGENT = Shipped(
    key="finance_departed_trips_by_agent",
    name="Departed trips by agent",
    description=(
        "Trips whose pickup has passed (not cancelled) by sales agent and month (operator's "
        "time zone): revenue, cost and profit. Pickups from `from` to `to` inclusive (default "
        "this year to date). Finance staff."
    ),
    operation="""query DepartedTripsByAgent($from: Date, $to: Date) {
  departedTripsByAgent(from: $from, to: $to) {
    rows { agent { name } month trips revenue cost profit uncosted }
  }
}""",
    rows_path="departedTripsByAgent.rows",
    columns=[column("agent.name", "Agent"), column("month", "Month"), *_TRIPS],
    aggregations=sums(_TRIPS),
    visualisation="bar",
)

_CANCELLED = money_columns("", [("owed", "Price"), ("fee", "Fee"), ("paid", "Paid")])
CANCELLATIONS = Shipped(
    key="finance_cancellations",
    name="Cancellations",
    description=(
        "Charters cancelled from `from` to `to` inclusive (operator's calendar; default this "
        "month to date): the price they had, the fee charged, what was paid. Finance staff."
    ),
    operation="""query Cancellations($from: Date, $to: Date) {
  cancellations(from: $from, to: $to) {
    rows { reference clientName cancelledAt pickupAt owed fee paid reason }
  }
}""",
    rows_path="cancellations.rows",
    columns=[
        column("reference", "Charter"),
        column("clientName", "Client"),
        column("cancelledAt", "Cancelled", "datetime"),
        column("pickupAt", "Pickup", "datetime"),
        *_CANCELLED,
        column("reason", "Reason"),
    ],
    aggregations=[aggregate("reference", "count"), *sums(_CANCELLED)],
)

_DUE = money_columns("", [("amount", "Instalment"), ("unpaid", "Unpaid")])
UPCOMING_DUE_DATES = Shipped(
    key="finance_upcoming_due_dates",
    name="Upcoming due dates",
    description=(
        "Plan instalments due from today to `days` days ahead (14 by default) that payments "
        "do not cover, soonest first. Finance staff."
    ),
    operation="""query UpcomingDueDates($days: Int! = 14) {
  upcomingDueDates(days: $days) { rows { reference clientName kind dueOn amount unpaid } }
}""",
    variables={"days": 14},
    rows_path="upcomingDueDates.rows",
    columns=[
        column("reference", "Charter"),
        column("clientName", "Client"),
        column("kind", "Instalment"),
        column("dueOn", "Due", "date"),
        *_DUE,
    ],
    aggregations=[aggregate("reference", "count"), *sums(_DUE)],
)

_CHECK_DAY = [column("count", "Checks", "number"), column("total", "Total", "money")]
CHECK_LOG = Shipped(
    key="finance_check_log",
    name="Check log",
    description=(
        "Checks received per day, from `from` to `to` inclusive (default the 1st of this month "
        "to today, at most 366 days): how many and their sum. Finance staff."
    ),
    operation="""query CheckLog($from: Date, $to: Date) {
  checkLog(from: $from, to: $to) { days { day count total } }
}""",
    variables={"from": {"relative": "month_start"}, "to": {"relative": "today"}},
    rows_path="checkLog.days",
    columns=[column("day", "Day", "date"), *_CHECK_DAY],
    aggregations=sums(_CHECK_DAY),
    visualisation="bar",
)

SHIPPED: tuple[Shipped, ...] = (
    SALES_BY_AGENT,
    CHARTER_STATUS_SUMMARY,
    PAYMENT_SUMMARY,
    CERTIFICATION_EXPIRATIONS,
    VENDOR_BID_ANALYTICS,
    AR_AGING,
    AP_AGING,
    VENDOR_PAYABLES,
    OUTSTANDING_RECEIVABLES,
    UNEARNED_REVENUE,
    DEPARTED_TRIPS_BY_AGENT,
    CANCELLATIONS,
    UPCOMING_DUE_DATES,
    CHECK_LOG,
)


def by_key(key: str) -> Shipped:
    return next(s for s in SHIPPED if s.key == key)


async def install(session: AsyncSession, shipped: tuple[Shipped, ...] = SHIPPED) -> int:
    """Insert the missing shipped templates and restore changed ones; how many it wrote.

    Matched by key only, so users' own templates are never read or written;
    `active` and the broken marks are left as they are (an admin's archive
    stands; `mark_broken` judges the operation). Holds a transaction-scoped
    advisory lock so replicas starting together do not race on the keys.
    """
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:lock))"), {"lock": INSTALL_LOCK}
    )
    keys = [s.key for s in shipped]
    existing = {
        t.key: t
        for t in await session.scalars(
            select(ReportTemplate).where(ReportTemplate.key.in_(keys)).with_for_update()
        )
    }
    written = 0
    for template in shipped:
        wanted = template.values()
        row = existing.get(template.key)
        if row is None:
            row = ReportTemplate(key=template.key, shared=True, owner_id=None, **wanted)
            session.add(row)
            await session.flush()
            audit.template_changed(session, row, "shipped_create", None, None)
            written += 1
            continue
        if all(getattr(row, name) == value for name, value in wanted.items()) and row.shared:
            continue
        before = audit.snapshot(row)
        for name, value in wanted.items():
            setattr(row, name, value)
        row.shared = True
        await session.flush()
        audit.template_changed(session, row, "shipped_update", None, before)
        written += 1
    return written


async def install_at_startup(services: Services) -> None:
    """App start-up hook: the shipped templates exist before anyone lists or runs them."""
    async with services.sessions() as session, session.begin():
        written = await install(session)
    if written:
        log.info("installed or updated %d shipped report templates", written)
