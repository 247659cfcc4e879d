"""E-mail notifications to officials, through an SMTP relay (`APPEALS_NOTIFIER=smtp`).

One message per notification, to the recipient's address, from APPEALS_SMTP_FROM, over
STARTTLS (the default) or implicit TLS, with a login when APPEALS_SMTP_USER is set.
The Message-ID is made from the notification's idempotency key, so every retry of one
notification carries the same Message-ID: a mail client or a receiving relay that saw it
once drops the repeat. Within the engine a retry cannot send twice anyway: the
`notifications` row is locked while sending and marked sent in the same transaction.

A failure is kept as a short reason of our own words and the reply code ("SMTP 451
local error in processing", "SMTP 535 authentication failed", "connection refused",
"TLS certificate not trusted"): never the server's text, the host or the credentials.
A 4xx reply is retried, a 5xx reply is permanent.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

import aiosmtplib

from activities.notifiers import (
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
    describe_failure,
)
from appeals.records import NotificationRequest

# A plain address: one mailbox, no display name, no list, nothing that could be a second header line.
ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[^\s@,;:<>()\[\]\\\"]+\.[^\s@,;:<>()\[\]\\\".]+")
# RFC 5321 reply codes, in our words: what a failure is called in `last_error`.
REPLY_PHRASES = {
    421: "service not available",
    450: "mailbox unavailable",
    451: "local error in processing",
    452: "insufficient storage",
    454: "TLS or login temporarily unavailable",
    500: "command not recognised",
    501: "syntax error in parameters",
    502: "command not implemented",
    503: "bad sequence of commands",
    504: "parameter not implemented",
    530: "login required",
    534: "login method too weak",
    535: "authentication failed",
    538: "encryption required for this login method",
    550: "mailbox unavailable",
    551: "user not local",
    552: "message too large",
    553: "mailbox name not allowed",
    554: "transaction failed",
}
WHAT_WAS_REFUSED = {
    aiosmtplib.SMTPAuthenticationError: "authentication failed",
    aiosmtplib.SMTPSenderRefused: "sender refused",
    aiosmtplib.SMTPRecipientRefused: "recipient refused",
    aiosmtplib.SMTPDataError: "message refused",
    aiosmtplib.SMTPHeloError: "greeting refused",
    aiosmtplib.SMTPConnectResponseError: "connection refused by the server",
}


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    starttls: bool = True
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None
    timeout: float = 20.0

    def __post_init__(self) -> None:
        if self.starttls and self.tls:
            raise ValueError("choose STARTTLS or implicit TLS, not both")
        if not ADDRESS.fullmatch(self.sender):
            raise ValueError("the sender must be a plain e-mail address, e.g. sla@permkrai.ru")
        if (self.username is None) != (self.password is None):
            raise ValueError("a login needs both a user and a password")

    @property
    def domain(self) -> str:
        return self.sender.rsplit("@", 1)[1].lower()


def message_id(idempotency_key: str, domain: str) -> str:
    """`<appeals.<hash of the key>@domain>`: the same on every retry, with no address or id in clear."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    return f"<appeals.{digest}@{domain}>"


def one_line(text: str) -> str:
    return " ".join(text.split())


def smtp_reply(code: int, what: str) -> DeliveryError:
    phrase = REPLY_PHRASES.get(code, what)
    reason = f"SMTP {code} {phrase}" if phrase == what else f"SMTP {code} {what}: {phrase}"
    return TransientDeliveryError(reason) if 400 <= code < 500 else PermanentDeliveryError(reason)


def describe_smtp(err: BaseException) -> DeliveryError:
    """A short reason for a failed SMTP exchange, from the reply code and the kind of failure only."""
    if isinstance(err, aiosmtplib.SMTPRecipientsRefused):
        codes = sorted(r.code for r in err.recipients)
        return smtp_reply(codes[-1] if codes else 550, "recipient refused")
    if isinstance(err, aiosmtplib.SMTPResponseException):
        what = next((w for kind, w in WHAT_WAS_REFUSED.items() if isinstance(err, kind)), "command refused")
        return smtp_reply(err.code, what)
    if type(err) in (aiosmtplib.SMTPException, aiosmtplib.SMTPNotSupported):
        # The library's own words, not the server's: which extension the server lacks.
        said = str(err).upper()
        if "STARTTLS" in said:
            return PermanentDeliveryError("SMTP server does not offer STARTTLS")
        if "AUTH" in said:
            return PermanentDeliveryError("SMTP server offers no supported login method")
        return TransientDeliveryError("SMTP exchange failed")
    if isinstance(err, ssl.SSLCertVerificationError) or isinstance(err.__cause__, ssl.SSLCertVerificationError):
        return TransientDeliveryError("TLS certificate not trusted")
    if isinstance(err, ssl.SSLError) or isinstance(err.__cause__, ssl.SSLError):
        return TransientDeliveryError("TLS handshake failed")
    if isinstance(err, TimeoutError):  # aiosmtplib's timeouts are TimeoutErrors too
        return TransientDeliveryError("timeout")
    if isinstance(err, aiosmtplib.SMTPServerDisconnected):
        return TransientDeliveryError("server disconnected")
    if isinstance(err, ConnectionRefusedError) or isinstance(err.__cause__, ConnectionRefusedError):
        return TransientDeliveryError("connection refused")
    if isinstance(err, aiosmtplib.SMTPConnectError | OSError):
        return TransientDeliveryError("cannot connect")
    return TransientDeliveryError(describe_failure(err))


class SmtpNotifier:
    name = "smtp"

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._tls_context = (
            ssl.create_default_context(cafile=str(config.ca_file) if config.ca_file else None)
            if config.tls or config.starttls
            else None
        )

    def message(self, notification: NotificationRequest) -> EmailMessage:
        address = recipient_address(notification.recipient.address)
        msg = EmailMessage()
        msg["From"] = self.config.sender
        msg["To"] = address
        msg["Subject"] = one_line(notification.subject)
        msg["Message-ID"] = message_id(notification.idempotency_key, self.config.domain)
        msg["Date"] = formatdate(usegmt=True)
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to the robot
        msg.set_content(notification.body)
        return msg

    async def send(self, notification: NotificationRequest) -> None:
        msg = self.message(notification)
        config = self.config
        client = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            username=config.username,
            password=config.password,
            use_tls=config.tls,
            start_tls=config.starttls,
            tls_context=self._tls_context,
            timeout=config.timeout,
        )
        try:
            async with client:
                await client.send_message(msg, sender=config.sender, recipients=[str(msg["To"])])
        except (aiosmtplib.SMTPException, ssl.SSLError, OSError) as err:
            # `from None`: the library's text quotes the server's reply and names the host.
            raise describe_smtp(err) from None


def recipient_address(address: str) -> str:
    """The recipient as a plain ASCII address (an internationalised domain in its xn-- form)."""
    address = address.strip()
    local, at, domain = address.rpartition("@")
    if at and not domain.isascii():
        try:
            address = f"{local}@{domain.encode('idna').decode('ascii')}"
        except UnicodeError:
            pass
    if not address.isascii() or not ADDRESS.fullmatch(address):
        raise PermanentDeliveryError("the recipient's address is not an e-mail address")
    return address


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
