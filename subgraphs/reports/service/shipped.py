"""The report templates shipped with the product (issue 16 section 2), as data.

They are ordinary shared templates with a stable `key`: installing them at
start-up inserts the missing ones and brings changed ones back to what the
code says, so a release that fixes a shipped operation fixes every database.
Users' own templates (no key) are never touched, and an archived shipped
template stays archived. Each operation is written against the checked-in
supergraph; a test validates every one, so a schema change that breaks one
fails CI instead of a manager's morning.

Ratios (win rate, utilisation, margin) are never computed by a template: the
subgraph that owns the data exposes them as fields (a figure is computed once,
in its owner), and a template only lays them out; its aggregations are sums,
counts, averages, minimums and maximums of cells.

What the current graph cannot answer yet (see the issue 16 report):
- "Profit by agent / client / vehicle type" cannot show a group's margin: a margin
  is a ratio of sums, not an aggregation of cells (`Charter.profit.margin` is per charter).
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


def money_columns(prefix: str, fields: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [column(f"{prefix}{path}", label, "money") for path, label in fields]


def sums(columns: list[dict[str, str]]) -> list[dict[str, str]]:
    """A sum of every money or number column: the report's totals line."""
    return [aggregate(c["path"], "sum") for c in columns if c["format"] in ("money", "number")]


