"""What officials and citizens read: every notification's subject and body, in Russian.

One place for the wording, so a text is fixed or translated without touching a step.
Each function returns (subject, body).
"""

from __future__ import annotations

from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from appeals.clocks import Clock
    from appeals.models import Recipient
    from workflows.appeal.state import RunState

CLOCKS = {
    "acknowledge": "реакция на обращение",
    "answer": "ответ по существу",
    "final": "окончательный ответ",
    "commitment": "обещанный срок решения",
    "rework": "доработка ответа",
    "redirect": "переадресация",
    "clarification": "ответ гражданина на вопрос",
}

Text = tuple[str, str]


def _clock(clock: Clock) -> str:
    return CLOCKS.get(clock.name, clock.name)


def assigned(s: RunState, acknowledge_by: str, answer_by: str) -> Text:
    return (
        f"Новое обращение {s.view.workflow_id}: отреагировать до {acknowledge_by}",
        f"{s.appeal.text}\n\nОтвет по существу — до {answer_by}.",
    )


def reassigned(s: RunState) -> Text:
    return f"Обращение {s.view.workflow_id} передано вам", s.appeal.text


def warning(s: RunState, clock: Clock, percent: int | None, due: str) -> Text:
    share = f"прошло {percent}% срока" if percent else "приближается обещанный срок"
    return f"Обращение {s.view.workflow_id}: {share} — {_clock(clock)} до {due}", s.appeal.text


def escalation(s: RunState, clock: Clock, level: int, due: str) -> Text:
    executor = s.view.executor.address if s.view.executor else "—"
    return (
        f"Просрочено обращение {s.view.workflow_id}: {_clock(clock)} до {due} (уровень эскалации {level})",
        f"Исполнитель: {executor}\n\n{s.appeal.text}",
    )


def answer_returned(s: RunState, reasons: list[str], rework_by: str) -> Text:
    return (
        f"Обращение {s.view.workflow_id}: ответ возвращён на доработку до {rework_by}",
        "\n".join(f"- {r}" for r in reasons),
    )


def interim_answer(text: str) -> Text:
    return "Промежуточный ответ", text


def white_spot(reason: str, day: date) -> Text:
    return (
        "Промежуточный ответ: срок решения",
        f"Решить вопрос в установленный срок невозможно: {reason}\nВопрос будет решён до {day:%d.%m.%Y}.",
    )


def commitment_moved(day: date, reason: str) -> Text:
    return "Срок решения перенесён", f"Новый срок: {day:%d.%m.%Y}. Причина: {reason}"


def extension(days: int, reason: str) -> Text:
    return "Срок рассмотрения обращения продлён", f"Срок продлён на {days} дн. Причина: {reason}"


def reopened(s: RunState, reason: str) -> Text:
    return f"Обращение {s.view.workflow_id} возобновлено: гражданин не согласен с ответом", reason


def redirected(to: Recipient, reason: str) -> Text:
    return "Обращение переадресовано", f"Ваше обращение передано: {to.address}. Причина: {reason}"


def question(text: str) -> Text:
    return "Уточнение по обращению", text
