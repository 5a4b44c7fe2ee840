"""One typed settings object for every Ascension process.

Every value comes from an environment variable named ``ASCENSION_<FIELD>`` (or a ``.env`` file in
the working directory) and has a default that needs no configuration: with nothing set, every
process uses the embedded default stack (Temporal dev server with a SQLite file, a SQLite app
database and a local-disk object store, all under ``data_dir``). Pointing the URLs at real servers
switches each piece independently. See ``.env.example`` for the documented list.

Workflows never read settings: whatever they need arrives in their input.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schema import names

ObjectStoreKind = Literal["local", "s3"]


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "ascension"


class Settings(BaseSettings):
    """Configuration shared by the API, the workers, the CLI and the test harness."""

    model_config = SettingsConfigDict(
        env_prefix="ASCENSION_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- Where things live -------------------------------------------------------------------
    cache_dir: Path = Field(
        default_factory=_default_cache_dir,
        description="Built and downloaded components, one folder per component and version.",
    )
    data_dir: Path = Field(
        default=Path(".data"),
        description="State of the embedded default stack (SQLite files, local object store).",
    )

    # --- Temporal ----------------------------------------------------------------------------
    temporal_address: str | None = Field(
        default=None,
        description="host:port of a running Temporal frontend; unset = embedded dev server.",
    )
    temporal_namespace: str = "default"
    temporal_cli_version: str = "1.5.1"
    temporal_cli_path: Path | None = Field(
        default=None, description="Use this `temporal` binary instead of the cached build."
    )
    temporal_test_server_version: str = "1.38.0"
    temporal_test_server_path: Path | None = Field(
        default=None, description="Use this time-skipping test server launcher instead."
    )
    temporal_dev_port: int = 7233
    temporal_ui_port: int = 8233
    cpu_task_queue: str = names.CPU_TASK_QUEUE
    gpu_task_queue: str = names.GPU_TASK_QUEUE
    # A frontend outside the cluster (Temporal Cloud) needs TLS and an API key or a client
    # certificate; the Helm chart's frontend inside the cluster answers in the clear.
    temporal_api_key: SecretStr | None = Field(
        default=None, description="Temporal Cloud API key (sent as a bearer token); implies TLS."
    )
    temporal_tls: bool | None = Field(
        default=None,
        description="TLS to the Temporal frontend; unset = on when an API key or a client "
        "certificate is set, off otherwise.",
    )
    temporal_tls_ca_path: Path | None = Field(
        default=None,
        description="PEM of the CA the frontend's certificate is checked against; "
        "unset = the system's roots.",
    )
    temporal_tls_cert_path: Path | None = Field(
        default=None, description="PEM client certificate for mTLS (with temporal_tls_key_path)."
    )
    temporal_tls_key_path: Path | None = Field(
        default=None, description="PEM private key of temporal_tls_cert_path."
    )
    temporal_tls_server_name: str | None = Field(
        default=None,
        description="Name the frontend's certificate is checked against (SNI), "
        "when it differs from the host in temporal_address.",
    )
    worker_graceful_shutdown_s: float = Field(
        default=0.0,
        ge=0,
        description="After SIGTERM, how long a worker lets running activities finish before "
        "cancelling them (Temporal retries a cancelled attempt elsewhere). Keep the pod's "
        "terminationGracePeriodSeconds above it.",
    )

    # --- Application database ------------------------------------------------------------------
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL (postgresql+asyncpg://...); unset = SQLite in data_dir.",
    )
    postgres_bin_dir: Path | None = Field(
        default=None, description="Folder with initdb/pg_ctl/postgres; unset = Debian's."
    )

    # --- Object storage ------------------------------------------------------------------------
    object_store: ObjectStoreKind = "local"
    s3_endpoint: str = "127.0.0.1:9000"
    s3_access_key: str = "ascension"
    s3_secret_key: str = "ascension-secret"
    s3_secure: bool = False
    s3_public_endpoint: str | None = Field(
        default=None,
        description="host[:port] the phone reaches the store at, when it differs from "
        "s3_endpoint (a proxy, the host's public name); presigned URLs are signed for this host, "
        "every other request uses s3_endpoint. Unset = s3_endpoint.",
    )
    s3_public_secure: bool | None = Field(
        default=None, description="https for presigned URLs; unset = s3_secure."
    )
    s3_region: str = "us-east-1"
    bucket: str = names.VIDEOS_BUCKET
    payload_bucket: str = Field(
        default="ascension-temporal-payloads",
        description="Where Temporal payloads over the threshold are kept instead of history.",
    )
    payload_threshold_bytes: int = Field(default=16 * 1024, ge=1024)
    payload_retention_days: int = Field(
        default=30,
        ge=1,
        description="The payload bucket's lifecycle rule deletes payloads this long after they "
        "were written; keep it above the namespace's retention of closed runs.",
    )
    payload_encryption_keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="AES-GCM key ring for Temporal payloads (JSON object: key id -> base64 of a "
        "16/24/32-byte key). Keep retired ids while "
        "histories or the payload bucket still hold payloads written under them.",
    )
    payload_encryption_key_id: str | None = Field(
        default=None,
        description="The key id that encrypts new payloads; unset = payloads are written in "
        "the clear (those encrypted earlier still decrypt with the ring).",
    )
    temporal_ui_origin: str | None = Field(
        default=None,
        description="Origin of the Temporal Web UI (scheme://host:port), the only origin "
        "allowed by CORS to call the codec endpoints /codec/decode and /codec/encode.",
    )
    minio_version: str = "v0.0.0-20260212201848-7aac2a2c5b7c"
    minio_path: Path | None = Field(default=None, description="Use this `minio` binary instead.")

    # --- RabbitMQ ------------------------------------------------------------------------------
    amqp_url: str | None = Field(
        default=None, description="amqp://user:pass@host:port/vhost; unset = events not sent."
    )
    rabbitmq_server_path: Path | None = Field(
        default=None, description="rabbitmq-server script; unset = Debian's."
    )

    # --- GPU worker (vision) --------------------------------------------------------------------
    vision_device: Literal["auto", "cpu", "cuda"] = Field(
        default="auto", description="torch device for the ghost solver; auto = CUDA if present."
    )
    pose_workers: int | None = Field(
        default=None, ge=1, description="Processes for skeleton extraction; unset = every core."
    )
    gpu_activity_slots: int | None = Field(
        default=None,
        ge=1,
        description="Vision activities one GPU worker runs at once; unset = sized to the device.",
    )
    hold_detector: Literal["learned", "classical"] = Field(
        default="learned",
        description="learned: the hold detector trained on real walls (shipped weights); "
        "classical: the OpenCV segmenter it replaced, kept as the benchmark baseline.",
    )
    hold_model_path: Path | None = Field(
        default=None,
        description="TorchScript hold-detector weights; unset = the weights the project ships.",
    )
    max_video_duration_s: float = Field(default=900.0, gt=0)
    max_video_side_px: int = Field(default=4096, ge=64)

    # --- API ------------------------------------------------------------------------------------
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    jwt_secret: SecretStr | None = Field(
        default=None,
        description="HS256 signing key (32+ bytes); unset = a random key kept in data_dir.",
    )
    jwt_issuer: str = "ascension"
    access_token_ttl_s: int = Field(default=24 * 3600, ge=60)
    refresh_token_ttl_s: int = Field(default=30 * 24 * 3600, ge=3600)
    upload_url_ttl_s: int = Field(default=15 * 60, ge=60, le=7 * 24 * 3600)
    max_video_upload_bytes: int = Field(default=500 * 1024 * 1024, ge=1024)
    max_photo_upload_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed by CORS (JSON list); none by default."
    )
    #: Requests per minute and client address; 0 turns a limit off.
    rate_limit_login_per_min: int = Field(default=10, ge=0)
    rate_limit_register_per_min: int = Field(default=5, ge=0)
    rate_limit_upload_per_min: int = Field(default=30, ge=0)
    #: Result documents cached in the API process (they never change once written).
    result_cache_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    max_request_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest request body the API reads (413 beyond it, before any parsing); "
        "the default holds the largest hold map a route accepts several times over.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses (or networks) of reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto the API believes (JSON list); none by default.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token Prometheus sends to GET /metrics; unset = /metrics disabled.",
    )

    # --- Logs and worker metrics -----------------------------------------------------------------
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="text: one readable line per record; json: one JSON object per line, with "
        "analysis_id and workflow_id fields where known (core/logs.py).",
    )
    cpu_worker_metrics_bind: str | None = Field(
        default=None,
        description="host:port where the CPU worker serves Prometheus metrics (Temporal SDK "
        "and Ascension's own, at /metrics); unset = no endpoint.",
    )
    gpu_worker_metrics_bind: str | None = Field(
        default=None,
        description="host:port of the GPU worker's Prometheus endpoint; unset = none.",
    )
    metrics_sample_interval_s: float = Field(
        default=15.0,
        gt=0,
        description="How often a worker samples its task queue's backlog (and GPU "
        "utilisation) for its metrics endpoint; Prometheus' default scrape interval.",
    )

    # --- Test harness ---------------------------------------------------------------------------
    test_reuse_servers: bool = Field(
        default=False,
        description="Tests use the servers named above instead of starting their own.",
    )

    @model_validator(mode="after")
    def _resolve_paths(self) -> Settings:
        # Relative paths are taken against the working directory once, so that every process
        # started from the same place agrees on them.
        self.cache_dir = self.cache_dir.expanduser().absolute()
        self.data_dir = self.data_dir.expanduser().absolute()
        return self

    @model_validator(mode="after")
    def _check_payload_keys(self) -> Settings:
        # A malformed key or an active id missing from the ring stops every process at start,
        # rather than at its first payload.
        from core.payload_crypto import key_ring

        key_ring(self)
        return self

    @model_validator(mode="after")
    def _check_temporal_tls(self) -> Settings:
        # Half a client identity fails only at the first connection, far from its cause.
        if (self.temporal_tls_cert_path is None) != (self.temporal_tls_key_path is None):
            raise ValueError("temporal_tls_cert_path and temporal_tls_key_path go together")
        return self

    @field_validator("s3_public_endpoint")
    @classmethod
    def _bare_host(cls, value: str | None) -> str | None:
        # A presigned URL signs the Host header: a scheme or path here would sign the wrong one.
        if value is None or not value.strip():
            return None  # an empty line in an env file means "not set"
        if "/" in value:
            raise ValueError("s3_public_endpoint is host[:port], without scheme or path")
        return value.strip()

    @property
    def effective_database_url(self) -> str:
        """The configured database URL, or the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'ascension.db'}"

    @property
    def local_store_dir(self) -> Path:
        return self.data_dir / "objects"

    def as_environment(self, fields: Iterable[str]) -> dict[str, str]:
        """These fields as the ``ASCENSION_*`` variables a child process reads them from.

        Unset (None) fields are left out, so the child falls back to its defaults.
        """
        env = {}
        for name in fields:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            elif isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, list):
                value = json.dumps(value)
            elif isinstance(value, dict):
                value = json.dumps(
                    {
                        key: item.get_secret_value() if isinstance(item, SecretStr) else item
                        for key, item in value.items()
                    }
                )
            env[f"ASCENSION_{name.upper()}"] = str(value)
        return env


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
