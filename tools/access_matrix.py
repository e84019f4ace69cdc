"""The authorization matrix: every field of the API schema x every role, as one checked-in file.

    python -m tools.access_matrix update   # add new fields (derived from the code), drop gone ones
    python -m tools.access_matrix update --derive Query.x ...
                                           # and write these lines from the code again
    python -m tools.access_matrix check    # exit 1 if the file and the schema or the code disagree
    python -m tools.access_matrix observed OBSERVED.json
                                           # set root cells from a probe run (see tests/access)

`schema/access_matrix.csv` has one line per field (`Type.field`) and one column per role
(`ROLES`: the staff roles, then client, vendor, driver and anonymous). A cell is

- `allowed`: the role reads the field (or makes the mutation) on any row it names;
- `denied`: an auth error (`FORBIDDEN`/`UNAUTHENTICATED`) and no data;
- `own`: the role reaches only its own rows (its company, its vendor, its trips, the leads
  it owns): another's row is NOT_FOUND, null, absent from a list, or FORBIDDEN;
- `inherits`: an object-type field with no policy of its own, readable by whoever reaches
  its object (only where the file says so, field by field: a new field is a new line).

Where the cells come from. `update` keeps every line already in the file (the reviewed
statement) and writes a line for each new field, derived from the code's own policy tables:

- the `allow(...)` gate on the field in its subgraph's Strawberry schema (kit.permissions);
- the router's `@requiresScopes`/`@authenticated` on it (router.guard.auth.AuthIndex);
- charters' per-audience table (`service/visibility.FIELDS`: staff, the charter's own
  client, a related vendor, an assigned driver, a quote-link holder);
- vendors' `CHARTER_FIELD_READERS` and sales' `STAFF_ONLY_FIELDS`;
- the roles behind the `may_read_*` rules object fields ask (`scoped_fields`), or the rule
  itself, asked of each role on its own row and on another's (`ruled_fields`).

A line no table states (most root fields) is the reviewer's once written: `update --derive`
writes it from the gates again (a root `own` cell is a reviewer's statement that the
resolver scopes to the caller's rows; tests/access/test_own_cells proves each one).

`check` fails when a field of the schema has no line (or a line names a field the schema no
longer has), when a cell admits a role the code's gate refuses, and when a line of a
per-audience table differs from the table. Behaviour is proved by tests/access, which calls
every root cell through a real router for every role.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import io
import json
import sys
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from graphql import GraphQLObjectType, GraphQLSchema

from protocol.roles import STAFF_ROLES, Role, scopes_for
from protocol.viewer import Viewer
from subgraphs.kit.settings import PROJECT_ROOT, SUBGRAPH_PORTS

MATRIX = PROJECT_ROOT / "schema" / "access_matrix.csv"
SUPERGRAPH = PROJECT_ROOT / "schema" / "supergraph.graphql"
SUBGRAPHS = tuple(SUBGRAPH_PORTS)

ANONYMOUS = "anonymous"
STAFF: tuple[str, ...] = tuple(r.value for r in Role if r in STAFF_ROLES)
ROLES: tuple[str, ...] = (*STAFF, "client", "vendor", "driver", ANONYMOUS)
ALLOWED, DENIED, OWN, INHERITS = "allowed", "denied", "own", "inherits"
CELLS = frozenset({ALLOWED, DENIED, OWN, INHERITS})

HEADER = """\
# Who may read and do what: every field of the API schema (schema/supergraph.graphql) x every role.
# allowed: any row | denied: FORBIDDEN/UNAUTHENTICATED, no data | own: only the role's own rows
# (another's: NOT_FOUND, null, absent from lists, or FORBIDDEN) | inherits: no policy of its own,
# readable by whoever reaches its object. Reviewed as a diff; `python -m tools.access_matrix check`
# ties it to the code, tests/access/test_matrix.py proves the root cells through the router.
"""

Row = dict[str, str]


def api_schema() -> GraphQLSchema:
    from router.supergraph.load import load_supergraph

    return load_supergraph(SUPERGRAPH.read_text()).api_schema


def api_fields(schema: GraphQLSchema) -> list[tuple[str, str]]:
    """Every (object type, field) of the API schema, roots first, then by name."""
    roots = [
        t.name for t in (schema.query_type, schema.mutation_type, schema.subscription_type) if t
    ]
    out: list[tuple[str, str]] = []
    others = sorted(
        name
        for name, t in schema.type_map.items()
        if isinstance(t, GraphQLObjectType) and not name.startswith("__") and name not in roots
    )
    for name in (*roots, *others):
        t = schema.type_map[name]
        if not isinstance(t, GraphQLObjectType):
            raise TypeError(f"{name} is not an object type")
        out.extend((name, f) for f in sorted(t.fields))
    return out


def is_root(schema: GraphQLSchema, type_name: str) -> bool:
    return type_name in {
        t.name for t in (schema.query_type, schema.mutation_type, schema.subscription_type) if t
    }


# --- the code's policy tables ------------------------------------------------------------------


def subgraph_gates() -> dict[str, frozenset[str]]:
    """`Type.field` -> roles its `allow(...)` gate admits (every role but anonymous for `allow()`).

    A field two subgraphs resolve (an entity's shared field) admits the union of their gates:
    the router may ask either.
    """
    from strawberry.permission import PermissionExtension

    from subgraphs.kit.permissions import RoleRequired

    signed_in = frozenset(r for r in ROLES if r != ANONYMOUS)
    gates: dict[str, frozenset[str]] = {}
    for name in SUBGRAPHS:
        schema = importlib.import_module(f"subgraphs.{name}.app").schema._schema
        for type_name, t in schema.type_map.items():
            if type_name.startswith("__") or not isinstance(t, GraphQLObjectType):
                continue
            for field_name, f in t.fields.items():
                definition = (f.extensions or {}).get("strawberry-definition")
                for ext in getattr(definition, "extensions", None) or ():
                    if not isinstance(ext, PermissionExtension):
                        continue
                    for p in ext.permissions:
                        if isinstance(p, RoleRequired):
                            roles = frozenset(r.value for r in p.roles) if p.roles else signed_in
                            key = f"{type_name}.{field_name}"
                            gates[key] = gates.get(key, frozenset()) | roles
    return gates


def router_gates(schema: GraphQLSchema) -> dict[str, frozenset[str]]:
    """`Type.field` -> roles the router's `@requiresScopes`/`@authenticated` let through."""
    from router.guard.auth import AuthIndex

    index = AuthIndex.build(SUPERGRAPH.read_text(), schema)
    viewers = {ANONYMOUS: Viewer()} | {r: _viewer(r) for r in ROLES if r != ANONYMOUS}
    gates: dict[str, frozenset[str]] = {}
    for (type_name, field_name), req in index.fields.items():
        if req.empty:
            continue
        gates[f"{type_name}.{field_name}"] = frozenset(
            r for r, v in viewers.items() if req.allows(v)
        )
    return gates


def _viewer(role: str) -> Viewer:
    return Viewer(
        user_id=uuid.uuid4(),
        roles=frozenset({Role(role)}),
        scopes=frozenset(scopes_for({Role(role)})),
    )


def table_rows() -> dict[str, Row]:
    """Rows stated exactly by per-audience tables (charters, vendors, sales)."""
    from subgraphs.charters.service.visibility import FIELDS, Audience
    from subgraphs.sales.service.access import STAFF_ONLY_FIELDS
    from subgraphs.vendors.service.access import CHARTER_FIELD_READERS

    rows: dict[str, Row] = {}
    outside = {"client": Audience.CLIENT, "vendor": Audience.VENDOR, "driver": Audience.DRIVER}
    for type_name, fields in FIELDS.items():
        for field_name, audiences in fields.items():
            row = dict.fromkeys(STAFF, ALLOWED if Audience.STAFF in audiences else DENIED)
            row |= {r: OWN if a in audiences else DENIED for r, a in outside.items()}
            row[ANONYMOUS] = OWN if Audience.QUOTE_LINK in audiences else DENIED
            rows[f"{type_name}.{field_name}"] = row
    for key, readers in CHARTER_FIELD_READERS.items():
        names = {r.value for r in readers}
        rows[key] = {r: (ALLOWED if r in STAFF else OWN) if r in names else DENIED for r in ROLES}
    for field_name in STAFF_ONLY_FIELDS:
        rows[f"Client.{field_name}"] = {r: ALLOWED if r in STAFF else DENIED for r in ROLES}
    for key, (every, own) in scoped_fields().items():
        names, owners = {r.value for r in every}, {r.value for r in own}
        rows[key] = {r: ALLOWED if r in names else OWN if r in owners else DENIED for r in ROLES}
    for key, rule in ruled_fields().items():
        rows[key] = rule_row(rule)
    return rows


@dataclass(frozen=True)
class Rows:
    """A row a rule is asked about: its account, its company (the charter's client).

    A viewer's own row names its own account (the charters it sells, itself) and, for a
    client, its company; another's row names neither.
    """

    user: uuid.UUID
    client: uuid.UUID


#: A field's access rule as its resolver asks it: may this viewer read the field on this row?
Rule = Callable[[Viewer, Rows], bool]


def ruled_fields() -> dict[str, Rule]:
    """Object fields whose resolver asks an access rule: the rule, asked by `rule_row`.

    Each is the subgraph's `may_*` rule (or the role constant of its access.py) that the
    field's resolver refuses with, called as the resolver calls it.

    The cells are what the rule answers, not a copy of its roles: a change to the rule
    (a role added, the own-row test dropped) changes the line `update` writes and fails
    `check` until the file says so.
    """
    from subgraphs.finance.service import access as finance
    from subgraphs.identity.service import access as identity
    from subgraphs.notifications.service import access as notifications
    from subgraphs.pricing.service import access as pricing

    def price(v: Viewer, row: Rows) -> bool:
        # pricing's Charter.quote, amenities, secondDriverRecommendation (`_readable_facts`)
        return pricing.may_read_quote(v, row.client)

    def delivery_log(v: Viewer, row: Rows) -> bool:
        # notifications' `_staff_only` (types/messages.py)
        return v.has_any_role(*notifications.READ_DELIVERY_LOG)

    return {
        # finance's `_ensure_reader`: the balance's readers
        "Charter.payments": lambda v, row: finance.may_read_balance(v, row.client, row.user),
        "Charter.quote": price,
        "Charter.amenities": price,
        "Charter.secondDriverRecommendation": price,
        "Charter.notificationMessages": delivery_log,
        "Client.notificationPreferences": lambda v, row: notifications.may_work_client_preferences(
            v, row.client
        ),
        "User.notificationPreferences": lambda v, row: notifications.may_work_user_preferences(
            v, row.user
        ),
        # identity's Client.portalUsers
        "Client.portalUsers": lambda v, row: v.has_any_role(*identity.ACCOUNT_VIEWERS),
    }


def rule_row(rule: Rule) -> Row:
    """Each role's cell from what the rule answers it on its own row and on another's.

    True on another's row: `allowed`; only on its own: `own`; else `denied`. Anonymous is
    refused before any rule is asked (the resolvers' UNAUTHENTICATED).
    """
    row: Row = {ANONYMOUS: DENIED}
    for r in ROLES:
        if r == ANONYMOUS:
            continue
        me, company = uuid.uuid4(), uuid.uuid4()
        viewer = Viewer(
            user_id=me,
            roles=frozenset({Role(r)}),
            scopes=frozenset(scopes_for({Role(r)})),
            client_id=company if r == "client" else None,
        )
        mine = rule(viewer, Rows(user=me, client=company))
        theirs = rule(viewer, Rows(user=uuid.uuid4(), client=uuid.uuid4()))
        row[r] = ALLOWED if theirs and mine else OWN if mine else DENIED
    return {r: row[r] for r in ROLES}


def scoped_fields() -> dict[str, tuple[tuple[Role, ...], tuple[Role, ...]]]:
    """Object fields whose resolver asks an access rule: (roles reading any row, own only).

    Each pair is the constants the rule (`may_read_*` of that subgraph's access.py) tests.
    """
    from subgraphs.charters.service import access as charters
    from subgraphs.finance.service import access as finance
    from subgraphs.sales.service import access as sales

    balance = (finance.READ_ANY_BALANCE, (*finance.READ_OWN_SALES_BALANCE, Role.CLIENT))
    agent_money = (finance.READ_ANY_AGENT_MONEY, finance.READ_OWN_AGENT_MONEY)
    sales_figures = (charters.READ_ANY_SALES_FIGURES, charters.READ_OWN_SALES_FIGURES)
    client_dashboard = (charters.DASHBOARD_STAFF, (Role.CLIENT,))
    return {
        "Charter.balance": balance,
        "Charter.paymentPlan": balance,
        "Charter.paidInFull": balance,
        "Charter.paidInFullAt": balance,
        "Client.receivables": balance,
        "Client.nextPaymentDue": balance,
        "Client.recentPayments": balance,
        "Charter.invoices": (finance.READ_ANY_INVOICE, finance.READ_OWN_CLIENT_INVOICE),
        "Client.savedPaymentMethods": (
            finance.MANAGE_ANY_SAVED_METHOD,
            finance.MANAGE_OWN_SAVED_METHOD,
        ),
        "Client.autopay": (finance.MANAGE_ANY_AUTOPAY, finance.MANAGE_OWN_AUTOPAY),
        "Vendor.payables": (finance.READ_ANY_BILL, finance.READ_OWN_VENDOR_BILL),
        "Invoice.accountingSync": (finance.READ_ACCOUNTING_SYNC, ()),
        "Payment.accountingSync": (finance.READ_ACCOUNTING_SYNC, ()),
        "User.bookedRevenueMonthToDate": agent_money,
        "User.profitMonthToDate": agent_money,
        "User.nonCardMoneyDue": agent_money,
        "Charter.profit": agent_money,
        "User.salesDashboard": (sales.READ_ANY_DASHBOARD, sales.READ_OWN_DASHBOARD),
        "User.openQuoteCount": sales_figures,
        "User.upcomingDepartureCount": sales_figures,
        "Client.upcomingTrips": client_dashboard,
        "Client.quotesAwaitingAnswer": client_dashboard,
        "Vendor.recoveryCount": (charters.VENDOR_RECOVERY_STAFF, charters.VENDOR_RECOVERY_OWN),
    }


@dataclass
class Code:
    """What the code states, gathered once."""

    gates: dict[str, frozenset[str]]
    scopes: dict[str, frozenset[str]]
    tables: dict[str, Row]

    @classmethod
    def read(cls, schema: GraphQLSchema) -> Code:
        return cls(subgraph_gates(), router_gates(schema), table_rows())

    def admitted(self, key: str) -> frozenset[str] | None:
        """Roles the gates let reach the resolver; None: no gate on this field."""
        sets = [s for s in (self.gates.get(key), self.scopes.get(key)) if s is not None]
        if not sets:
            return None
        out = frozenset(ROLES)
        for s in sets:
            out &= s
        return out

    def derive(self, schema: GraphQLSchema, type_name: str, field_name: str) -> Row:
        key = f"{type_name}.{field_name}"
        if key in self.tables:
            return dict(self.tables[key])
        admitted = self.admitted(key)
        if admitted is None:
            value = ALLOWED if is_root(schema, type_name) else INHERITS
            return dict.fromkeys(ROLES, value)
        return {r: ALLOWED if r in admitted else DENIED for r in ROLES}


# --- the file ----------------------------------------------------------------------------------


def read_matrix(path: Path = MATRIX) -> dict[str, Row]:
    if not path.exists():
        return {}
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    rows: dict[str, Row] = {}
    for record in csv.DictReader(lines):
        key = record.pop("field")
        rows[key] = {r: (record.get(r) or "").strip() for r in ROLES}
    return rows


def render(order: Iterable[str], rows: Mapping[str, Row]) -> str:
    out = io.StringIO()
    out.write(HEADER)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["field", *ROLES])
    for key in order:
        writer.writerow([key, *(rows[key][r] for r in ROLES)])
    return out.getvalue()


