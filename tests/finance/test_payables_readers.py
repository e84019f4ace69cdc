"""Who reads vendor bills and payables: finance staff all, a vendor its own, nobody else.

Through the finance subgraph with real tokens: `Vendor.payables` (as the
router asks for it, through `_entities`), `vendorBill` and `vendorBills`.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from subgraphs.finance.service import bills, vendor_facts
from tests.finance.conftest import event
from tests.finance.test_bills import ACCOUNTING, MANAGER, TODAY, enter, make_vendor
from tests.support.graphql_client import GraphQLClient

PAYABLES = """query($reps: [_Any!]!) {
  _entities(representations: $reps) {
    ... on Vendor { id payables { totalOwed totalOverdue
      bills { number status balance payments { amount } }
      overdue: bills(status: OVERDUE) { number } } }
  }
}"""
ONE = "query($id: ID!) { vendorBill(id: $id) { number vendorId total } }"
PAGE = """query($vendor: ID, $after: String) {
  vendorBills(first: 2, vendorId: $vendor, after: $after) {
    totalCount edges { node { number vendorId } } pageInfo { hasNextPage endCursor }
  }
}"""


async def link(sessions: Any, vendor_id: uuid.UUID) -> uuid.UUID:
    user_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        await vendor_facts.apply_vendor_user_event(
            session, event({"userId": str(user_id), "vendorId": str(vendor_id)})
        )
    return user_id


@pytest.fixture
async def books(sessions: Any) -> dict[str, Any]:
    """Two vendors; Prairie with an overdue bill part paid and a received one, Summit one bill."""
    prairie = await make_vendor(sessions, name="Prairie", terms="due_on_receipt")
    summit = await make_vendor(sessions, name="Summit")
    late = await enter(
        sessions, bills.BillInput(prairie, Decimal("500.00"), TODAY - timedelta(days=10))
    )
    fresh = await enter(sessions, bills.BillInput(prairie, Decimal("200.00"), TODAY))
    other = await enter(sessions, bills.BillInput(summit, Decimal("999.00"), TODAY))
    async with sessions() as session, session.begin():
        await bills.approve(session, late.id, MANAGER)
        await bills.record_payment(
            session,
            bills.BillPaymentInput(late.id, Decimal("150.00"), TODAY, "wire", "w-1"),
            ACCOUNTING,
            TODAY,
        )
        await bills.mark_overdue(session, TODAY)
    return {
        "prairie": prairie,
        "summit": summit,
        "late": late.number,
        "fresh": fresh.number,
        "other": (other.id, other.number),
        "prairie_user": await link(sessions, prairie),
    }


async def client(finance_server, http_client, mint, *roles: str, **ids: Any) -> GraphQLClient:
    return GraphQLClient(finance_server.graphql_url, http_client, await mint(*roles, **ids))


def reps(vendor_id: uuid.UUID) -> dict[str, Any]:
    return {"reps": [{"__typename": "Vendor", "id": str(vendor_id)}]}


async def test_finance_staff_and_the_vendor_itself_read_its_payables(
    books, finance_server, http_client, mint
):
    accounting = await client(finance_server, http_client, mint, "accounting")
    own = await client(finance_server, http_client, mint, "vendor", user_id=books["prairie_user"])

    by_staff = (await accounting(PAYABLES, reps(books["prairie"]))).ok()["_entities"][0]
    by_vendor = (await own(PAYABLES, reps(books["prairie"]))).ok()["_entities"][0]

    assert by_staff == by_vendor
    assert by_staff["payables"] == {
        "totalOwed": "550.00",  # 350 left on the overdue one, 200 received
        "totalOverdue": "350.00",
        "bills": [
            {
                "number": books["late"],
                "status": "OVERDUE",
                "balance": "350.00",
                "payments": [{"amount": "150.00"}],
            },
            {"number": books["fresh"], "status": "RECEIVED", "balance": "200.00", "payments": []},
        ],
        "overdue": [{"number": books["late"]}],
    }


@pytest.mark.parametrize(
    "who",
    [
        "other_vendor",
        "unlinked_vendor",
        "client",
        "driver",
        "sales_agent",
        "sales_support",
        "dispatcher",
    ],
)
async def test_anyone_else_is_refused_the_payables(books, finance_server, http_client, mint, who):
    if who == "other_vendor":
        caller = await client(
            finance_server, http_client, mint, "vendor", user_id=books["prairie_user"]
        )
        target = books["summit"]
    else:
        role = "vendor" if who == "unlinked_vendor" else who
        extra = {"client_id": uuid.uuid4()} if role == "client" else {}
        caller = await client(finance_server, http_client, mint, role, **extra)
        target = books["prairie"]

    answer = await caller(PAYABLES, reps(target))

    assert answer.error_codes == ["FORBIDDEN"]
    assert answer.data["_entities"][0]["payables"] is None


async def test_anonymous_is_unauthenticated(books, finance_server, http_client):
    answer = await GraphQLClient(finance_server.graphql_url, http_client)(
        PAYABLES, reps(books["prairie"])
    )

    assert answer.error_codes == ["UNAUTHENTICATED"]


async def test_one_bill_for_staff_and_its_vendor_not_found_for_another_vendor(
    books, finance_server, http_client, mint
):
    other_id, other_number = books["other"]
    accounting = await client(finance_server, http_client, mint, "accounting")
    prairie = await client(
        finance_server, http_client, mint, "vendor", user_id=books["prairie_user"]
    )

    seen = (await accounting(ONE, {"id": str(other_id)})).ok()["vendorBill"]
    hidden = await prairie(ONE, {"id": str(other_id)})
    unknown = await accounting(ONE, {"id": str(uuid.uuid4())})

    assert seen == {"number": other_number, "vendorId": str(books["summit"]), "total": "999.00"}
    assert hidden.error_codes == ["NOT_FOUND"]
    assert unknown.error_codes == ["NOT_FOUND"]


async def test_a_vendor_pages_only_its_own_bills_whatever_vendor_id_it_asks_for(
    books, finance_server, http_client, mint
):
    prairie = await client(
        finance_server, http_client, mint, "vendor", user_id=books["prairie_user"]
    )
    accounting = await client(finance_server, http_client, mint, "accounting")

    own = (await prairie(PAGE, {})).ok()["vendorBills"]
    asked_other = (await prairie(PAGE, {"vendor": str(books["summit"])})).ok()["vendorBills"]
    everything = (await accounting(PAGE, {})).ok()["vendorBills"]
    rest = (await accounting(PAGE, {"after": everything["pageInfo"]["endCursor"]})).ok()[
        "vendorBills"
    ]

    assert own["totalCount"] == 2
    assert {e["node"]["vendorId"] for e in own["edges"]} == {str(books["prairie"])}
    assert asked_other["totalCount"] == 0
    assert everything["totalCount"] == 3
    assert everything["pageInfo"]["hasNextPage"] is True
    numbers = [e["node"]["number"] for e in everything["edges"] + rest["edges"]]
    assert sorted(numbers) == sorted([books["late"], books["fresh"], books["other"][1]])
    assert rest["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize("role", ["client", "driver", "sales_agent"])
async def test_other_roles_cannot_list_or_read_bills(
    books, finance_server, http_client, mint, role
):
    extra = {"client_id": uuid.uuid4()} if role == "client" else {}
    caller = await client(finance_server, http_client, mint, role, **extra)

    listed = await caller(PAGE, {})
    one = await caller(ONE, {"id": str(books["other"][0])})

    assert listed.error_codes == ["FORBIDDEN"]
    assert one.error_codes == ["FORBIDDEN"]