SALES_BY_AGENT = Shipped(
    key="sales_by_agent",
    name="Sales by agent",
    description=(
        "Charters booked (their quote accepted: `bookedAt`) from the 1st of this month and "
        "booked or later now (booked, confirmed, in progress, completed), by sales agent: how "
        "many and their accepted quote total. A sales agent sees its own charters only; "
        "managers see every agent's."
    ),
    operation=f"""query SalesByAgent($from: DateTime, $to: DateTime, $first: Int = 100, $after: String) {{
  charters(
    first: $first
    after: $after
    where: {{status: {BOOKED_AND_LATER}, bookedFrom: $from, bookedTo: $to}}
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
        "Money received by payment method, month to date unless `from`/`to` say otherwise: "
        "how many payments and their total, applied to charters or not; refunds count "
        "negative and failed card charges not at all (finance's `payments`, by the day "
        "received). Admins, managers and accounting."
    ),
    operation=f"""query PaymentSummary($from: DateTime, $to: DateTime, $method: [PaymentMethod!], $first: Int = 100, $after: String) {{
  payments(from: $from, to: $to, method: $method, first: $first, after: $after) {{
    edges {{ node {{ method kind amount receivedOn }} }}
    {PAGE_INFO}
  }}
}}""",
    variables={"from": {"relative": "month_start_instant"}},
    rows_path="payments.edges.node",
    columns=[
        column("method", "Method"),
        column("kind", "Kind"),
        column("receivedOn", "Received", "date"),
        column("amount", "Amount", "money"),
    ],
    group_by=["method"],
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

_BID_COUNTS = [
    column("bids", "Bids", "number"),
    column("won", "Won", "number"),
    column("lost", "Lost", "number"),
    column("pending", "Pending", "number"),
]
VENDOR_BID_ANALYTICS = Shipped(
    key="vendor_bid_analytics",
    name="Vendor bid analytics",
    description=(
        "Every vendor that bid in the window (`from` to `to`, by submission; default the 90 "
        "days to now): its bids, won, lost and pending, its win rate (won / decided, 0 to 1) "
        "and how far above the lowest bid on the same vehicle it bid on average, in percent."
    ),
    operation="""query VendorBidAnalytics($from: DateTime, $to: DateTime) {
  bidAnalytics(from: $from, to: $to) {
    vendors { vendor { name } bids won lost pending winRate averageAboveLowestPercent }
  }
}""",
    variables={"from": {"relative": "days_ago_instant", "days": 90}},
    rows_path="bidAnalytics.vendors",
    columns=[
        column("vendor.name", "Vendor"),
        *_BID_COUNTS,
        column("winRate", "Win rate", "number"),
        column("averageAboveLowestPercent", "Above lowest (%)", "number"),
    ],
    aggregations=sums(_BID_COUNTS),
    visualisation="bar",
)

# --- The finance reports of issue 10 -------------------------------------------------------
# Finance computes each one (its root fields, finance staff only); a template only lays its
# rows out and sums them again, so the run's totals are the report's own totals.


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

# --- The reports of issue 16 section 2 ---------------------------------------------------
# Each figure (profit, hours, ratios, counts) is computed by the subgraph that owns it; the
# templates lay the rows out, group them and add them up.

PROFIT_OPERATION = f"""query ProfitByCharter($from: DateTime, $to: DateTime, $first: Int = 100, $after: String) {{
  charters(
    first: $first
    after: $after
    where: {{status: {BOOKED_AND_LATER}, bookedFrom: $from, bookedTo: $to}}
  ) {{
    edges {{
      node {{
        reference
        salesAgent {{ name }}
        client {{ name }}
        vehicleTypeSummary
        profit {{ price cost profit }}
      }}
    }}
    {PAGE_INFO}
  }}
}}"""
_PROFIT = money_columns("profit.", [("price", "Price"), ("cost", "Cost"), ("profit", "Profit")])
PROFIT_WINDOW = (
    "charters booked (`bookedAt`) from `from` to `to` (default the 1st of this month to now) "
    "and booked or later now: how many, their accepted price, vehicle cost (unknown: 0) and "
    "profit, as finance's `Charter.profit` states them. No margin column: a group's margin "
    "is a ratio of its sums, which a template does not compute (`Charter.profit.margin` is "
    "one charter's)."
)


def profit_by(key: str, name: str, path: str, label: str, what: str) -> Shipped:
    return Shipped(
        key=key,
        name=name,
        description=f"By {what}, {PROFIT_WINDOW}",
        operation=PROFIT_OPERATION,
        variables={"from": {"relative": "month_start_instant"}},
        rows_path="charters.edges.node",
        columns=[column(path, label), column("reference", "Charter"), *_PROFIT],
        group_by=[path],
        aggregations=[aggregate("reference", "count"), *sums(_PROFIT)],
        visualisation="bar",
    )


PROFIT_BY_AGENT = profit_by(
    "profit_by_agent", "Profit by agent", "salesAgent.name", "Agent", "sales agent"
)
PROFIT_BY_CLIENT = profit_by(
    "profit_by_client", "Profit by client", "client.name", "Client", "client"
)
PROFIT_BY_VEHICLE_TYPE = profit_by(
    "profit_by_vehicle_type",
    "Profit by vehicle type",
    "vehicleTypeSummary",
    "Vehicle types",
    'the charter\'s vehicle types ("Coach + Minibus" is a group of its own)',
)

_HOURS = [
    column("bookedHours", "Booked hours", "number"),
    column("availableHours", "Available hours", "number"),
]
UTILISATION_WINDOW = (
    "from `from` to `to` (default the 1st of this month to the end of today, operator's "
    "time zone; at most 366 days): hours booked trips cover (overlaps merged) over the "
    "window's hours less blackout days, and utilisation = booked / available (0 to 1, "
    "charters' figure). Admins, managers and dispatch."
)
VEHICLE_UTILISATION = Shipped(
    key="vehicle_utilisation",
    name="Vehicle utilisation",
    description=f"Every active vehicle of the fleet {UTILISATION_WINDOW}",
    operation="""query VehicleUtilisation($from: DateTime!, $to: DateTime!) {
  vehicleUtilisation(from: $from, to: $to) {
    vehicles { vehicle { plate } vehicleType { name } bookedHours availableHours utilisation }
  }
}""",
    variables={
        "from": {"relative": "month_start_instant"},
        "to": {"relative": "tomorrow_instant"},
    },
    rows_path="vehicleUtilisation.vehicles",
    columns=[
        column("vehicle.plate", "Vehicle"),
        column("vehicleType.name", "Type"),
        *_HOURS,
        column("utilisation", "Utilisation", "number"),
    ],
    aggregations=sums(_HOURS),
    visualisation="bar",
)
VEHICLE_UTILISATION_BY_TYPE = Shipped(
    key="vehicle_utilisation_by_type",
    name="Vehicle utilisation by type",
    description=f"Every vehicle type in service, its vehicles' hours summed, {UTILISATION_WINDOW}",
    operation="""query VehicleUtilisationByType($from: DateTime!, $to: DateTime!) {
  vehicleUtilisation(from: $from, to: $to) {
    byType { vehicleType { name } vehicles bookedHours availableHours utilisation }
  }
}""",
    variables={
        "from": {"relative": "month_start_instant"},
        "to": {"relative": "tomorrow_instant"},
    },
    rows_path="vehicleUtilisation.byType",
    columns=[
        column("vehicleType.name", "Type"),
        column("vehicles", "Vehicles", "number"),
        *_HOURS,
        column("utilisation", "Utilisation", "number"),
    ],
    aggregations=sums([column("vehicles", "Vehicles", "number"), *_HOURS]),
    visualisation="bar",
)

_PERFORMANCE_COUNTS = [
    column("ratings", "Ratings", "number"),
    column("assignments", "Assignments", "number"),
    column("declines", "Declines", "number"),
    column("completed", "Completed", "number"),
    column("vendor.recoveryCount", "Recoveries", "number"),
]
VENDOR_PERFORMANCE = Shipped(
    key="vendor_performance",
    name="Vendor performance",
    description=(
        "Every approved vendor, from `from` to `to` (default the 365 days to now): ratings "
        "and their average overall and on-time scores, assignments offered, declined or given "
        "back, completed, and recovery cases it caused (charters' `recoveryCount`). Admins, "
        "managers and dispatch."
    ),
    operation="""query VendorPerformance($from: DateTime, $to: DateTime) {
  vendorPerformance(from: $from, to: $to) {
    vendor { name recoveryCount(from: $from, to: $to) }
    ratings averageOverall averageOnTime assignments declines completed
  }
}""",
    variables={"from": {"relative": "days_ago_instant", "days": 365}},
    rows_path="vendorPerformance",
    columns=[
        column("vendor.name", "Vendor"),
        column("ratings", "Ratings", "number"),
        column("averageOverall", "Overall", "number"),
        column("averageOnTime", "On time", "number"),
        *_PERFORMANCE_COUNTS[1:],
    ],
    aggregations=sums(_PERFORMANCE_COUNTS),
)

QC_BACKLOG = Shipped(
    key="qc_backlog",
    name="Quality-control backlog",
    description=(
        "Open change cases and overdue open dispatch tasks by kind and age (whole days since "
        "the case opened or the task became overdue): how many in each bucket. Admins, "
        "managers, dispatch and sales support."
    ),
    operation=f"""query QcBacklog($first: Int = 100, $after: String) {{
  qcBacklog(first: $first, after: $after) {{
    edges {{ node {{ kind ageBucket charter {{ reference }} openedAt ageDays }} }}
    {PAGE_INFO}
  }}
}}""",
    rows_path="qcBacklog.edges.node",
    columns=[
        column("kind", "Kind"),
        column("ageBucket", "Age"),
        column("charter.reference", "Charter"),
        column("openedAt", "Open since", "datetime"),
        column("ageDays", "Days", "number"),
    ],
    group_by=["kind", "ageBucket"],
    aggregations=[aggregate("charter.reference", "count")],
    visualisation="bar",
)

PEAKS_WINDOW = (
    "Charters booked (`bookedAt`, cancelled ones included: a booking is demand) from `from` "
    "to `to` (default the 365 days to the end of today), operator's time zone"
)
_PEAKS_VARIABLES: dict[str, Any] = {
    "from": {"relative": "days_ago_instant", "days": 365},
    "to": {"relative": "tomorrow_instant"},
}
PEAK_PERIODS_BY_WEEK = Shipped(
    key="peak_periods_by_week",
    name="Peak periods by week",
    description=f"{PEAKS_WINDOW}, per ISO week (Monday), weeks without bookings as 0.",
    operation="""query PeakPeriodsByWeek($from: DateTime, $to: DateTime) {
  bookingPeaks(from: $from, to: $to) { byWeek { weekStart bookings } }
}""",
    variables=_PEAKS_VARIABLES,
    rows_path="bookingPeaks.byWeek",
    columns=[column("weekStart", "Week of", "date"), column("bookings", "Bookings", "number")],
    aggregations=[aggregate("bookings", "sum")],
    visualisation="line",
)
PEAK_PERIODS_BY_WEEKDAY = Shipped(
    key="peak_periods_by_weekday",
    name="Peak periods by weekday",
    description=f"{PEAKS_WINDOW}, per weekday, Monday first.",
    operation="""query PeakPeriodsByWeekday($from: DateTime, $to: DateTime) {
  bookingPeaks(from: $from, to: $to) { byWeekday { weekday name bookings } }
}""",
    variables=_PEAKS_VARIABLES,
    rows_path="bookingPeaks.byWeekday",
    columns=[
        column("weekday", "Weekday", "number"),
        column("name", "Day"),
        column("bookings", "Bookings", "number"),
    ],
    aggregations=[aggregate("bookings", "sum")],
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
    PROFIT_BY_AGENT,
    PROFIT_BY_CLIENT,
    PROFIT_BY_VEHICLE_TYPE,
    VEHICLE_UTILISATION,
    VEHICLE_UTILISATION_BY_TYPE,
    VENDOR_PERFORMANCE,
    QC_BACKLOG,
    PEAK_PERIODS_BY_WEEK,
    PEAK_PERIODS_BY_WEEKDAY,
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
