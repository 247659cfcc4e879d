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


def _path(name: str) -> Path | None:
    raw = _env(name)
    return Path(raw).expanduser() if raw else None


def _bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise SystemExit(f"{name}={raw!r}: write true or false")


def _one_of(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = (_env(name, default) or default).lower()
    if raw not in choices:
        raise SystemExit(f"{name}={raw!r}: write one of {', '.join(choices)}")
    return raw


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
    # Notifications: "log" (default), "webhook" or "smtp".
    notifier: str = field(default_factory=lambda: _env("APPEALS_NOTIFIER", "log") or "")
    webhook_url: str | None = field(default_factory=lambda: _env("APPEALS_WEBHOOK_URL"))
    webhook_secret: str | None = field(default_factory=lambda: _env("APPEALS_WEBHOOK_SECRET"))
    # Publishing answers to citizens, for channels config/publishing.toml does not name:
    # "record" (default), "webhook", "telegram" or "vk".
    publisher: str = field(default_factory=lambda: _env("APPEALS_PUBLISHER", "record") or "")
    publish_webhook_url: str | None = field(default_factory=lambda: _env("APPEALS_PUBLISH_WEBHOOK_URL"))
    # Files operators edit: sla.toml and routing.toml.
    config_dir: Path = field(default_factory=lambda: Path(_env("APPEALS_CONFIG_DIR", str(REPO_ROOT / "config")) or ""))
    # The embedded stack.
    data_dir: Path = field(
        default_factory=lambda: Path(_env("APPEALS_DATA_DIR", str(REPO_ROOT / ".appeals-data")) or "")
    )
    # Where a worker keeps the bytecode of the modules its workflow sandbox imports for every run
    # ("off": none, as with PYTHONDONTWRITEBYTECODE). Unset: `<data_dir>/pycache`.
    pycache_dir: str | None = field(default_factory=lambda: _env("APPEALS_PYCACHE_DIR"))
    # Workflow tasks a worker runs at once. They share one Python thread: fewer at a time finish
    # each sooner (a burst waits in the queue instead of stretching every task toward its timeout).
    workflow_task_slots: int = field(default_factory=lambda: _int("APPEALS_WORKFLOW_TASK_SLOTS", 16))
    dev_server_port: int = field(default_factory=lambda: _int("APPEALS_DEV_SERVER_PORT", 7233))
    ui_port: int = field(default_factory=lambda: _int("APPEALS_UI_PORT", 8233))
    log_level: str = field(default_factory=lambda: _env("APPEALS_LOG_LEVEL", "INFO") or "INFO")
    # What officials read in the SLA report and appealctl.py's tables (stack/texts/): "ru" or "en".
    language: str = field(default_factory=lambda: _one_of("APPEALS_LANGUAGE", "ru", ("ru", "en")))
    # Prometheus metrics endpoint of the worker; unset: no endpoint.
    metrics_port: int | None = field(default_factory=lambda: _int("APPEALS_METRICS_PORT", 0) or None)
    # --- Webhook signing, metrics binding and retention (README: "Security and personal data").
    # Each webhook has its own secret and key id; nothing falls back to another's secret.
    webhook_key_id: str = field(default_factory=lambda: _env("APPEALS_WEBHOOK_KEY_ID", "k1") or "k1")
    publish_webhook_secret: str | None = field(
        default_factory=lambda: _env("APPEALS_PUBLISH_WEBHOOK_SECRET"), repr=False
    )
    publish_webhook_key_id: str = field(default_factory=lambda: _env("APPEALS_PUBLISH_WEBHOOK_KEY_ID", "k1") or "k1")
    # The Prometheus endpoint listens on this interface only; 0.0.0.0 must be asked for.
    metrics_host: str = field(default_factory=lambda: _env("APPEALS_METRICS_HOST", "127.0.0.1") or "127.0.0.1")
    # Personal data of appeals closed more than this many days ago is erased (152-ФЗ).
    retention_days: int = field(default_factory=lambda: _int("APPEALS_RETENTION_DAYS", 1825))
    retention_every_hours: int = field(default_factory=lambda: _int("APPEALS_RETENTION_EVERY_HOURS", 24))
    retention_batch: int = field(default_factory=lambda: _int("APPEALS_RETENTION_BATCH", 200))
    # --- end of webhook signing, metrics binding and retention.
    # --- Payload encryption and the codec server (README: "Payload encryption and the codec server").
    # AES-256-GCM keys "kid:base64" (newest first; the newest encrypts), inline or in a file.
    # Unset: the key file `dev.py up` generates in the data directory (`<data_dir>/codec-keys`).
    codec_keys: str | None = field(default_factory=lambda: _env("APPEALS_CODEC_KEYS"), repr=False)
    codec_keys_file: Path | None = field(default_factory=lambda: _path("APPEALS_CODEC_KEYS_FILE"))
    # Codec-server credentials "name:token", inline or in a file; unset: `<data_dir>/codec-tokens`.
    codec_tokens: str | None = field(default_factory=lambda: _env("APPEALS_CODEC_TOKENS"), repr=False)
    codec_tokens_file: Path | None = field(default_factory=lambda: _path("APPEALS_CODEC_TOKENS_FILE"))
    codec_host: str = field(default_factory=lambda: _env("APPEALS_CODEC_HOST", "127.0.0.1") or "127.0.0.1")
    codec_port: int = field(default_factory=lambda: _int("APPEALS_CODEC_PORT", 8081))
    # Browser origins (the Temporal UI) allowed to call the codec server; unset: http://localhost:<ui_port>.
    codec_cors_origins: str | None = field(default_factory=lambda: _env("APPEALS_CODEC_CORS_ORIGINS"))
    # --- end of payload encryption and the codec server.
    # --- The HTTP API (README: "The HTTP API"; api/, api_server.py).
    api_host: str = field(default_factory=lambda: _env("APPEALS_API_HOST", "127.0.0.1") or "127.0.0.1")
    api_port: int = field(default_factory=lambda: _int("APPEALS_API_PORT", 8000))
    # A request body larger than this is refused with 413 before it is read whole.
    api_max_body: int = field(default_factory=lambda: _int("APPEALS_API_MAX_BODY", 4 * 1024 * 1024))
    api_max_batch: int = field(default_factory=lambda: _int("APPEALS_API_MAX_BATCH", 1000))
    # Token bucket per API key: this many requests a minute on average, bursts up to APPEALS_API_BURST.
    api_rate_per_minute: int = field(default_factory=lambda: _int("APPEALS_API_RATE_PER_MINUTE", 600))
    api_burst: int = field(default_factory=lambda: _int("APPEALS_API_BURST", 60))
    # --- end of the HTTP API.

    # --- Delivery to people (README: "E-mail notifications", "Publishing answers to Telegram and VK").
    # APPEALS_NOTIFIER=smtp: one message per notification, STARTTLS (default) or implicit TLS.
    smtp_host: str | None = field(default_factory=lambda: _env("APPEALS_SMTP_HOST"))
    # Unset: 465 with APPEALS_SMTP_TLS, 587 with STARTTLS, 25 with neither.
    smtp_port: int | None = field(default_factory=lambda: _int("APPEALS_SMTP_PORT", 0) or None)
    smtp_starttls: bool = field(default_factory=lambda: _bool("APPEALS_SMTP_STARTTLS", True))
    smtp_tls: bool = field(default_factory=lambda: _bool("APPEALS_SMTP_TLS", False))
    smtp_user: str | None = field(default_factory=lambda: _env("APPEALS_SMTP_USER"))
    smtp_password: str | None = field(default_factory=lambda: _env("APPEALS_SMTP_PASSWORD"), repr=False)
    smtp_from: str | None = field(default_factory=lambda: _env("APPEALS_SMTP_FROM"))
    # A CA bundle for a relay with a private certificate; unset: the system's trusted CAs.
    smtp_ca_file: Path | None = field(default_factory=lambda: _path("APPEALS_SMTP_CA_FILE"))
    smtp_timeout: int = field(default_factory=lambda: _int("APPEALS_SMTP_TIMEOUT", 20))
    # Publishers "telegram" and "vk": tokens never logged or stored; API URLs overridable for tests.
    telegram_bot_token: str | None = field(default_factory=lambda: _env("APPEALS_TELEGRAM_BOT_TOKEN"), repr=False)
    telegram_api_url: str = field(
        default_factory=lambda: _env("APPEALS_TELEGRAM_API_URL", "https://api.telegram.org") or ""
    )
    vk_token: str | None = field(default_factory=lambda: _env("APPEALS_VK_TOKEN"), repr=False)
    # A community token for messages.send; unset: APPEALS_VK_TOKEN.
    vk_messages_token: str | None = field(default_factory=lambda: _env("APPEALS_VK_MESSAGES_TOKEN"), repr=False)
    # Comments on wall posts are written on behalf of this community (from_group); unset: the token's owner.
    vk_group_id: int | None = field(default_factory=lambda: _int("APPEALS_VK_GROUP_ID", 0) or None)
    vk_api_url: str = field(default_factory=lambda: _env("APPEALS_VK_API_URL", "https://api.vk.com") or "")
    # --- end of delivery to people.

    @property
    def tls(self) -> bool:
        return bool(self.temporal_tls_cert or self.temporal_api_key)


# The workflow types, as written on the classes (workflows/): clients and filters use these names.
WORKFLOW_TYPE = "AppealWorkflow"
INCIDENT_WORKFLOW_TYPE = "IncidentWorkflow"
