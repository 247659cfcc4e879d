"""examples/channel_sinks.py, the README's local stand-ins, receives what the real adapters send."""

from __future__ import annotations

import importlib.util
from typing import Any

from activities.messengers import answer_text
from activities.smtp import SmtpConfig, SmtpNotifier, message_id
from activities.telegram import TelegramPublisher
from appeals.models import Recipient
from appeals.records import NotificationRequest, Publication
from stack.settings import REPO_ROOT

spec = importlib.util.spec_from_file_location("channel_sinks", REPO_ROOT / "examples" / "channel_sinks.py")
assert spec is not None and spec.loader is not None
sinks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sinks)


async def test_the_sinks_print_an_email_and_a_telegram_reply() -> None:
    seen: list[dict[str, Any]] = []
    smtp, runner, smtp_port, telegram_port = await sinks.start("127.0.0.1", 0, 0, seen.append)
    try:
        notification = NotificationRequest(
            workflow_id="appeal-telegram-1:2",
            seq=3,
            kind="assigned",
            recipient=Recipient(role="executor", address="perm-roads@gorodperm.ru"),
            subject="Новое обращение",
            body="Снег во дворе.",
        )
        config = SmtpConfig(host="127.0.0.1", port=smtp_port, sender="sla-robot@example.org", starttls=False)
        await SmtpNotifier(config).send(notification)
        publication = Publication(
            workflow_id="appeal-telegram-1:2", seq=4, channel="telegram", external_id="1:2", recipient="m", text="Ответ"
        )
        receipt: dict[str, Any] = {}
        await TelegramPublisher("123456:local", f"http://127.0.0.1:{telegram_port}").publish(publication, receipt)
    finally:
        smtp.close()
        await runner.cleanup()

    mail, reply = seen
    assert mail["to"] == ["perm-roads@gorodperm.ru"] and mail["subject"] == "Новое обращение"
    assert mail["message_id"] == message_id(notification.idempotency_key, "example.org")
    assert mail["body"].strip() == "Снег во дворе."
    assert reply["chat_id"] == 1 and reply["reply_parameters"]["message_id"] == 2
    assert reply["text"] == answer_text(publication)
    assert receipt == {"message_ids": [1]}
