"""Settings, read from the environment (prefix ``GEOMAP_``) or a ``.env`` file."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Everything geomap can be told from outside. See ``.env.example``."""

    model_config = SettingsConfigDict(env_prefix="GEOMAP_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of a PostgreSQL >= 15 with PostGIS 3. Unset: run the embedded PostGIS.",
    )
    read_database_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated URLs of PostgreSQL streaming replicas of database_url. Reads go there "
        "(round robin) unless the caller has just written and the replicas have not replayed it yet.",
    )
    db_pool_size: int = Field(
        default=24, ge=1, le=500,
        description="Database connections each worker keeps open. Requests beyond it open extra ones "
        "(up to db_pool_overflow more) that are closed again after use, each a new server process and "
        "staging tables to set up: size it to the requests a worker serves at once.",
    )
    db_pool_overflow: int = Field(default=16, ge=0, le=500, description="Extra connections a worker may open at peaks.")
    worker_threads: int = Field(
        default=40, ge=1, le=200,
        description="Requests each worker runs at once in its thread pool (a write's database work, a cold "
        "tile, a page); more wait their turn, first come first served. The default is the thread pool's own. "
        "On 2 cores, 32 volunteers creating at once measured a p99 of 250-330 ms with 4-6 threads against "
        "365-410 ms with 40, at the same creates/s; it is not lowered by default because a request waiting "
        "on a lock (a first large load holds its layer's) would then stall every other request of the worker "
        "sooner.",
    )
    write_concurrency: int = Field(
        default=2, ge=0, le=200,
        description="Single-asset writes of one layer that each worker runs at once; more wait in line, first "
        "come first served (geomap/api/admission.py). On 2 cores, 32 volunteers creating at once measured "
        "(bench/NOTES.md, session 15) more creates/s and a narrower spread of answer times than with every "
        "write running at once. 0 turns the line off.",
    )
    replica_poll_s: float = Field(default=1.0, description="How often each worker checks its replicas' replay position.")
    home: Path = Field(
        default=Path(".geomap"),
        description="Data directory: embedded cluster, photos, logs.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = Field(
        default="",
        description="Absolute base URL used in QR codes and links. Unset: http://<host>:<port> of this server.",
    )
    pg_user: str = Field(
        default="postgres",
        description="Unprivileged system user that runs the embedded PostgreSQL when geomap runs as root.",
    )
    basemap_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    gps_accuracy_max_m: float = 30.0
    assets_dir: Path = Field(
        default=Path("node_modules"),
        description="Where `npm ci` installed Leaflet and its plugins (served at /static/vendor).",
    )
    log_level: str = "info"
    prewarm_tiles: bool = Field(default=True, description="Render the national-view tiles in the background at start.")
    migrate_on_start: bool = Field(default=True, description="Apply pending migrations when the app starts.")
    write_rate_per_token: float = Field(default=600, description="Writes per minute per token or session.")
    write_rate_per_ip: float = Field(default=1200, description="Writes per minute per client IP address.")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated addresses or networks (10.0.0.0/8) of reverse proxies whose X-Forwarded-For "
        "and X-Forwarded-Proto are believed. Default: none, so the client address is the TCP peer's.",
    )
    sign_in_free_failures_per_account: int = Field(
        default=5, description="Failed sign-ins per account before each further attempt waits (1 s, 2 s, 4 s…).")
    sign_in_free_failures_per_ip: int = Field(
        default=30, description="Failed sign-ins per client address before each further attempt waits.")
    sign_in_max_delay_s: float = Field(default=900, description="Longest wait between sign-in attempts once delayed.")
    hsts_max_age_s: int = Field(default=31_536_000, description="Strict-Transport-Security max-age on HTTPS responses.")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["*"],
        description="Comma-separated origins (https://map.example.vn) whose web maps may read tiles, TileJSON, "
        "style.json, /ogc and downloads (read-only CORS, no credentials); * = any.",
    )
    geometry_max_vertices: int = Field(default=10_000, description="Most vertices one geometry may have (422 beyond).")
    photo_max_pixels: int = Field(default=16_000_000, description="Most pixels (width × height) of an uploaded photo.")
    report_rate_per_ip_per_hour: int = Field(default=20, description="Citizen reports (and 'me too') per client address per hour.")
    report_rate_per_device_per_hour: int = Field(default=10, description="Citizen reports (and 'me too') per device id per hour.")
    webhook_poll_s: float = Field(default=5.0, description="How often the webhook worker looks for due deliveries.")
    webhook_backoff_s: float = Field(default=30.0, description="First retry delay of a failed webhook; doubles each attempt.")
    webhook_max_attempts: int = Field(default=8, description="Attempts before a webhook delivery is marked failed.")
    webhook_timeout_s: float = Field(default=10.0, description="Timeout of one webhook POST.")
    webhooks_enabled: bool = Field(default=True, description="Run the webhook delivery worker in the app.")

    @field_validator("read_database_urls", "trusted_proxies", "cors_origins", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _default_public_url(self) -> "Settings":
        # QR codes and follow links must reach this server: on another port, not port 8000's.
        if not self.public_url:
            host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
            self.public_url = f"http://{host}:{self.port}"
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        for entry in value:
            ipaddress.ip_network(entry, strict=False)  # ValueError names a bad entry at start-up
        return value

    @property
    def home_dir(self) -> Path:
        """Absolute data directory."""
        return self.home.expanduser().resolve()
