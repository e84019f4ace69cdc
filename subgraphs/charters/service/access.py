"""Who may read and change a charter, decided from the verified viewer only.

Every rule of who may do what in charters is stated here, as data: the
role tuples each mutation admits (the field's `allow(...)` gate), and the
charter status moves (`CHARTER_MOVES`), each naming the roles that may make
it, whether a sales agent must own the charter, and when in the trip's
life it may happen. Services call the small `ensure_*` helpers below; they
never spell roles out themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from protocol.roles import Role
from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import DOCUMENT_CATEGORIES
from subgraphs.kit.errors import ServiceError

if TYPE_CHECKING:
    import uuid

    from protocol.viewer import Viewer

#: Staff who may edit any charter; a sales agent edits only their own.
EDIT_ANY = (Role.ADMIN, Role.MANAGER, Role.SALES_SUPPORT)
EDITORS = (*EDIT_ANY, Role.SALES_AGENT)
READERS = (*EDITORS, Role.DISPATCHER, Role.ACCOUNTING)
DISPATCH = (Role.ADMIN, Role.MANAGER, Role.DISPATCHER)
FLEET = (Role.ADMIN, Role.MANAGER, Role.DISPATCHER)
REASSIGNERS = (Role.ADMIN, Role.MANAGER, Role.SALES_SUPPORT)
APPROVERS = (Role.ADMIN, Role.MANAGER, Role.SALES_SUPPORT)
MANAGERS = (Role.ADMIN, Role.MANAGER)
#: Deactivating a recurring series is a manager's act (seed 000).
SERIES_DEACTIVATORS = MANAGERS
#: Who writes a charter's pickup contact and its instructions for vendors and drivers.
INSTRUCTION_WRITERS = (*EDITORS, Role.DISPATCHER)

#: Recovery (issue 13): dispatch opens, searches, resolves cases and reads their board.
RECOVERY_DESK = DISPATCH
#: The dispatch board query (issue 13): dispatch works it; readiness tasks and
#: confirmations are worked by the same roles (`DISPATCH`).
BOARD_READERS = DISPATCH

#: How long before the pickup a trip may be started (the coach leaves the yard).
TRIP_START_WINDOW = timedelta(hours=3)

#: The driver app (issue 13): trips are run by the driver assigned to them, and
#: only that driver (`driver_trips.assigned_trip`); staff read any trip.
TRIP_RUNNERS = (Role.DRIVER,)
TRIP_READERS = (*READERS, Role.DRIVER)
#: The pre-trip checklist's items are a manager's to configure.
CHECKLIST_EDITORS = MANAGERS
#: A trip photo's bytes: staff, and the driver who uploaded it.
TRIP_PHOTO_STAFF = READERS


@dataclass(frozen=True)
class Move:
    """Who may move a charter to a status, and from when.

    `owner_roles` must own the charter (be its sales agent) to make the
    move; `roles` not listed there may move any charter. `earliest` is the
    earliest moment relative to the pickup (None: any time before the trip).
    """

    roles: tuple[Role, ...]
    owner_roles: tuple[Role, ...] = ()
    earliest: timedelta | None = None
    why: str = ""
    #: The charter's own client may make the move too (issue 14 §2: accepting a quote
    #: books it). Only `acceptQuote`/`acceptQuoteByLink` reach it for a client:
    #: `setCharterStatus`'s gate (`STATUS_MOVERS`, from `roles`) admits no client.
    own_client: bool = False


#: Charter status moves (the graph itself is `states.CHARTER`): the target
#: status of each move, the roles allowed and its timing. Booking also
#: checks itinerary, capacity, pickup in the future and blackouts
#: (`charters.booking_problems`). Accounting and drivers never move a
#: charter; the driver app, when it exists, reports through dispatch status.
CHARTER_MOVES: dict[str, Move] = {
    "booked": Move(
        roles=EDITORS,
        owner_roles=(Role.SALES_AGENT,),
        why="book a charter (its sales agent, or sales support and managers)",
        own_client=True,
    ),
    "confirmed": Move(
        roles=(*EDITORS, Role.DISPATCHER),
        owner_roles=(Role.SALES_AGENT,),
        why="confirm a charter (its sales agent, sales support, dispatch or managers)",
    ),
    "in_progress": Move(
        roles=DISPATCH,
        earliest=-TRIP_START_WINDOW,
        why="start a trip (dispatch)",
    ),
    "completed": Move(
        roles=DISPATCH,
        earliest=timedelta(0),
        why="complete a trip (dispatch)",
    ),
    "cancelled": Move(
        roles=EDITORS,
        owner_roles=(Role.SALES_AGENT,),
        why="cancel a charter (its sales agent, sales support or managers)",
    ),
}

#: Every role that can make at least one move: the gate of `setCharterStatus`.
STATUS_MOVERS: tuple[Role, ...] = tuple(
    dict.fromkeys(r for move in CHARTER_MOVES.values() for r in move.roles)
)


def ensure_can_edit(viewer: Viewer, charter: Any) -> None:
    if viewer.has_any_role(*EDIT_ANY):
        return
    if viewer.has_any_role(Role.SALES_AGENT) and charter.sales_agent_id in (None, viewer.user_id):
        return
    raise ServiceError.of(
        Code.FORBIDDEN, f"You cannot edit {charter.reference}: it belongs to another agent."
    )


def ensure_role(viewer: Viewer, roles: tuple[Role, ...], action: str) -> None:
    if not viewer.has_any_role(*roles):
        raise ServiceError.of(Code.FORBIDDEN, f"Your role cannot {action}.")


def ensure_may_move(viewer: Viewer, charter: Any, target: str) -> None:
    """The role and ownership half of `CHARTER_MOVES[target]`."""
    move = CHARTER_MOVES.get(target)
    if move is None:
        raise ServiceError.of(Code.INVALID, f"{target!r} is not a status to move to.", "status")
    if move.own_client and is_own_client(viewer, charter):
        return
    held = [r for r in move.roles if viewer.has_any_role(r)]
    if not held:
        raise ServiceError.of(Code.FORBIDDEN, f"Your role cannot {move.why}.", "status")
    if all(r in move.owner_roles for r in held) and charter.sales_agent_id != viewer.user_id:
        raise ServiceError.of(
            Code.FORBIDDEN,
            f"You cannot move {charter.reference}: it belongs to another agent.",
            "status",
        )


def is_own_client(viewer: Viewer, charter: Any) -> bool:
    """A client account of the charter's own company (its token's `client_id`)."""
    return (
        viewer.has_any_role(Role.CLIENT)
        and viewer.client_id is not None
        and viewer.client_id == charter.client_id
    )


def ensure_move_timing(charter: Any, target: str, at: datetime) -> None:
    """The timing half of `CHARTER_MOVES[target]`: trips start and end around the pickup."""
    move = CHARTER_MOVES[target]
    if move.earliest is not None and at < charter.pickup_at + move.earliest:
        opens = charter.pickup_at + move.earliest
        raise ServiceError.of(
            Code.TOO_EARLY,
            f"{charter.reference} can move to {target} from {opens.isoformat()} "
            "(around its pickup), not before.",
            "status",
        )


def ensure_owner_or_edit_any(viewer: Viewer, owner_id: Any, what: str) -> None:
    """Staff who edit any charter act on anything; others only on what they created."""
    if viewer.has_any_role(*EDIT_ANY):
        return
    if owner_id is not None and owner_id == viewer.user_id:
        return
    raise ServiceError.of(Code.FORBIDDEN, f"You cannot change {what}: it belongs to another user.")


#: Who reads any sales agent's dashboard figures (`User.openQuoteCount`,
#: `User.upcomingDepartureCount`); a sales agent reads only its own. The same
#: rule as sales' `User.salesDashboard`.
READ_ANY_SALES_FIGURES = (Role.ADMIN, Role.MANAGER, Role.SALES_SUPPORT)
READ_OWN_SALES_FIGURES = (Role.SALES_AGENT,)


def may_read_sales_figures(viewer: Viewer, user_id: Any) -> bool:
    if viewer.has_any_role(*READ_ANY_SALES_FIGURES):
        return True
    return (
        viewer.has_any_role(*READ_OWN_SALES_FIGURES)
        and viewer.user_id is not None
        and viewer.user_id == user_id
    )


# --- documents on charters and e-signatures (issue 14 §3, §2) ------------------------------
# Audiences are `visibility.audience_of`'s: the charter's own client, a vendor with access
# to it, staff. Drivers read and upload no documents (the seeds give them none).

_EVERY_CATEGORY = frozenset(DOCUMENT_CATEGORIES)
#: The categories each audience reads on a charter it may read.
DOCUMENT_READS: dict[str, frozenset[str]] = {
    "staff": _EVERY_CATEGORY,
    "client": frozenset(
        {"client_document", "terms_and_conditions", "contract", "invoice", "receipt"}
    ),
    "vendor": frozenset({"vendor_bid", "job_sheet"}),
}
#: Of those, the categories an outside reader sees only when its own vendor uploaded them:
#: vendors competing for a charter never read each other's bids.
DOCUMENT_OWN_ONLY: dict[str, frozenset[str]] = {"vendor": frozenset({"vendor_bid"})}
#: The categories each audience uploads (a first version or a newer one).
DOCUMENT_UPLOADS: dict[str, frozenset[str]] = {
    "staff": _EVERY_CATEGORY,
    "client": frozenset({"client_document"}),
    "vendor": frozenset({"vendor_bid"}),
}
#: The upload mutations' gate (and `@requiresScopes`); the table above decides the rest.
DOCUMENT_UPLOADERS = (*READERS, Role.CLIENT, Role.VENDOR)
#: `expiringCharterDocuments`: the office's list.
DOCUMENT_EXPIRY_READERS = READERS

#: Legal terms: admins and managers publish versions; anyone signed in reads them
#: (the quote-link holder through `PublicQuote.legalTerms`).
LEGAL_TERMS_PUBLISHERS = MANAGERS
#: Who reads a charter's signatures and downloads a signed document (besides staff).
SIGNATURE_READERS: frozenset[str] = frozenset({"staff", "client"})


def may_read_document(
    audience: str | None,
    category: str,
    *,
    uploaded_by_vendor: Any,
    reader_vendor: Any,
) -> bool:
    """`DOCUMENT_READS` and `DOCUMENT_OWN_ONLY` for one document and one reader."""
    if audience is None or category not in DOCUMENT_READS.get(audience, frozenset()):
        return False
    if category in DOCUMENT_OWN_ONLY.get(audience, frozenset()):
        return reader_vendor is not None and uploaded_by_vendor == reader_vendor
    return True


def may_upload_document(audience: str | None, category: str) -> bool:
    return audience is not None and category in DOCUMENT_UPLOADS.get(audience, frozenset())


# --- accepting a quote (issue 14 §2) -------------------------------------------------------

#: `acceptQuote`'s gate: staff who may book (`CHARTER_MOVES["booked"]` decides which
#: charters) and client accounts (their own company's quotes only; another company's
#: quote is NOT_FOUND to them, as every portal answers). Vendors and drivers: FORBIDDEN.
QUOTE_ACCEPTERS = (*EDITORS, Role.CLIENT)
#: The kind of legal terms accepting a quote signs.
ACCEPTANCE_TERMS_KIND = "terms_and_conditions"

#: The client portal's dashboard (`Client.upcomingTrips`, `Client.quotesAwaitingAnswer`):
#: staff who read charters, and a client account of that company only (another company's
#: token: FORBIDDEN, as finance answers for `Client.receivables`). Staff "viewing as" a
#: client hold the client's token and read exactly what the client reads.
DASHBOARD_STAFF = READERS


def may_read_client_dashboard(viewer: Viewer, client_id: Any) -> bool:
    if viewer.has_any_role(*DASHBOARD_STAFF):
        return True
    return (
        viewer.has_any_role(Role.CLIENT)
        and viewer.client_id is not None
        and viewer.client_id == client_id
    )


# --- a sales agent's own pipeline, and the booking figures (issue 16) ----------------------
# Seed 001 §5: agents work their own pipeline ("filtered to own clients"); managers, sales
# support, dispatch, admins and accounting work every charter. So `Query.charters` lists
# every charter for a reader holding any of `LIST_ANY_CHARTER`, and for a reader whose only
# charter-reading staff role is in `LIST_OWN_CHARTERS` only the charters it sells.
# `charter(id)` stays readable by every staff role, agents included: a colleague's client
# calls with a reference, a charter is split or handed over (`REASSIGNERS`), and the seeds
# hide no charter from an agent, they only keep it from editing or moving another agent's
# (`ensure_can_edit`, `CHARTER_MOVES`); money on another agent's charter is its owner's
# rule (finance refuses `Charter.balance` to another agent).

#: Staff who list every charter.
LIST_ANY_CHARTER = (Role.ADMIN, Role.MANAGER, Role.SALES_SUPPORT, Role.DISPATCHER, Role.ACCOUNTING)
#: Staff who list only the charters they sell (`Charter.sales_agent_id` is the viewer).
LIST_OWN_CHARTERS = (Role.SALES_AGENT,)
#: `bookingPeaks`: a cross-agent figure, so not for agents.
BOOKING_PEAK_READERS = (Role.ADMIN, Role.MANAGER, Role.SALES_SUPPORT)


def charter_list_agent(viewer: Viewer) -> uuid.UUID | None:
    """The sales agent whose charters alone `viewer` lists; None: every charter."""
    if viewer.has_any_role(*LIST_ANY_CHARTER):
        return None
    if viewer.has_any_role(*LIST_OWN_CHARTERS) and viewer.user_id is not None:
        return viewer.user_id
    raise ServiceError.of(Code.FORBIDDEN, "Your role cannot list charters.")


# --- report figures (issue 16 §2 and §4) ------------------------------------------------------

#: `vehicleUtilisation`: the fleet's managers (the `FLEET` roles).
UTILISATION_READERS = FLEET
#: `qcBacklog`: the desks that work it (change cases: sales support, managers; overdue
#: tasks: dispatch) and admins.
QC_BACKLOG_READERS = (Role.ADMIN, Role.MANAGER, Role.DISPATCHER, Role.SALES_SUPPORT)
#: `Vendor.recoveryCount`: staff who judge vendors, and a vendor's own users (its own only).
VENDOR_RECOVERY_STAFF = (Role.ADMIN, Role.MANAGER, Role.DISPATCHER, Role.SALES_SUPPORT)
VENDOR_RECOVERY_OWN = (Role.VENDOR,)


def may_read_vendor_recoveries(
    viewer: Viewer, vendor_id: Any, viewer_vendor_id: Any | None
) -> bool:
    """`viewer_vendor_id`: the vendor the viewer's account works for (vendors' projection)."""
    if viewer.has_any_role(*VENDOR_RECOVERY_STAFF):
        return True
    return (
        viewer.has_any_role(*VENDOR_RECOVERY_OWN)
        and viewer_vendor_id is not None
        and viewer_vendor_id == vendor_id
    )
