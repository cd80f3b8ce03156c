"""One settings root, read from ``MAPSVC_…`` environment variables (``__`` separates sections)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parent.parent


class DatabaseSettings(BaseModel):
    """Where the data lives.

    With no ``url`` the service runs its own PostgreSQL + PostGIS cluster (the embedded default);
    ``MAPSVC_DATABASE__URL=postgresql+psycopg://user:pass@host/db`` points it at any PostGIS.
    """

    url: SecretStr | None = None
    # Streaming replicas for public reads (comma-separated URLs); writes, staff pages and the
    # publication watch stay on ``url``. A replica serves only once it has replayed the latest
    # publish, and is skipped while down or more than ``replica_max_lag_s`` behind.
    read_url: SecretStr | None = None
    replica_max_lag_s: float = Field(default=5.0, gt=0, le=3600)
    name: str = Field(default="mapsvc", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    embedded_dir: Path | None = None  # default: see mapsvc.embedded.default_state_dir
    # None: each cluster's own port, chosen once and recorded beside it (see mapsvc.embedded)
    embedded_port: int | None = Field(default=None, ge=1024, le=65535)
    embedded_os_user: str = "postgres"  # initdb refuses root: the cluster runs as this user then
    pool_size: int = Field(default=8, ge=1, le=100)
    pool_timeout_s: float = Field(default=5.0, gt=0, le=60)
    statement_timeout_ms: int = Field(default=15_000, ge=100, le=600_000)


class ApiSettings(BaseModel):
    """Knobs of the HTTP API; every size knob has a bound."""

    default_limit: int = Field(default=100, ge=1, le=10_000)
    max_limit: int = Field(default=10_000, ge=1, le=100_000)
    downloads_per_minute: int = Field(default=30, ge=1, le=10_000)  # per client address
    # Downloads stream through their own pool of this many connections (one per stream), so
    # slow readers cannot take the connections every other endpoint needs.
    concurrent_downloads: int = Field(default=3, ge=1, le=100)
    # A chunk the client has not taken after this long cuts the transfer (a broken download,
    # never a complete-looking one): a stalled reader must not hold its stream for ever.
    download_send_timeout_s: float = Field(default=30.0, gt=0, le=3600)
    # Listen for publications (PostgreSQL NOTIFY) so that what depends only on the published
    # versions is known without asking the database; off, every request asks.
    publication_watch: bool = True
    # Public data responses kept in memory per process until something is published (0: off;
    # needs the publication watch).
    response_cache_mb: int = Field(default=64, ge=0, le=16_384)
    response_cache_entry_mb: int = Field(default=8, ge=1, le=1024)
    # Reads (not answered from memory) one worker takes on at once; more are answered 503 with
    # Retry-After at once, so that an overloaded worker stays fast for the ones it accepted.
    # About twice the pool: more would only wait for a connection (measured in bench.load).
    max_in_flight: int = Field(default=16, ge=1, le=10_000)
    # A read whose answer has not started after this long gets 503 + Retry-After (a database
    # that stopped answering must not hang residents' phones); below browsers' own timeouts.
    read_deadline_s: float = Field(default=8.0, gt=0, le=600)
    # Who may read /metrics (comma-separated networks); everyone else gets a 404.
    metrics_allow: str = "127.0.0.0/8,::1/128"


class AuthSettings(BaseModel):
    """How API keys are stored.

    Keys are kept as HMACs under ``secret``; with the embedded database and no secret set, one is
    generated beside the cluster.
    """

    secret: SecretStr | None = None


class StaffSettings(BaseModel):
    """The staff portal's sessions, one-time links and sign-in throttling."""

    idle_timeout_min: int = Field(default=30, ge=1, le=24 * 60)
    absolute_timeout_h: int = Field(default=12, ge=1, le=24 * 30)
    link_valid_h: int = Field(default=72, ge=1, le=24 * 30)  # invitations and reset links
    # Failed sign-ins allowed in the window before a pause (429): for one account from one
    # address, and from one address whatever the accounts. An account's failures from every
    # address only slow its sign-ins down (a doubling delay past ``failures_per_account``, at
    # most ``max_slowdown_s``): a stranger's guesses never lock the owner out (OWASP).
    failures_per_account_address: int = Field(default=5, ge=1, le=1000)
    failures_per_address: int = Field(default=20, ge=1, le=10_000)
    failures_per_account: int = Field(default=5, ge=1, le=1000)
    max_slowdown_s: float = Field(default=5.0, ge=0, le=60)
    # Argon2 takes tens of milliseconds of CPU and 64 MiB per hash: at most this many at once
    # per worker (more wait up to hash_wait_s, then 503), so a sign-in flood cannot take the
    # residents' CPU and memory.
    concurrent_hashes: int = Field(default=1, ge=1, le=64)
    hash_wait_s: float = Field(default=10, gt=0, le=120)
    # The portal's own connections per worker: staff pages never wait for the residents' pool.
    pool_size: int = Field(default=3, ge=1, le=50)
    failure_window_min: int = Field(default=15, ge=1, le=24 * 60)
    # A published dataset older than this is flagged as stale on "my datasets".
    stale_after_days: int = Field(default=365, ge=1, le=3650)
    min_password_length: int = Field(
        default=12, ge=12, le=128
    )  # NIST SP 800-63B-4: 15 without MFA is advised; 12 is the floor
    # With a host, invitation and reset links are also e-mailed to logins that are addresses
    # (the admin's page shows them either way: no mail server is assumed).
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "mapsvc@localhost"


