"""Security review (issue 8), "Also": every charters mutation against every role.

The expected table is data: each mutation of the charters schema names the
roles its gate admits. The test reads the Mutation type from the schema
itself, so a mutation missing from the table fails it (new mutations must
be declared here), and for every role sends the mutation with placeholder
arguments over HTTP: a role not in the table must get FORBIDDEN (anonymous:
UNAUTHENTICATED), a role in it must get past the gate (whatever the
business rules then say: NOT_FOUND, a user error, or success).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    Undefined,
)

from subgraphs.charters.app import schema
from tests.support.roles import ROLES

ANONYMOUS = "anonymous"

EDIT_ANY = {"admin", "manager", "sales_support"}
EDITORS = EDIT_ANY | {"sales_agent"}
DISPATCH = {"admin", "manager", "dispatcher"}
MANAGERS = {"admin", "manager"}

#: Who gets past each mutation's role gate. Finer rules (ownership, the
#: status-move table, manager approval, four eyes) apply behind the gate.
EXPECTED: dict[str, set[str]] = {
    "createCharter": EDITORS,
    "updateCharter": EDITORS,
    "reviseQuote": EDITORS,
    "createQuoteLink": EDITORS,
    "setCharterStatus": EDITORS | DISPATCH,
    "cancelCharter": EDITORS,
    "reassignCharter": EDIT_ANY,
    "setCharterInstructions": EDITORS | DISPATCH,
    "addStop": EDITORS,
    "updateStop": EDITORS,
    "removeStop": EDITORS,
    "reorderStops": EDITORS,
    "addCharterVehicle": EDITORS,
    "updateCharterVehicle": EDITORS,
    "removeCharterVehicle": EDITORS,
    "assignCharterVehicle": DISPATCH,
    "setCharterVehicleStatus": DISPATCH,
    "createVehicleType": DISPATCH,
    "createVehicle": DISPATCH,
    "setVehicleStatus": DISPATCH,
    "createDriver": DISPATCH,
    "createBlackoutDate": DISPATCH,
    "setDispatchStatus": DISPATCH,
    "postPositions": {"driver"},
    "requestCharterChange": EDITORS,
    "moveChangeCase": EDITORS,
    "implementChangeCase": EDITORS,
    "splitCharter": EDITORS,
    "saveCharterAsTemplate": EDITORS,
    "cloneCharter": EDITORS,
    "createCharterSeries": EDITORS,
    "generateCharterSeries": EDITORS,
    "updateSeriesInstances": EDITORS,
    "removeSeriesInstance": EDITORS,
    "deactivateCharterSeries": MANAGERS,
    # Issue 13 §1-2: readiness tasks and confirmations, dispatch's work list.
    "startTask": DISPATCH,
    "completeTask": DISPATCH,
    "skipTask": DISPATCH,
    "reopenTask": DISPATCH,
    "recordConfirmation": DISPATCH,
    # Recovery (issue 13): dispatch's desk.
    "openRecovery": DISPATCH,
    "openDriverRecovery": DISPATCH,
    "startRecoverySearch": DISPATCH,
    "resolveRecovery": DISPATCH,
    # Issue 13 §2 and §6: the contact log, special instructions, cancel and route.
    "logContactAttempt": DISPATCH,
    "addSpecialInstruction": EDITORS | DISPATCH,
    "updateSpecialInstruction": EDITORS | DISPATCH,
    "removeSpecialInstruction": EDITORS | DISPATCH,
    "cancelCharterFromDispatch": DISPATCH,
    "optimizeRoute": DISPATCH,
    # Issue 13 §5: the driver app (the assigned driver only, behind the gate).
    "confirmTrip": {"driver"},
    "startTrip": {"driver"},
    "arriveAtStop": {"driver"},
    "departStop": {"driver"},
    "completeTrip": {"driver"},
    "addTripNote": {"driver"},
    "uploadTripPhoto": {"driver"},
    "completeChecklistItem": {"driver"},
    "setChecklistItems": MANAGERS,
    # Issue 14 §3: documents. Staff, clients and vendors past the gate; the category table
    # (`access.DOCUMENT_UPLOADS`) and the charter's audience decide behind it.
    "uploadCharterDocument": EDITORS | {"dispatcher", "accounting", "client", "vendor"},
    "uploadCharterDocumentVersion": EDITORS | {"dispatcher", "accounting", "client", "vendor"},
    # Issue 14 §2: legal terms' versions are published by admins and managers.
    "publishLegalTerms": MANAGERS,
    # Issue 14 §2: accepting a quote. Staff who may book and clients past the gate (its own
    # company's quote only, behind it); the quote link is its holder's credential: anyone.
    "acceptQuote": EDITORS | {"client"},
    "acceptQuoteByLink": set(ROLES) | {ANONYMOUS},
}

GATE_CODES = {"FORBIDDEN", "UNAUTHENTICATED"}


def _placeholder(kind: Any) -> Any:
    """A well-typed value for an argument: enough to reach the resolver."""
    if isinstance(kind, GraphQLNonNull):
        return _placeholder(kind.of_type)
    if isinstance(kind, GraphQLList):
        return [_placeholder(kind.of_type)]
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    if isinstance(kind, GraphQLInputObjectType):
        return {
            name: _placeholder(field.type)
            for name, field in kind.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
        }
    assert isinstance(kind, GraphQLScalarType), kind
    soon = datetime.now(UTC) + timedelta(days=30)
    return {
        "ID": str(uuid.uuid4()),
        "String": f"x{uuid.uuid4().hex[:6]}",
        "Int": 1,
        "Float": 1.0,
        "Boolean": False,
        "Money": "1.00",
        "Date": (date.today() + timedelta(days=30)).isoformat(),
        "DateTime": soon.isoformat(),
        "JSON": {},
        # Not a multipart request: the resolver sees no file (the trip photo mutation).
        "Upload": "no-file",
    }[kind.name]


def _operation(name: str) -> tuple[str, dict[str, Any]]:
    field = schema._schema.mutation_type.fields[name]
    required = {
        arg_name: arg
        for arg_name, arg in field.args.items()
        if isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined
    }
    declared = ", ".join(f"${a}: {arg.type}" for a, arg in required.items())
    passed = ", ".join(f"{a}: ${a}" for a in required)
    query = (
        f"mutation{f'({declared})' if declared else ''} "
        f"{{ {name}{f'({passed})' if passed else ''} {{ __typename }} }}"
    )
    return query, {a: _placeholder(arg.type) for a, arg in required.items()}


def test_finding_also_every_charters_mutation_is_in_the_role_table():
    mutations = set(schema._schema.mutation_type.fields)

    assert mutations - set(EXPECTED) == set(), "declare the roles of new mutations in EXPECTED"
    assert set(EXPECTED) - mutations == set(), "EXPECTED names mutations that do not exist"


async def test_finding_also_every_charters_mutation_admits_exactly_its_roles(as_role, staff):
    clients = {role: await as_role(role) for role in ROLES}
    clients[ANONYMOUS] = staff.as_user(None)
    wrong: list[str] = []

    for name in sorted(schema._schema.mutation_type.fields):
        query, variables = _operation(name)
        for role, client in clients.items():
            response = await client(query, variables)
            assert response.status_code == 200, (name, role, response.body)
            gate = [c for c in response.error_codes if c in GATE_CODES]
            allowed = role in EXPECTED.get(name, set())
            expected = [] if allowed else ["UNAUTHENTICATED" if role == ANONYMOUS else "FORBIDDEN"]
            if gate != expected:
                wrong.append(f"{name} as {role}: {gate or response.error_codes} != {expected}")

    assert wrong == []


#: Root queries added since (issue 13): the roles their gate admits, and a harmless call.
READERS = EDITORS | {"dispatcher", "accounting"}
ROOT_QUERIES: dict[str, tuple[str, dict[str, Any], set[str]]] = {
    # The driver app: staff read any trip, a driver its own (others: NOT_FOUND).
    "trip": (
        "query($id: ID!) { trip(id: $id) { id } }",
        {"id": str(uuid.uuid4())},
        READERS | {"driver"},
    ),
    "checklistItems": ("{ checklistItems { id } }", {}, READERS | {"driver"}),
    # Recovery (issue 13): the open cases, for dispatch.
    "recoveryBoard": ("{ recoveryBoard { totalCount } }", {}, DISPATCH),
    # Issue 14 §2-3: documents expiring (the office), legal terms (anyone signed in).
    "expiringCharterDocuments": ("{ expiringCharterDocuments { totalCount } }", {}, READERS),
    "currentLegalTerms": ("{ currentLegalTerms { id } }", {}, set(ROLES)),
    "legalTerms": (
        "query($id: ID!) { legalTerms(id: $id) { id } }",
        {"id": str(uuid.uuid4())},
        set(ROLES),
    ),
    # Issue 16: peak periods, a cross-agent figure (not for agents).
    "bookingPeaks": ("{ bookingPeaks { byWeekday { weekday } } }", {}, EDIT_ANY),
    # Issue 16: fleet utilisation (the fleet's managers) and the QC backlog (its desks).
    "vehicleUtilisation": (
        "query($f: DateTime!, $t: DateTime!) { vehicleUtilisation(from: $f, to: $t) "
        "{ byType { vehicles } } }",
        {"f": "2026-07-01T00:00:00Z", "t": "2026-07-08T00:00:00Z"},
        DISPATCH,
    ),
    "qcBacklog": ("{ qcBacklog { totalCount } }", {}, DISPATCH | {"sales_support"}),
}


async def test_issue_13_root_queries_admit_exactly_their_roles(as_role, staff):
    clients = {role: await as_role(role) for role in ROLES}
    clients[ANONYMOUS] = staff.as_user(None)
    wrong: list[str] = []

    for name, (query, variables, admitted) in sorted(ROOT_QUERIES.items()):
        for role, client in clients.items():
            response = await client(query, variables)
            gate = [c for c in response.error_codes if c in GATE_CODES]
            allowed = role in admitted
            expected = [] if allowed else ["UNAUTHENTICATED" if role == ANONYMOUS else "FORBIDDEN"]
            if gate != expected:
                wrong.append(f"{name} as {role}: {gate or response.error_codes} != {expected}")

    assert wrong == []