def problems(schema: GraphQLSchema, rows: Mapping[str, Row], code: Code) -> list[str]:
    """Every way the file disagrees with the schema or with the code's gates and tables."""
    found: list[str] = []
    keys = [f"{t}.{f}" for t, f in api_fields(schema)]
    missing = [k for k in keys if k not in rows]
    gone = sorted(set(rows) - set(keys))
    found += [f"{k}: a field of the schema the matrix does not list" for k in missing]
    found += [f"{k}: listed, but the schema has no such field" for k in gone]
    for key in keys:
        row = rows.get(key)
        if row is None:
            continue
        type_name = key.split(".", 1)[0]
        bad = {r: v for r, v in row.items() if v not in CELLS}
        found += [f"{key} {r}: {v!r} is not a cell value" for r, v in bad.items()]
        if is_root(schema, type_name) and INHERITS in row.values():
            found.append(f"{key}: a root field cannot inherit")
        if key in code.tables:
            if row != code.tables[key]:
                diff = {
                    r: (row[r], code.tables[key][r]) for r in ROLES if row[r] != code.tables[key][r]
                }
                found.append(
                    f"{key}: differs from the code's per-audience table (file, code): {diff}"
                )
            continue
        admitted = code.admitted(key)
        if admitted is None:
            continue
        for r in ROLES:
            if r not in admitted and row[r] != DENIED:
                found.append(f"{key} {r}: the file says {row[r]}, the field's gate refuses {r}")
            if r in admitted and row[r] == INHERITS:
                found.append(f"{key} {r}: gated, so not `inherits`")
    return found


