"""Local stand-ins for trying deliveries by hand: an SMTP server and a Telegram-shaped Bot API.

    python3 examples/channel_sinks.py            # SMTP on 127.0.0.1:1025, Bot API on 127.0.0.1:8089

Every e-mail received and every `sendMessage` is printed as one JSON line. Point a worker here:

    APPEALS_NOTIFIER=smtp APPEALS_SMTP_HOST=127.0.0.1 APPEALS_SMTP_PORT=1025 APPEALS_SMTP_STARTTLS=false \\
    APPEALS_SMTP_FROM=sla-robot@example.org \\
    APPEALS_TELEGRAM_BOT_TOKEN=123456:local APPEALS_TELEGRAM_API_URL=http://127.0.0.1:8089 python3 dev.py up

with `telegram = "telegram"` in config/publishing.toml. Needs `aiosmtpd` (the dev extra).
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import json
import sys
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

Printer = Callable[[dict[str, Any]], None]


def print_line(event: dict[str, Any]) -> None:
    print(json.dumps(event, ensure_ascii=False), flush=True)


class MailSink:
    def __init__(self, say: Printer) -> None:
        self._say = say

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        body = message.get_body(("plain",)) if isinstance(message, email.message.EmailMessage) else None
        self._say(
            {
                "received": "e-mail",
                "to": list(envelope.rcpt_tos),
                "subject": str(message["Subject"]),
                "message_id": str(message["Message-ID"]),
                "body": body.get_content() if body is not None else "",
            }
        )
        return "250 OK"


def bot_api(say: Printer) -> web.Application:
    """sendMessage as the Bot API documents it: {"ok": true, "result": {Message}}."""
    counter = {"next": 0}

    async def send_message(request: web.Request) -> web.Response:
        payload = await request.json()
        counter["next"] += 1
        say({"received": "telegram sendMessage", **payload})
        chat = {"id": payload.get("chat_id"), "type": "private"}
        message = {"message_id": counter["next"], "date": 0, "chat": chat, "text": payload.get("text")}
        return web.json_response({"ok": True, "result": message})

    app = web.Application()
    app.router.add_post("/bot{token}/sendMessage", send_message)
    return app


async def start(
    host: str, smtp_port: int, telegram_port: int, say: Printer = print_line
) -> tuple[asyncio.Server, web.AppRunner, int, int]:
    """Start both; returns them and the ports they listen on (0 picks free ports)."""
    loop = asyncio.get_running_loop()
    sink = MailSink(say)
    smtp = await loop.create_server(lambda: SMTP(sink, hostname="sinks.local", loop=loop), host, smtp_port)
    runner = web.AppRunner(bot_api(say), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, telegram_port).start()
    return smtp, runner, smtp.sockets[0].getsockname()[1], runner.addresses[0][1]


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--telegram-port", type=int, default=8089)
    args = parser.parse_args(argv)
    smtp, runner, smtp_port, telegram_port = await start(args.host, args.smtp_port, args.telegram_port)
    print(f"SMTP on {args.host}:{smtp_port}, Bot API on http://{args.host}:{telegram_port}", file=sys.stderr)
    try:
        await asyncio.Event().wait()
    finally:
        smtp.close()
        await runner.cleanup()


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1:]))
    except KeyboardInterrupt:
        pass
