"""Configuration by environment variable, with defaults that run on a laptop."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or default


def _int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a whole number; fix or unset it") from None


@dataclass(frozen=True)
class Settings:
    # Temporal. Unset TEMPORAL_ADDRESS means "run the embedded dev server".
    temporal_address: str | None = field(default_factory=lambda: _env("TEMPORAL_ADDRESS"))
    namespace: str = field(default_factory=lambda: _env("TEMPORAL_NAMESPACE", "default") or "")
    task_queue: str = field(default_factory=lambda: _env("APPEALS_TASK_QUEUE", "appeals") or "")
    temporal_api_key: str | None = field(default_factory=lambda: _env("TEMPORAL_API_KEY"))
    temporal_tls_cert: str | None = field(default_factory=lambda: _env("TEMPORAL_TLS_CERT"))
    temporal_tls_key: str | None = field(default_factory=lambda: _env("TEMPORAL_TLS_KEY"))
    temporal_tls_ca: str | None = field(default_factory=lambda: _env("TEMPORAL_TLS_CA"))
    # Storage. Unset APPEALS_DATABASE_URL means "run the embedded PostgreSQL".
    database_url: str | None = field(default_factory=lambda: _env("APPEALS_DATABASE_URL"))
    # Notifications: "log" (default) or "webhook".
    notifier: str = field(default_factory=lambda: _env("APPEALS_NOTIFIER", "log") or "")
    webhook_url: str | None = field(default_factory=lambda: _env("APPEALS_WEBHOOK_URL"))
    webhook_secret: str | None = field(default_factory=lambda: _env("APPEALS_WEBHOOK_SECRET"))
    # Publishing answers to citizens: "record" (default) or "webhook".
    publisher: str = field(default_factory=lambda: _env("APPEALS_PUBLISHER", "record") or "")
    publish_webhook_url: str | None = field(default_factory=lambda: _env("APPEALS_PUBLISH_WEBHOOK_URL"))
    # Files operators edit: sla.toml and routing.toml.
    config_dir: Path = field(default_factory=lambda: Path(_env("APPEALS_CONFIG_DIR", str(REPO_ROOT / "config")) or ""))
    # The embedded stack.
    data_dir: Path = field(
        default_factory=lambda: Path(_env("APPEALS_DATA_DIR", str(REPO_ROOT / ".appeals-data")) or "")
    )
    dev_server_port: int = field(default_factory=lambda: _int("APPEALS_DEV_SERVER_PORT", 7233))
    ui_port: int = field(default_factory=lambda: _int("APPEALS_UI_PORT", 8233))
    log_level: str = field(default_factory=lambda: _env("APPEALS_LOG_LEVEL", "INFO") or "INFO")
    # Prometheus metrics endpoint of the worker; unset: no endpoint.
    metrics_port: int | None = field(default_factory=lambda: _int("APPEALS_METRICS_PORT", 0) or None)

    @property
    def tls(self) -> bool:
        return bool(self.temporal_tls_cert or self.temporal_api_key)


# Read once at import: the workflow class is registered under this name.
WORKFLOW_TYPE = _env("APPEALS_WORKFLOW_TYPE", "AppealWorkflow") or "AppealWorkflow"
INCIDENT_WORKFLOW_TYPE = _env("APPEALS_INCIDENT_WORKFLOW_TYPE", "IncidentWorkflow") or "IncidentWorkflow"
