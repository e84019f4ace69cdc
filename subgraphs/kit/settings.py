"""Configuration from environment variables, defaulting to the embedded stack.

Every process (subgraphs, the stack launcher, tests) reads the same
settings so that one environment variable moves the whole system: the
defaults are the private PostgreSQL and Redis that `make run` starts under
`.data/`, never the machine's default services. The router, its own
deployable, reads the few variables it shares with them (`JWT_*`,
`ROUTER_SECRETS`, `ENVIRONMENT`, ...) itself, with these defaults
(`router/config.py`; `tests/router/test_separation.py` compares them).
"""

from __future__ import annotations

import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from protocol.redis_url import check_redis_url

PROJECT_ROOT = Path(__file__).resolve().parents[2]

#: Subgraph names in start order, with their default ports.
SUBGRAPH_PORTS: dict[str, int] = {
    "identity": 4101,
    "sales": 4102,
    "charters": 4103,
    "vendors": 4104,
    "pricing": 4105,
    "finance": 4106,
    "notifications": 4107,
    "tours": 4108,
    "reports": 4109,
}

EMBEDDED_POSTGRES_PORT = 55432
EMBEDDED_REDIS_PORT = 56379


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    database_url: str = f"postgresql+asyncpg://athena@127.0.0.1:{EMBEDDED_POSTGRES_PORT}/athena"
    redis_url: str = f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0"
    #: A replica (or any read-only copy) for heavy pure reads (kit/read_sessions.py: reports'
    #: lists and dashboards); unset: everything reads the primary. Its connections are read-only.
    database_read_url: str | None = None
    data_dir: Path = PROJECT_ROOT / ".data"

    host: str = "127.0.0.1"
    router_port: int = 4000
    identity_port: int = SUBGRAPH_PORTS["identity"]
    sales_port: int = SUBGRAPH_PORTS["sales"]
    charters_port: int = SUBGRAPH_PORTS["charters"]
    vendors_port: int = SUBGRAPH_PORTS["vendors"]
    pricing_port: int = SUBGRAPH_PORTS["pricing"]
    finance_port: int = SUBGRAPH_PORTS["finance"]
    notifications_port: int = SUBGRAPH_PORTS["notifications"]
    tours_port: int = SUBGRAPH_PORTS["tours"]
    reports_port: int = SUBGRAPH_PORTS["reports"]

    jwt_issuer: str = "https://athena.local/identity"
    jwt_audience: str = "athena"
    jwt_access_ttl_seconds: int = 15 * 60
    jwt_refresh_ttl_seconds: int = 30 * 24 * 3600
    #: Where subgraphs other than identity fetch the public keys.
    jwt_jwks_url: str = ""
    #: Seconds before an unknown key id may trigger another JWKS fetch.
    jwt_jwks_min_refresh_seconds: float = 5.0

    #: argon2id cost; the defaults follow RFC 9106's second recommendation.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    login_max_failures_per_email: int = 5
    login_max_failures_per_ip: int = 20
    login_failure_window_seconds: int = 15 * 60
    password_reset_ttl_seconds: int = 3600
    #: The client portal's address, for the links in mails (reset, quotes, payments).
    portal_url: str = ""

    #: Signs anonymous quote links (charters). No default: empty means quote
    #: links are refused; the embedded stack generates one under `.data/`.
    quote_link_secret: str = ""
    quote_link_ttl_seconds: int = 14 * 24 * 3600
    #: Change management (seed 002): price difference needing a manager.
    change_manager_threshold: str = "500.00"
    change_auto_approve_minimal: bool = False
    #: Charters: the farthest ahead a pickup may be booked (days from today).
    charter_booking_horizon_days: int = 730

    #: Certification types a vendor must hold, active and unexpired, to be compliant.
    vendor_required_certifications: str = "dot,mc,insurance"
    #: The operator's hub (default Dallas, TX); farther charters become bid opportunities.
    operator_hub_latitude: float = 32.7767
    operator_hub_longitude: float = -96.7970
    #: Pickups more than this many great-circle miles from the hub are offered to vendors.
    bid_opportunity_min_miles: float = 200.0
    #: Where uploaded compliance documents are stored; default `<data_dir>/documents`.
    documents_dir: Path | None = None
    document_max_bytes: int = 10 * 1024 * 1024
    #: The driver app (issue 13): trip photos' size limit (stored beside the documents,
    #: under `<documents>/trip-photos`), and the dispatch desk's number drivers call.
    trip_photo_max_bytes: int = 10 * 1024 * 1024
    #: Documents on charters (issue 14 §3): each version's size limit (stored under
    #: `<documents>/charter-documents`); the router's own limit is 11 MB per request.
    charter_document_max_bytes: int = 10 * 1024 * 1024
    dispatch_phone_number: str = "+1 214 555 0100"
    #: The driver app's GPS positions (issue 13 §4): accepted fixes are written in one
    #: batch per `positions_flush_ms` or `positions_flush_rows`; the daily purge drops
    #: those older than 30 days (cron in the operator's time zone).
    positions_flush_ms: int = 200
    positions_flush_rows: int = 1000
    positions_purge_cron: str = "30 3 * * *"
    #: Readiness tasks past due are flagged overdue on the board (issue 13), this often.
    dispatch_overdue_cron: str = "*/15 * * * *"
    #: `optimizeRoute`'s duration estimate: the route's miles at this average speed.
    dispatch_average_speed_mph: Decimal = Field(default=Decimal("45"), gt=0, le=100)
    #: The daily compliance job (expiry, alerts, suspensions), on the kit's job runner;
    #: cron in the operator's time zone.
    compliance_job_enabled: bool = True
    compliance_job_cron: str = "0 6 * * *"
    #: Staff address copied on every compliance alert (mailed by notifications); empty for none.
    compliance_alert_staff_email: str = ""

    #: Outgoing e-mail (SMTP); the defaults suit a local catcher such as aiosmtpd.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_from: str = "Athena Compliance <compliance@athena.local>"
    smtp_username: str = ""
    smtp_password: str = ""
    #: Upgrade the connection with STARTTLS (port 587); `smtp_use_tls` for implicit TLS (465).
    smtp_starttls: bool = False
    smtp_use_tls: bool = False
    smtp_timeout_seconds: float = 10.0
    #: Shared secret of the vendor onboarding webhook's HMAC-SHA256 signature.
    #: No default: empty means the webhook refuses every submission.
    onboarding_webhook_secret: str = ""

    #: The router's credential (`protocol/router_credential.py`): comma-separated
    #: secrets, the first signs, all verify. When set, subgraphs answer only
    #: requests the router signed; production refuses to start without it.
    router_secrets: str = ""
    #: Peers whose `X-Forwarded-For` is believed (CIDRs, comma-separated): the
    #: router in front of the subgraphs, a load balancer in front of the router.
    trusted_proxies: str = "127.0.0.1/32,::1/128"
    #: Introspection, `_service` and GraphiQL on a subgraph (the router serves the graph).
    subgraph_introspection: bool = False
    subgraph_graphiql: bool = False
    #: A subgraph's own limits; above the router's (15, 30) plus what its plans add.
    subgraph_max_depth: int = 20
    subgraph_max_aliases: int = 60
    #: Seconds a "session not revoked" answer is cached (`protocol/revocation.py`).
    revocation_cache_seconds: float = 2.0

    #: Where sales reaches charters' own GraphQL API (lead conversion); empty:
    #: this machine's charters port. Signed with the router's credential.
    charters_url: str = ""
    #: Automated follow-ups (sales decides, notifications sends): a converted
    #: lead's quote unanswered for this many days, an open lead untouched for these.
    sales_quote_follow_up_days: int = Field(default=3, ge=1)
    sales_lead_follow_up_days: int = Field(default=2, ge=1)
    sales_follow_up_job_enabled: bool = True
    sales_follow_up_job_cron: str = "0 8 * * *"

    #: Pricing: miles between stops are great-circle legs times this factor when the
    #: agent entered none (no routing service is reachable).
    pricing_road_factor: Decimal = Field(default=Decimal("1.2"), ge=1, le=3)
    #: Sales tax on quotes (0.0925 is 9.25 %); 0 for none.
    pricing_tax_rate: Decimal = Field(default=Decimal(0), ge=0, lt=1)
    #: The public calculator (`estimateQuote`): calls per caller address per minute.
    pricing_estimates_per_minute: int = Field(default=30, ge=1)

    #: Charters locate stops entered without coordinates through a Nominatim-compatible
    #: API at this URL (`{url}/search`); empty: none, coordinates are entered by hand.
    #: OpenStreetMap's public instance allows light use only: prefer your own.
    geocoding_url: str = ""

    #: Finance's scheduled jobs (kit/jobs), cron in the operator's time zone: the month-end
    #: run invoices each client's previous month; the overdue job marks past-due invoices.
    finance_jobs_enabled: bool = True
    finance_month_end_cron: str = "0 6 1 * *"
    finance_overdue_cron: str = "30 6 * * *"
    #: Autopay (issue 14): charges autopay clients' instalments due that day, once a day.
    finance_autopay_cron: str = "0 7 * * *"
    #: The month-end run sends what it issues (seed 003); false leaves drafts for review.
    finance_month_end_send: bool = True
    #: The operator as its invoices print it; address lines separated by "|".
    operator_name: str = "Athena Charters"
    operator_address: str = "1201 Elm Street, Suite 400|Dallas, TX 75270|United States"
    operator_phone: str = "+1 214 555 0100"
    operator_email: str = "billing@athena.local"
    operator_tax_id: str = "EIN 75-0000000"

    #: Finance's accounting sync to QuickBooks Online (`finance/service/sync_worker.py`).
    #: Off by default: no worker runs and nothing is sent without a connected company.
    quickbooks_enabled: bool = False
    quickbooks_base_url: str = "https://quickbooks.api.intuit.com"
    quickbooks_token_url: str = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"  # noqa: S105 (a URL)
    quickbooks_realm_id: str = ""
    quickbooks_client_id: str = ""
    quickbooks_client_secret: str = ""
    #: The refresh token from connecting the company; used once, until the rotated
    #: pair lives in `finance.qbo_tokens`.
    quickbooks_refresh_token: str = ""
    #: Intuit's webhook verifier token; empty: the webhook refuses every delivery.
    quickbooks_webhook_verifier_token: str = ""
    quickbooks_sync_interval_seconds: float = Field(default=30.0, gt=0)
    #: Retry delays double from this base (with jitter) until the dead letter after N failures.
    quickbooks_backoff_base_seconds: float = Field(default=30.0, gt=0)
    quickbooks_backoff_max_seconds: float = Field(default=6 * 3600.0, gt=0)
    quickbooks_max_attempts: int = Field(default=8, ge=1)
    #: How long a claimed record stays the claiming worker's before another may take it.
    quickbooks_lease_seconds: float = Field(default=300.0, gt=0)
    #: QuickBooks ids invoice lines, tax and bill lines post to (the company's own chart).
    quickbooks_income_item_id: str = "1"
    quickbooks_tax_item_id: str = ""
    quickbooks_expense_account_id: str = ""

    #: Finance's payment provider for card and ACH money (`finance/service/providers.py`):
    #: "manual" (staff keyed it into a terminal) or "stripe" (the API at `stripe_api_base`,
    #: empty: Stripe's own). The webhook secret verifies `POST /webhooks/stripe`.
    payment_provider: str = "manual"
    stripe_api_key: str = ""
    stripe_api_base: str = ""
    stripe_webhook_secret: str = ""
    #: `make run`'s card sandbox (stack/card_sandbox.py), its Stripe stand-in when no
    #: PAYMENT_PROVIDER is configured.
    card_sandbox_port: int = 4190

    #: The operator's time zone: scheduled jobs' cron times are local times here.
    operator_time_zone: str = "America/Chicago"
    #: Run each subgraph's scheduled jobs (kit/jobs) in its process.
    jobs_enabled: bool = True

    #: Each engine keeps up to twice this many connections open (db/engine.make_engine).
    db_pool_size: int = 10
    db_echo: bool = False
    #: Worker processes each subgraph serves with (uvicorn's `workers`); 0: one per core
    #: this process may run on (docker-compose's default). 1, the default here (`make run`,
    #: the benchmarks), serves in the process itself. Each worker keeps its own pools: up
    #: to 2 x `db_pool_size` + 3 (jobs) PostgreSQL connections apiece.
    subgraph_workers: int = Field(default=1, ge=0)
    log_level: str = "info"
    environment: str = Field(default="development")

    @field_validator("redis_url")
    @classmethod
    def _usable_redis_url(cls, value: str) -> str:
        """A Sentinel URL that cannot work stops every process at start-up, naming REDIS_URL."""
        return check_redis_url(value, "REDIS_URL")

    @property
    def required_certifications(self) -> tuple[str, ...]:
        return tuple(
            c.strip().lower() for c in self.vendor_required_certifications.split(",") if c.strip()
        )

    #: Notifications (issue 14): the delivery worker and the reminder jobs.
    notifications_worker_enabled: bool = True
    notifications_jobs_enabled: bool = True
    #: The client reminder jobs (cron in the operator's time zone): deposit and balance
    #: reminders once a day; trip reminders hourly (each trip once, the day before).
    notifications_payment_reminders_cron: str = "0 9 * * *"
    notifications_trip_reminders_cron: str = "5 * * * *"
    #: Report mails' attached files are emptied this many days after they were attached (the
    #: message stays), by `notifications.attachments_purge` at this cron.
    notifications_attachment_retention_days: int = Field(default=30, ge=1)
    notifications_attachments_purge_cron: str = "50 3 * * *"
    notifications_from: str = "Athena Coaches <hello@athena.local>"
    #: Where the tracking pixel and click redirects are reached by a mail reader (the
    #: edge in production); empty: this machine's notifications port.
    notifications_public_url: str = ""
    #: Signs tracking links (open pixel, click redirect). No default: empty means
    #: messages go out without tracking; the embedded stack generates one.
    notifications_tracking_secret: str = ""
    notifications_tracking_ttl_seconds: int = 90 * 24 * 3600
    #: A failed hand-off is retried with exponential backoff up to this many attempts.
    notifications_max_attempts: int = 5
    notifications_retry_base_seconds: float = 30.0
    #: SMS through Twilio's API (the `twilio` library); `twilio_api_base` empty: Twilio's own.
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from_number: str = ""
    twilio_api_base: str = ""

    #: Tours (issue 15): the scheduled jobs (offer expiry, departure cutoff), the charters'
    #: client that operates confirmed departures (a house client, created by the demo data
    #: and by `make run`), and the anonymous callers' limits per address and hour.
    tours_jobs_enabled: bool = True
    tours_offer_expiry_cron: str = "*/5 * * * *"
    tours_departure_cutoff_cron: str = "*/15 * * * *"
    tours_client_id: str = "7d3f5a52-2f6e-4b8e-9a61-0c0ffee70015"
    tours_anonymous_bookings_per_hour: int = Field(default=20, ge=1)
    tours_lookups_per_hour: int = Field(default=20, ge=1)

    #: Reports (issue 16): where report runs ask the graph (the router, as the person
    #: running them); empty: this machine's router. Runs are kept this many days.
    reports_router_url: str = ""
    reports_run_retention_days: int = Field(default=30, ge=1)
    #: When `reports.runs_purge` deletes the runs past their retention (cron in the operator's
    #: time zone; daily at 03:40 by default).
    reports_runs_purge_cron: str = "40 3 * * *"
    reports_jobs_enabled: bool = True
    #: Identity, where reports obtains and exchanges its owners' delegation grants (its
    #: GraphQL and internal routes); empty: this machine's identity port.
    reports_identity_url: str = ""

    @property
    def reports_graph_url(self) -> str:
        return self.reports_router_url or f"http://{self.host}:{self.router_port}/graphql"

    @property
    def reports_identity_base_url(self) -> str:
        return self.reports_identity_url.rstrip("/") or f"http://{self.host}:{self.identity_port}"

    @property
    def notifications_base_url(self) -> str:
        return self.notifications_public_url.rstrip("/") or (
            f"http://{self.host}:{self.notifications_port}"
        )

    @property
    def router_secret_list(self) -> tuple[str, ...]:
        return tuple(s.strip() for s in self.router_secrets.split(",") if s.strip())

    @property
    def documents_path(self) -> Path:
        return self.documents_dir or self.data_dir / "documents"

    @property
    def worker_count(self) -> int:
        """`subgraph_workers`, with 0 resolved to the cores this process may use."""
        if self.subgraph_workers:
            return self.subgraph_workers
        affinity = getattr(os, "sched_getaffinity", None)
        return len(affinity(0)) if affinity else (os.cpu_count() or 1)

    def port_of(self, subgraph: str) -> int:
        port: int = getattr(self, f"{subgraph}_port")
        return port

    def subgraph_url(self, subgraph: str) -> str:
        return f"http://{self.host}:{self.port_of(subgraph)}/graphql"

    @property
    def charters_graphql_url(self) -> str:
        return self.charters_url or self.subgraph_url("charters")

    @property
    def jwks_url(self) -> str:
        return self.jwt_jwks_url or (
            f"http://{self.host}:{self.identity_port}/.well-known/jwks.json"
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
