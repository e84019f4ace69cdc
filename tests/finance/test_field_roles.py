"""Every finance field, asked by every persona (issue 12 §7): the expected answers are data.

The selections are generated from finance's own served schema: each root
query asks every field reachable from it (three levels deep, lists and
connections included), and each `_Entity` type every field three levels
deep, so a field added to finance is asked here without anyone writing a
query for it. A root query without a row in `EXPECTED`, or an entity field
without a row in `FIELD_READERS`, fails the test (an entity is reachable by
anyone who can name its id, so each field finance adds to one must say who
reads it).

One world is built through finance's services, as the other subgraphs'
events and finance staff would build it: a client sold by an agent with a
booked charter (accepted price, plan), a sent invoice for it, a check
applied to it, a saved card; a departed charter paid in full and a cancelled
one with a fee (so the reports have rows); a vendor with a linked login, an
assignment and an approved vendor bill with a payment; the sync queue with
a record for the invoice and a conflict QuickBooks' webhook held. Then:

- a root a persona may not use answers a top-level FORBIDDEN (anonymous:
  UNAUTHENTICATED), or NOT_FOUND where an id names something past the gate
  that the persona may not see (no oracle);
- a root it may use answers every field asked, with no error except the
  field-level denials that `FIELD_READERS` states (`DENIED`), and nulls only
  where `UNSET` says nothing set the field;
- an entity answers every persona (finance's entities are stubs keyed by
  id); each guarded field answers null with FORBIDDEN (anonymous:
  UNAUTHENTICATED) at its path to a persona outside its readers.

The readers are `subgraphs/finance/service/access.py`'s, persona by persona.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import httpx
import pytest
from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    get_named_type,
    is_leaf_type,
)

from protocol.roles import Role
from protocol.viewer import Viewer
from stack.card_sandbox import CARD_OK
from subgraphs.finance.app import schema
from subgraphs.finance.models import QboMapping
from subgraphs.finance.reports.common import today as operator_today
from subgraphs.finance.service import (
    applications,
    bills,
    facts,
    invoices,
    payments,
    saved_methods,
    vendor_facts,
)
from subgraphs.finance.service import quickbooks as qb
from subgraphs.finance.service.providers import payment_provider
from subgraphs.finance.sync_webhooks import apply_payment_change
from subgraphs.kit.settings import Settings
from tests.finance.conftest import event
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer
from tests.support.tokens import TokenMinter

GRAPH = schema._schema
QUERY = cast(GraphQLObjectType, GRAPH.query_type)
PERSONAS = (
    "admin",
    "manager",
    "accounting",
    "sales_support",
    "owner_agent",
    "other_agent",
    "dispatcher",
    "own_client",
    "other_client",
    "own_vendor",
    "other_vendor",
    "driver",
    "anonymous",
)
#: WORK_FINANCE: accounting and managers (and admins) work every finance object.
FINANCE = {"admin", "manager", "accounting"}
#: may_read_balance: finance staff, sales support (READ_ANY_BALANCE), the charter's
#: (or client's) own agent and the client itself.
BALANCE = {*FINANCE, "sales_support", "owner_agent", "own_client"}
#: may_read_agent_money: READ_ANY_AGENT_MONEY (finance staff, sales support) and the agent.
AGENT_MONEY = {*FINANCE, "sales_support", "owner_agent"}
#: may_read_invoice: finance staff and the client billed (or that paid).
INVOICE = {*FINANCE, "own_client"}


def expect(allowed: set[str], *, missing: str = "FORBIDDEN") -> dict[str, str]:
    """`ok` for the allowed personas; the others FORBIDDEN (or `missing`), anonymous UNAUTHENTICATED."""
    return {
        p: "ok" if p in allowed else ("UNAUTHENTICATED" if p == "anonymous" else missing)
        for p in PERSONAS
    }


def by_id(allowed: set[str], gate: set[str]) -> dict[str, str]:
    """A root taking an id: past the role gate but not allowed to see it is NOT_FOUND."""
    out = expect(allowed)
    for p in gate - allowed:
        out[p] = "NOT_FOUND"
    return out


#: root query -> persona -> "ok" | error code.
EXPECTED: dict[str, dict[str, str]] = {
    # `payment` is WORK_FINANCE only: a client reads its own payments through
    # `Charter.payments`, not by id.
    "payment": by_id(FINANCE, FINANCE),
    "invoice": by_id({*FINANCE, "own_client"}, {*FINANCE, "own_client", "other_client"}),
    "arAging": expect(FINANCE),
    "apAging": expect(FINANCE),
    "vendorPayables": expect(FINANCE),
    "outstandingReceivables": expect(FINANCE),
    "charterPaymentStatus": expect(FINANCE),
    "zeroBalanceCharters": expect(FINANCE),
    "unearnedRevenue": expect(FINANCE),
    "checkLog": expect(FINANCE),
    "upcomingDueDates": expect(FINANCE),
    "departedTripsByAgent": expect(FINANCE),
    "cancellations": expect(FINANCE),
    "vendorBill": by_id({*FINANCE, "own_vendor"}, {*FINANCE, "own_vendor", "other_vendor"}),
    "vendorBills": expect({*FINANCE, "own_vendor", "other_vendor"}),
    "paymentConfiguration": expect(FINANCE),
    "syncRecords": expect(FINANCE),
    "syncConflicts": expect(FINANCE),
    # Reports and dashboards (issue 16): READ_PAYMENTS, READ_OPERATOR_REVENUE.
    "payments": expect(FINANCE),
    "revenueMonthToDate": expect(FINANCE),
}
#: Rows each persona sees in a connection or list root.
ROWS: dict[str, dict[str, int]] = {
    # The one bill is the own vendor's; the other vendor's login sees none of it.
    "vendorBills": {p: 0 if p == "other_vendor" else 1 for p in PERSONAS},
    "syncConflicts": dict.fromkeys(PERSONAS, 1),
    # The check received today, in the default window (the 30 days to now).
    "payments": dict.fromkeys(PERSONAS, 1),
}
#: Who reads each guarded field, wherever it is reached (a root's answer or an entity).
#: Every field finance adds to an entity has a row (test_every_entity_field_has_a_row).
FIELD_READERS: dict[tuple[str, str], set[str]] = {
    ("Charter", "balance"): BALANCE,
    ("Charter", "payments"): BALANCE,
    ("Charter", "invoices"): INVOICE,
    # The whole payment (its total, check number, what else it paid): not sales staff's.
    ("PaymentApplication", "payment"): INVOICE,
    ("Charter", "paymentPlan"): BALANCE,
    ("Client", "receivables"): BALANCE,  # may_read_receivables: the client's own agent
    ("Client", "savedPaymentMethods"): {*FINANCE, "own_client"},  # may_manage_saved_methods
    # The client portal's money (issue 14 §2): the receivables' and the balance's readers;
    # autopay is may_manage_autopay's (finance staff and the client itself).
    ("Client", "nextPaymentDue"): BALANCE,
    ("Client", "recentPayments"): BALANCE,
    ("Client", "autopay"): {*FINANCE, "own_client"},
    ("Charter", "paidInFull"): BALANCE,
    ("Charter", "paidInFullAt"): BALANCE,
    ("Vendor", "payables"): {*FINANCE, "own_vendor"},  # may_read_bill
    ("User", "bookedRevenueMonthToDate"): AGENT_MONEY,
    ("User", "profitMonthToDate"): AGENT_MONEY,
    ("User", "nonCardMoneyDue"): AGENT_MONEY,
    # `Charter.profit`: the readers of its agent's money figures (may_read_agent_money).
    ("Charter", "profit"): AGENT_MONEY,
    # READ_ACCOUNTING_SYNC: the invoice's or payment's own client reads the rest of the
    # object but not this.
    ("Invoice", "accountingSync"): FINANCE,
    ("Payment", "accountingSync"): FINANCE,
}
#: Field-level denials inside an allowed answer: (persona, type, field).
DENIED = {
    (p, type_name, field)
    for (type_name, field), readers in FIELD_READERS.items()
    for p in PERSONAS
    if p not in readers
}
#: Fields that may be null in the world below (nothing set them): not a denial.
UNSET = {
    ("PageInfo", "startCursor"),  # an empty page (the other vendor's bills)
    ("PageInfo", "endCursor"),
    ("Payment", "refundOfId"),  # no refunds here
    ("PaymentApplication", "unappliedAt"),  # nothing unapplied
    ("PaymentApplication", "unapplyReason"),
    ("Invoice", "voidReason"),  # nothing voided
    ("Invoice", "periodStart"),  # a charter's own invoice, not a consolidated one
    ("Invoice", "periodEnd"),
    ("AccountingSync", "lastError"),  # nothing sent to QuickBooks yet
    ("AccountingSync", "syncedAt"),
    ("AccountingSync", "qboId"),
    ("SyncRecord", "lastError"),
    ("SyncRecord", "syncedAt"),
    ("SyncConflict", "resolvedBy"),  # held, not resolved
    ("SyncConflict", "resolvedAt"),
    ("SyncConflict", "resolution"),
    ("VendorBill", "disputeReason"),  # never disputed
    ("BillPayment", "cardLastFour"),  # paid by check
    ("PaymentConfiguration", "updatedBy"),  # the seed defaults, edited by nobody
    ("ClientReceivablesRow", "clientId"),  # the totals row
    ("AgentMonthRow", "agentId"),  # the totals row
    ("AgentMonthRow", "agent"),
    ("Charter", "paidInFullAt"),  # the world's charter still owes
    ("Autopay", "savedMethod"),  # nobody turned autopay on
    ("Autopay", "lastResult"),
    # `Client.recentPayments` reaches the departed charter: paid in full, never invoiced.
    ("Balance", "nextDueOn"),
    ("PaymentApplication", "invoiceId"),
}


def _skipped(field: Any) -> bool:
    return any(
        isinstance(arg.type, GraphQLNonNull) and arg.default_value is None
        for arg in field.args.values()
    )


def selection(type_: GraphQLObjectType, depth: int) -> str:
    parts = []
    for name, field in type_.fields.items():
        if name.startswith("__") or _skipped(field):
            continue
        named = get_named_type(field.type)
        if is_leaf_type(named):
            parts.append(name)
        elif isinstance(named, GraphQLObjectType) and depth > 0:
            inner = selection(named, depth - 1)
            if inner:
                parts.append(f"{name} {{ {inner} }}")
    return " ".join(parts)


#: Arguments per root: ids from the world, date ranges wide enough to hold its rows.
ARGS: dict[str, tuple[str, str]] = {
    "payment": ("$payment: ID!", "(id: $payment)"),
    "invoice": ("$invoice: ID!", "(id: $invoice)"),
    "vendorBill": ("$bill: ID!", "(id: $bill)"),
    "vendorBills": ("", "(first: 5)"),
    "syncRecords": ("", "(first: 50)"),
    "upcomingDueDates": ("", "(days: 366)"),
    "checkLog": ("$from: Date, $to: Date", "(from: $from, to: $to)"),
    "departedTripsByAgent": ("$from: Date, $to: Date", "(from: $from, to: $to)"),
    "cancellations": ("$from: Date, $to: Date", "(from: $from, to: $to)"),
}


def operation(root: str) -> str:
    field = QUERY.fields[root]
    named = get_named_type(field.type)
    assert isinstance(named, GraphQLObjectType)
    variables, args = ARGS.get(root, ("", ""))
    header = f"query({variables})" if variables else "query"
    return f"{header} {{ {root}{args} {{ {selection(named, 3)} }} }}"


def roots() -> list[str]:
    return [name for name in QUERY.fields if not name.startswith("_")]


def entity_types() -> list[str]:
    union = GRAPH.get_type("_Entity")
    return sorted(t.name for t in union.types)  # type: ignore[union-attr]


def test_every_root_query_has_a_row() -> None:
    assert sorted(roots()) == sorted(EXPECTED)
    # A root needing an argument the selection generator cannot invent has an ARGS row.
    for root in roots():
        if _skipped(QUERY.fields[root]):
            assert root in ARGS, root


def test_every_entity_field_has_a_row() -> None:
    fields = {
        (type_name, name)
        for type_name in entity_types()
        for name in GRAPH.get_type(type_name).fields  # type: ignore[union-attr]
        if name != "id"
    }
    assert fields == {k for k in FIELD_READERS if k[0] in entity_types()}


def _nulls(value: Any, type_: Any, path: tuple[str, ...], out: list[tuple[str, str, str]]) -> None:
    """(type, field, path) of every null field in an answer, typed by the schema."""
    named = get_named_type(type_)
    if value is None or not isinstance(named, GraphQLObjectType):
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _nulls(item, named, (*path, str(i)), out)
        return
    for key, item in value.items():
        field = named.fields[key]
        if item is None:
            out.append((named.name, key, ".".join((*path, key))))
        elif isinstance(get_named_type(field.type), GraphQLObjectType):
            inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            _nulls(
                item, inner.of_type if isinstance(inner, GraphQLList) else inner, (*path, key), out
            )


def _field_failures(
    persona: str, answer: Any, value: Any, type_: Any, path: tuple[str, ...]
) -> list[tuple[Any, ...]]:
    """What is wrong in an allowed answer: a null nobody explains, or errors not in `DENIED`."""
    denied = {(t, f) for p, t, f in DENIED if p == persona}
    code = "UNAUTHENTICATED" if persona == "anonymous" else "FORBIDDEN"
    failures: list[tuple[Any, ...]] = []
    nulls: list[tuple[str, str, str]] = []
    _nulls(value, type_, path, nulls)
    for type_name, field, where in nulls:
        if (type_name, field) not in UNSET and (type_name, field) not in denied:
            failures.append((persona, "unexpected null", where))
    errors = sorted(
        (".".join(map(str, e.get("path") or [])), (e.get("extensions") or {}).get("code"))
        for e in answer.errors
    )
    expected = sorted((where, code) for t, f, where in nulls if (t, f) in denied)
    if errors != expected:
        failures.append((persona, "errors", errors, expected))
    # A denied field that answered is a leak: every denied (type, field) asked must be null.
    leaks = _answered(value, type_, path, denied)
    failures += [(persona, "leak", where) for where in leaks]
    return failures


def _answered(
    value: Any, type_: Any, path: tuple[str, ...], denied: set[tuple[str, str]]
) -> list[str]:
    """Paths of denied fields that carry a value."""
    named = get_named_type(type_)
    if value is None or not isinstance(named, GraphQLObjectType):
        return []
    if isinstance(value, list):
        return [
            where
            for i, item in enumerate(value)
            for where in _answered(item, named, (*path, str(i)), denied)
        ]
    out = []
    for key, item in value.items():
        if item is None:
            continue
        if (named.name, key) in denied:
            out.append(".".join((*path, key)))
            continue
        out += _answered(item, named.fields[key].type, (*path, key), denied)
    return out


def _rows(answer: Any) -> int:
    if isinstance(answer, list):
        return len(answer)
    return len(answer["edges"])


ACCOUNTING = Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.ACCOUNTING}))
MANAGER = Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.MANAGER}))


async def _facts(sessions: Any, ids: dict[str, uuid.UUID], now: datetime) -> None:
    """What sales, charters, pricing and vendors announced: a client, three charters, vendors."""
    agent = str(ids["owner"])
    async with sessions() as session, session.begin():
        await facts.apply_client_event(
            session,
            event(
                {
                    "clientId": str(ids["client"]),
                    "name": "Lakeside",
                    "type": "corporate",
                    "salesAgentId": agent,
                    "status": "active",
                    "email": "ap@lakeside.example",
                    "billingAddress": {"line1": "1 Main", "city": "Memphis", "country": "US"},
                }
            ),
        )
        trips = {
            "charter": ("CH-2026-000101", "booked", now + timedelta(days=60), {}),
            "departed": ("CH-2026-000102", "completed", now - timedelta(days=3), {}),
            "cancelled": (
                "CH-2026-000103",
                "cancelled",
                now + timedelta(days=20),
                {
                    "cancelledAt": (now - timedelta(minutes=5)).isoformat(),
                    "cancellationFee": "100.00",
                    "cancellationReason": "Weather",
                },
            ),
        }
        for key, (reference, status, pickup, extra) in trips.items():
            await facts.apply_quote_accepted(
                session,
                event(
                    {
                        "charterId": str(ids[key]),
                        "total": "1000.00" if key == "charter" else "500.00",
                        "lines": [{"label": "Motorcoach", "amount": "1000.00"}]
                        if key == "charter"
                        else [],
                    }
                ),
            )
            await facts.apply_charter_event(
                session,
                event(
                    {
                        "charterId": str(ids[key]),
                        "reference": reference,
                        "clientId": str(ids["client"]),
                        "salesAgentId": agent,
                        "status": status,
                        "pickupAt": pickup.isoformat(),
                        "vehicleCost": "300.00",
                        **extra,
                    }
                ),
            )
        for vendor, user, name in (
            ("vendor", "vendor_user", "Prairie"),
            ("other_vendor", "other_vendor_user", "Summit"),
        ):
            await vendor_facts.apply_vendor_event(
                session,
                event(
                    {
                        "vendorId": str(ids[vendor]),
                        "name": name,
                        "status": "active",
                        "paymentTerms": "Net 30",
                    }
                ),
            )
            await vendor_facts.apply_vendor_user_event(
                session, event({"userId": str(ids[user]), "vendorId": str(ids[vendor])})
            )
        await vendor_facts.apply_assignment_event(
            session,
            event(
                {
                    "assignmentId": str(ids["assignment"]),
                    "charterId": str(ids["charter"]),
                    "vendorId": str(ids["vendor"]),
                    "amount": "600.00",
                    "status": "confirmed",
                }
            ),
        )


@pytest.fixture
async def world(
    sessions: Any,
    finance_server: LiveServer,
    http_client: httpx.AsyncClient,
    mint: TokenMinter,
    settings: Settings,
    stripe_settings: Settings,
    fake_stripe_api: Any,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    today = operator_today(settings.operator_time_zone)
    names = (
        "owner",
        "other_agent",
        "client",
        "other_client",
        "charter",
        "departed",
        "cancelled",
        "vendor",
        "other_vendor",
        "vendor_user",
        "other_vendor_user",
        "assignment",
    )
    ids = {name: uuid.uuid4() for name in names}
    await _facts(sessions, ids, now)
    async with sessions() as session, session.begin():
        invoice = await invoices.invoice_charter(session, ids["charter"], ACCOUNTING, today)
        await invoices.send(session, invoice.id, ACCOUNTING)
        check = await payments.record(
            session,
            payments.PaymentInput(
                ids["client"],
                Decimal("900.00"),
                today,
                "check",
                {"checkNumber": "1001", "bank": "First Tennessee"},
                reference="Deposit and the departed trip",
            ),
            ACCOUNTING,
            today,
        )
        for charter, amount, on in (
            (ids["charter"], "400.00", invoice.id),
            (ids["departed"], "500.00", None),
        ):
            await applications.apply(
                session,
                applications.Application(
                    check.id, charter, Decimal(amount), f"k-{charter}", invoice_id=on
                ),
                ACCOUNTING,
            )
        await saved_methods.save(
            session, ids["client"], CARD_OK, True, ACCOUNTING, payment_provider(stripe_settings)
        )
        bill = await bills.bill_assignment(
            session, ids["assignment"], ACCOUNTING, today, vendor_reference="PR-77"
        )
        await bills.approve(session, bill.id, MANAGER)
        await bills.record_payment(
            session,
            bills.BillPaymentInput(
                bill.id,
                Decimal("200.00"),
                today,
                "check",
                f"b-{bill.id}",
                check_number="5001",
                reference="Part payment",
            ),
            ACCOUNTING,
            today,
        )
        # The sync worker sent the check once (its QuickBooks id), then someone deleted it there.
        session.add(QboMapping(entity="payment", entity_id=check.id, qbo_id="88", sync_token="0"))
    async with sessions() as session, session.begin():
        held = await apply_payment_change(
            session, qb.QboChange("realm", "Payment", "88", "Delete", now), None
        )
    assert held.action == "held", held

    async def as_(role: str | None, **who: Any) -> GraphQLClient:
        token = await mint(role, **who) if role else None
        return GraphQLClient(finance_server.graphql_url, http_client, token)

    callers = {
        "admin": await as_("admin"),
        "manager": await as_("manager"),
        "accounting": await as_("accounting"),
        "sales_support": await as_("sales_support"),
        "owner_agent": await as_("sales_agent", user_id=ids["owner"]),
        "other_agent": await as_("sales_agent", user_id=ids["other_agent"]),
        "dispatcher": await as_("dispatcher"),
        "own_client": await as_("client", client_id=ids["client"]),
        "other_client": await as_("client", client_id=ids["other_client"]),
        "own_vendor": await as_("vendor", user_id=ids["vendor_user"]),
        "other_vendor": await as_("vendor", user_id=ids["other_vendor_user"]),
        "driver": await as_("driver"),
        "anonymous": await as_(None),
    }
    assert set(callers) == set(PERSONAS)
    return {
        "callers": callers,
        "ids": ids,
        "variables": {
            "payment": str(check.id),
            "invoice": str(invoice.id),
            "bill": str(bill.id),
            "from": (today - timedelta(days=300)).isoformat(),
            "to": today.isoformat(),
        },
    }


@pytest.mark.parametrize("root", sorted(EXPECTED))
async def test_every_field_of_every_root_as_every_role(root: str, world: dict[str, Any]) -> None:
    query = operation(root)
    variables = {k: v for k, v in world["variables"].items() if f"${k}" in query}
    field_type = QUERY.fields[root].type
    failures = []
    for persona, caller in world["callers"].items():
        answer = await caller(query, variables)
        expected = EXPECTED[root][persona]
        if expected != "ok":
            if answer.error_codes != [expected] or (answer.data or {}).get(root) is not None:
                failures.append((persona, expected, answer.error_codes))
            continue
        if not answer.data or answer.data.get(root) is None:
            failures.append((persona, "no answer", answer.body))
            continue
        failures += _field_failures(persona, answer, answer.data[root], field_type, (root,))
        if root in ROWS and _rows(answer.data[root]) != ROWS[root][persona]:
            failures.append((persona, "rows", _rows(answer.data[root])))

    assert failures == [], f"{root}: {query}\n" + "\n".join(map(str, failures))


@pytest.mark.parametrize("type_name", entity_types())
async def test_every_field_of_every_entity_as_every_role(
    type_name: str, world: dict[str, Any]
) -> None:
    type_ = GRAPH.get_type(type_name)
    assert isinstance(type_, GraphQLObjectType)
    query = (
        "query($r: [_Any!]!) { _entities(representations: $r) { "
        f"... on {type_name} {{ {selection(type_, 3)} }} }} }}"
    )
    ids = world["ids"]
    keys = {
        "Charter": ids["charter"],
        "Client": ids["client"],
        "Vendor": ids["vendor"],
        "User": ids["owner"],  # the agent selling the client's charters
    }
    failures = []
    for persona, caller in world["callers"].items():
        answer = await caller(query, {"r": [{"__typename": type_name, "id": str(keys[type_name])}]})
        entities = (answer.data or {}).get("_entities")
        # Finance's entities are stubs: every persona gets one, its guarded fields refuse.
        if not entities or entities[0] is None or entities[0].get("id") != str(keys[type_name]):
            failures.append((persona, "missing", answer.body))
            continue
        failures += _field_failures(persona, answer, entities[0], type_, ("_entities", "0"))

    assert failures == [], f"{type_name}: {query}\n" + "\n".join(map(str, failures))