class ImportSettings(BaseModel):
    """Bounds on uploads."""

    max_upload_bytes: int = Field(default=50 * 1024 * 1024, ge=1024, le=2 * 1024**3)
    max_rows: int = Field(default=500_000, ge=1, le=10_000_000)
    max_vertices: int = Field(default=200_000, ge=4, le=10_000_000)
    # The boundaries are exact, but a municipality runs facilities in the next town (care homes,
    # cemeteries, water works): a feature outside its boundary is kept with a warning naming
    # where it lies, and refused only when it is farther than this outside.
    boundary_tolerance_m: float = Field(default=5000, ge=0, le=50_000)
    # One upload (read, check, COPY, publish) may take this long: reading stops with a clear
    # 422 past it, and its transaction gets this statement timeout instead of the one meant
    # for reads. 500,000 CSV rows take about 20 s on two cores.
    upload_timeout_s: float = Field(default=300, gt=0, le=3600)
    # Uploads read and checked at once per worker; more wait up to upload_wait_s, then 503.
    # Reading is CPU work: unbounded, a few large files would take the residents' reads' CPU.
    concurrent_uploads: int = Field(default=2, ge=1, le=64)
    upload_wait_s: float = Field(default=10, ge=0, le=600)
    # A body that stops arriving for this long is refused (408): trickling connections must
    # not hold the server open.
    body_timeout_s: float = Field(default=30.0, gt=0, le=600)


class HarvestSettings(BaseModel):
    """Fetching municipalities' published files (``mapsvc.services.harvest``).

    The fetcher refuses every address that is not global unless its network is listed in
    ``allow_networks``, and plain http unless the host is listed in ``allow_http_hosts``: a
    source URL must never reach the service's own network (SSRF).
    """

    # Run the scheduler inside `mapsvc serve` (the embedded default); a deployment with its
    # own `mapsvc harvest` service turns this off on the web servers.
    embedded: bool = True
    poll_interval_s: float = Field(default=30, gt=0, le=3600)
    allow_networks: str = ""  # comma-separated, e.g. "10.1.2.0/24" for an intranet catalogue
    allow_http_hosts: str = ""  # comma-separated host names (or addresses) allowed over http
    connect_timeout_s: float = Field(default=10, gt=0, le=120)
    read_timeout_s: float = Field(default=30, gt=0, le=600)
    # The whole fetch, redirects included: a server dripping a byte a second is cut here.
    total_timeout_s: float = Field(default=120, gt=0, le=3600)
    # Named in every request's User-Agent, so that a municipality's web team can reach the
    # operator: set it to an address or page someone reads.
    contact: str = Field(default="mapsvc@localhost", min_length=3, max_length=200)


class Settings(BaseSettings):
    """The root of all settings."""

    model_config = SettingsConfigDict(
        env_prefix="MAPSVC_", env_nested_delimiter="__", extra="ignore"
    )

    database: DatabaseSettings = DatabaseSettings()
    api: ApiSettings = ApiSettings()
    auth: AuthSettings = AuthSettings()
    staff: StaffSettings = StaffSettings()
    imports: ImportSettings = ImportSettings()
    harvest: HarvestSettings = HarvestSettings()
    host: str = "127.0.0.1"
    # The reverse proxies whose X-Forwarded-For/-Proto are believed (comma-separated addresses
    # or networks, as uvicorn's FORWARDED_ALLOW_IPS). Empty: none, the peer is the client.
    trusted_proxies: str = ""
    port: int = Field(default=8000, ge=1, le=65535)
    # Where people reach the service (``https://map.pref.example.jp``): the base of the links
    # the portal and the CLI hand out. Unset: this server's own host and port.
    public_url: str | None = Field(default=None, pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$")
    workers: int | None = Field(default=None, ge=1, le=256)  # None: one per core
    demo: bool = False  # `mapsvc serve` loads the demo data first (what is not loaded yet)
    log_format: Literal["json", "text"] = "json"  # the server's logs (mapsvc.logs)

    def public_base(self) -> str:
        """The service's public address without a trailing slash (``public_url`` or host:port)."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    seed_manifest: Path = PROJECT_DIR / "data" / "seed" / "seed.toml"
    demo_manifest: Path = PROJECT_DIR / "data" / "demo" / "demo.toml"
    web_dir: Path = PROJECT_DIR / "web"
    vendor_dir: Path = PROJECT_DIR / "node_modules"