def update(path: Path = MATRIX, derive: Iterable[str] = ()) -> list[str]:
    """`derive`: lines written from the code even where the file states them."""
    schema = api_schema()
    code = Code.read(schema)
    rows = read_matrix(path)
    order = [f"{t}.{f}" for t, f in api_fields(schema)]
    again = frozenset(derive)
    unknown = sorted(again - set(order))
    if unknown:
        raise SystemExit(f"not fields of the schema: {', '.join(unknown)}")
    changes: list[str] = []
    fresh: dict[str, Row] = {}
    for key in order:
        t, f = key.split(".", 1)
        if key in code.tables:
            fresh[key] = dict(code.tables[key])
        elif key in rows and key not in again:
            fresh[key] = rows[key]
        else:
            fresh[key] = code.derive(schema, t, f)
        if rows.get(key) != fresh[key]:
            changes.append(f"{'changed' if key in rows else 'added'} {key}")
    changes += [f"removed {k}" for k in sorted(set(rows) - set(fresh))]
    path.write_text(render(order, fresh))
    return changes


def apply_observed(observed_path: Path, path: Path = MATRIX) -> list[str]:
    """Root cells from a probe (`{"Query.x": {"role": "allowed"|"denied"}}`), keeping `own`.

    `own` stays where the probe saw either outcome (an unknown row is another's row);
    every other cell takes what was observed. For a maintainer's first draft only: the
    result is reviewed like any change to the file.
    """
    observed: dict[str, dict[str, str]] = json.loads(observed_path.read_text())
    rows = read_matrix(path)
    changes: list[str] = []
    for key, cells in observed.items():
        row = rows.get(key)
        if row is None:
            continue
        for role, seen in cells.items():
            if row[role] == OWN:
                continue
            if row[role] != seen:
                changes.append(f"{key} {role}: {row[role]} -> {seen}")
                row[role] = seen
    order = list(rows)
    path.write_text(render(order, rows))
    return changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.access_matrix")
    sub = parser.add_subparsers(dest="command", required=True)
    upd = sub.add_parser("update")
    upd.add_argument("--derive", nargs="*", default=[], metavar="TYPE.FIELD")
    sub.add_parser("check")
    obs = sub.add_parser("observed")
    obs.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    if args.command == "update":
        for line in update(derive=args.derive):
            print(line)
        return 0
    if args.command == "observed":
        for line in apply_observed(args.file):
            print(line)
        return 0
    schema = api_schema()
    found = problems(schema, read_matrix(), Code.read(schema))
    for line in found:
        print(line, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
