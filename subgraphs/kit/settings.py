"""Configuration from environment variables, defaulting to the embedded stack.

Every process (subgraphs, router, the stack launcher, tests) reads the same
settings so that one environment variable moves the whole system: the
defaults are the private PostgreSQL and Redis that `make run` starts under
`.data/`, never the machine's default services.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]

#: Subgraph names in start order, with their default ports.
SUBGRAPH_PORTS: dict[str, int] = {
    "identity": 4101,
    "sales": 4102,
    "charters": 4103,
    "vendors": 4104,
    "pricing": 4105,
    "finance": 4106,
}

EMBEDDED_POSTGRES_PORT = 55432
EMBEDDED_REDIS_PORT = 56379


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    database_url: str = f"postgresql+asyncpg://athena@127.0.0.1:{EMBEDDED_POSTGRES_PORT}/athena"
    redis_url: str = f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0"
    data_dir: Path = PROJECT_ROOT / ".data"

    host: str = "127.0.0.1"
    router_port: int = 4000
    identity_port: int = SUBGRAPH_PORTS["identity"]
    sales_port: int = SUBGRAPH_PORTS["sales"]
    charters_port: int = SUBGRAPH_PORTS["charters"]
    vendors_port: int = SUBGRAPH_PORTS["vendors"]
    pricing_port: int = SUBGRAPH_PORTS["pricing"]
    finance_port: int = SUBGRAPH_PORTS["finance"]

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

    #: Signs anonymous quote links (charters); set a long random value in production.
    quote_link_secret: str = "embedded-quote-link-secret-change-me"  # noqa: S105
    quote_link_ttl_seconds: int = 14 * 24 * 3600
    #: Change management (seed 002): price difference needing a manager.
    change_manager_threshold: str = "500.00"
    change_auto_approve_minimal: bool = False

    #: Certification types a vendor must hold, active and unexpired, to be compliant.
    vendor_required_certifications: str = "dot,mc,insurance"

    db_pool_size: int = 10
    db_echo: bool = False
    log_level: str = "info"
    environment: str = Field(default="development")

    @property
    def required_certifications(self) -> tuple[str, ...]:
        return tuple(
            c.strip().lower() for c in self.vendor_required_certifications.split(",") if c.strip()
        )

    def port_of(self, subgraph: str) -> int:
        port: int = getattr(self, f"{subgraph}_port")
        return port

    def subgraph_url(self, subgraph: str) -> str:
        return f"http://{self.host}:{self.port_of(subgraph)}/graphql"

    @property
    def jwks_url(self) -> str:
        return self.jwt_jwks_url or (
            f"http://{self.host}:{self.identity_port}/.well-known/jwks.json"
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
