"""Build the notifier and the publishers from the settings: the runtime's wiring of the
delivery adapters in activities/ (which know nothing of the environment)."""

from __future__ import annotations

from activities.notifiers import LogNotifier, Notifier, WebhookNotifier, check_key_id
from activities.publishing import (
    ChannelPublishers,
    Publisher,
    RecordingPublisher,
    WebhookPublisher,
)
from activities.publishing_config import PUBLISHER_NAMES, load_channels
from activities.smtp import SmtpConfig, SmtpNotifier, _is_loopback
from activities.telegram import TelegramPublisher
from activities.vk import VkPublisher
from stack.settings import Settings


def notifier(settings: Settings) -> Notifier:
    if settings.notifier == "log":
        return LogNotifier()
    if settings.notifier == "smtp":
        return smtp_notifier(settings)
    if settings.notifier == "webhook":
        if not settings.webhook_url or not settings.webhook_secret:
            raise SystemExit("APPEALS_NOTIFIER=webhook needs APPEALS_WEBHOOK_URL and APPEALS_WEBHOOK_SECRET")
        check_key_id("APPEALS_WEBHOOK_KEY_ID", settings.webhook_key_id)
        return WebhookNotifier(settings.webhook_url, settings.webhook_key_id, settings.webhook_secret)
    raise SystemExit(f"APPEALS_NOTIFIER={settings.notifier!r}: choose 'log', 'webhook' or 'smtp'")


def smtp_notifier(settings: Settings) -> SmtpNotifier:
    if not settings.smtp_host or not settings.smtp_from:
        raise SystemExit("APPEALS_NOTIFIER=smtp needs APPEALS_SMTP_HOST and APPEALS_SMTP_FROM")
    if settings.smtp_starttls and settings.smtp_tls:
        raise SystemExit(
            "APPEALS_SMTP_TLS=true is implicit TLS (port 465): set APPEALS_SMTP_STARTTLS=false with it, or unset it"
        )
    if bool(settings.smtp_user) != bool(settings.smtp_password):
        raise SystemExit("a login needs both APPEALS_SMTP_USER and APPEALS_SMTP_PASSWORD")
    encrypted = settings.smtp_starttls or settings.smtp_tls
    if settings.smtp_user and not encrypted and not _is_loopback(settings.smtp_host):
        raise SystemExit(
            "APPEALS_SMTP_USER without STARTTLS or TLS would send the password in clear:"
            " set APPEALS_SMTP_STARTTLS=true or APPEALS_SMTP_TLS=true"
        )
    if settings.smtp_ca_file and not settings.smtp_ca_file.is_file():
        raise SystemExit(f"APPEALS_SMTP_CA_FILE={str(settings.smtp_ca_file)!r}: no such file")
    if settings.smtp_timeout <= 0:
        raise SystemExit("APPEALS_SMTP_TIMEOUT must be a positive number of seconds")
    port = settings.smtp_port or (465 if settings.smtp_tls else 587 if settings.smtp_starttls else 25)
    try:
        config = SmtpConfig(
            host=settings.smtp_host,
            port=port,
            sender=settings.smtp_from,
            starttls=settings.smtp_starttls,
            tls=settings.smtp_tls,
            username=settings.smtp_user,
            password=settings.smtp_password,
            ca_file=settings.smtp_ca_file,
            timeout=float(settings.smtp_timeout),
        )
    except ValueError as err:
        raise SystemExit(f"APPEALS_SMTP_FROM: {err}") from None
    return SmtpNotifier(config)


def _webhook(settings: Settings, origin: str) -> WebhookPublisher:
    secret = settings.publish_webhook_secret
    if not settings.publish_webhook_url or not secret:
        raise SystemExit(
            f"{origin} needs APPEALS_PUBLISH_WEBHOOK_URL and APPEALS_PUBLISH_WEBHOOK_SECRET"
            " (a secret of its own: the notification webhook's is not shared)"
        )
    if secret == settings.webhook_secret:
        raise SystemExit("APPEALS_PUBLISH_WEBHOOK_SECRET must differ from APPEALS_WEBHOOK_SECRET: one per webhook")
    check_key_id("APPEALS_PUBLISH_WEBHOOK_KEY_ID", settings.publish_webhook_key_id)
    return WebhookPublisher(settings.publish_webhook_url, settings.publish_webhook_key_id, secret)


def _telegram(settings: Settings, origin: str) -> TelegramPublisher:
    if not settings.telegram_bot_token:
        raise SystemExit(f"{origin} needs APPEALS_TELEGRAM_BOT_TOKEN")
    if not settings.telegram_api_url.startswith(("https://", "http://")):
        raise SystemExit("APPEALS_TELEGRAM_API_URL must be an http(s) URL")
    try:
        return TelegramPublisher(settings.telegram_bot_token, settings.telegram_api_url)
    except ValueError as err:
        raise SystemExit(f"APPEALS_TELEGRAM_BOT_TOKEN: {err}") from None


def _vk(settings: Settings, origin: str) -> VkPublisher:
    if not settings.vk_token:
        raise SystemExit(f"{origin} needs APPEALS_VK_TOKEN")
    if not settings.vk_api_url.startswith(("https://", "http://")):
        raise SystemExit("APPEALS_VK_API_URL must be an http(s) URL")
    return VkPublisher(
        settings.vk_token,
        settings.vk_api_url,
        messages_token=settings.vk_messages_token,
        group_id=settings.vk_group_id,
    )


def build(name: str, settings: Settings, origin: str) -> Publisher:
    """The publisher called `name`; `origin` says where the name was written, for the errors."""
    if name == "record":
        return RecordingPublisher()
    if name == "webhook":
        return _webhook(settings, origin)
    if name == "telegram":
        return _telegram(settings, origin)
    if name == "vk":
        return _vk(settings, origin)
    choices = ", ".join(repr(n) for n in PUBLISHER_NAMES)
    raise SystemExit(f"{origin}: choose one of {choices}")


def publishers(settings: Settings) -> ChannelPublishers:
    """APPEALS_PUBLISHER for every channel, except those config/publishing.toml names. Checked at worker start."""
    built: dict[str, Publisher] = {}
    origin = f"APPEALS_PUBLISHER={settings.publisher!r}"
    default = built[settings.publisher] = build(settings.publisher, settings, origin)
    path, channels = load_channels(settings.config_dir)  # ConfigError, naming the file and field
    by_channel = {}
    for channel, name in channels.items():
        if name not in built:
            built[name] = build(name, settings, f"{path}: channels.{channel} = {name!r}")
        by_channel[channel] = built[name]
    return ChannelPublishers(default, by_channel)
