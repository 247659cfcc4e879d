"""The live demo: synthetic Russian appeals in Perm's proportions, and simulated officials.

`python3 dev.py up --demo` runs the engine on demo/sla.toml (minutes instead of hours and
days, every minute a working minute) and feeds it appeals: about 30% from incident
management and 70% from the governor's accounts. Simulated officials acknowledge, some
late; answer, some formally (the quality gate sends those back); a moderator accepts;
some citizens refute. Within a few minutes the UI shows every stage, and the demo writes
the HTML SLA report. `generate()` is also the load source for benchmarks.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import holidays
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError

from appeals.models import (
    Acknowledge,
    AppealInput,
    Attachment,
    Moderate,
    Refute,
    SubmitAnswer,
)
from appeals.state import AppealState
from stack import logs
from stack.intake import submit
from stack.settings import REPO_ROOT

log = logs.get(__name__)
DEMO_DIR = REPO_ROOT / "demo"

# (category, municipality, address, what residents write, a substantive answer)
TOPICS = [
    (
        "snow_removal",
        "Пермь",
        "ул. Ленина, 50",
        "Третий день не вывозят снег во дворе, скорая не может проехать",
        "Снег во дворе вывезен сегодня, проезд расчищен до асфальта, фото прилагаем.",
    ),
    (
        "roads",
        "Пермь",
        "ул. Мира, 12",
        "Яма на дороге у школы, вчера пробили колесо",
        "Яма у школы залита литым асфальтом сегодня подрядчиком «Пермдорстрой», фото прилагаем.",
    ),
    (
        "heating",
        "Кунгур",
        "ул. Гоголя, 7",
        "В квартире +14, батареи еле тёплые уже неделю",
        "Стояк промыт, температура в квартире 22 градуса по замеру сегодня, акт прилагаем.",
    ),
    (
        "public_transport",
        "Пермь",
        "ост. «Дом культуры»",
        "Автобус 68 утром не пришёл, люди ждали час",
        "Перевозчику выписан штраф, с завтрашнего дня на маршрут выходят 2 дополнительных автобуса.",
    ),
    (
        "water_supply",
        "Березники",
        "ул. Пятилетки, 3",
        "Из крана течёт ржавая вода",
        "Промывка сети выполнена сегодня, пробы воды в норме, протокол анализа прилагаем.",
    ),
    (
        "yard_improvement",
        "Соликамск",
        "ул. Северная, 21",
        "Во дворе сломана детская площадка",
        "Сломанные качели демонтированы сегодня, новые установим до 15 числа следующего месяца.",
    ),
]
FIRST_NAMES = ["Мария", "Сергей", "Ольга", "Иван", "Анна", "Дмитрий", "Елена", "Алексей"]
FORMAL = "Ваше обращение рассмотрено, информация принята к сведению."
PHOTO = Attachment(url="https://files.example.ru/demo-after.jpg", kind="photo")


def generate(count: int, *, seed: int = 7, now: datetime | None = None, tag: str = "demo") -> list[AppealInput]:
    """`count` realistic appeals: ~30% incident management, ~70% governor accounts."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    appeals = []
    for n in range(count):
        category, municipality, address, text, _ = rng.choice(TOPICS)
        channel = "incident_management" if rng.random() < 0.3 else "governor_account"
        appeals.append(
            AppealInput.model_validate(
                {
                    "channel": channel,
                    "external_id": f"{tag}-{seed}-{n}",
                    "text": f"{text}. Адрес: {municipality}, {address}.",
                    "author": {"name": rng.choice(FIRST_NAMES), "handle": f"id{rng.randint(10_000, 99_999)}"},
                    "received_at": (now - timedelta(seconds=rng.randint(0, 30))).isoformat(),
                    "category": category,
                    "municipality": municipality,
                    "address": f"{municipality}, {address}",
                    "priority": "high" if rng.random() < 0.1 else "normal",
                }
            )
        )
    return appeals


def prepare_config(target: Path, years: list[int]) -> Path:
    """The shipped config with the demo's SLA and a calendar where every day works."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(REPO_ROOT / "config", target)
    shutil.copy(DEMO_DIR / "sla.toml", target / "sla.toml")
    days_off = sorted(holidays.country_holidays("RU", years=years))
    calendar = (DEMO_DIR / "calendar.toml").read_text(encoding="utf-8")
    calendar = calendar.replace(
        'pre_holiday_shortening = "PT0S"',
        f'pre_holiday_shortening = "PT0S"\nextra_working_days = [{", ".join(d.isoformat() for d in days_off)}]',
    )
    (target / "calendar.toml").write_text(calendar, encoding="utf-8")
    tomllib.loads(calendar)  # fail here, not in the worker, if the override is malformed
    return target


@dataclass(frozen=True)
class Officials:
    """How the simulated officials behave; the times are in seconds of real time."""

    late_share: float = 0.3  # acknowledged after the 1-minute deadline
    formal_share: float = 0.3  # first answer is an отписка
    refute_share: float = 0.2  # the citizen says "not fixed"
    think: float = 20.0  # typical time to act


async def _until(handle: WorkflowHandle, predicate, timeout: float = 600) -> AppealState:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        state: AppealState = await handle.query("get_state", result_type=AppealState)
        if predicate(state) or loop.time() > deadline:
            return state
        await asyncio.sleep(1)


async def simulate(handle: WorkflowHandle, text: str, rng: random.Random, who: Officials) -> None:
    """One appeal's officials and citizen, acting with human delays."""
    executor = "demo-executor"
    try:
        await _until(handle, lambda s: s.executor is not None)
        late = rng.random() < who.late_share
        await asyncio.sleep(rng.uniform(70, 100) if late else rng.uniform(5, who.think))
        await handle.execute_update("acknowledge", Acknowledge(by=executor))
        for attempt in range(3):
            await asyncio.sleep(rng.uniform(5, who.think))
            formal = attempt == 0 and rng.random() < who.formal_share
            answer = SubmitAnswer(by=executor, text=FORMAL if formal else text, attachments=[] if formal else [PHOTO])
            await handle.execute_update("answer", answer)
            state = await _until(handle, lambda s: s.status in ("in_moderation", "rework"))
            if state.status == "rework":
                continue
            await asyncio.sleep(rng.uniform(3, 10))
            await handle.execute_update("moderate", Moderate(by="demo-moderator", accept=True))
            await _until(handle, lambda s: s.status == "answered")
            if attempt == 0 and rng.random() < who.refute_share:
                await asyncio.sleep(rng.uniform(3, 10))
                await handle.execute_update("refute", Refute(by="citizen", reason="Проблема не решена, всё как было"))
                continue
            return
    except WorkflowUpdateFailedError as err:  # the appeal moved on meanwhile: fine in a demo
        log.info("demo action skipped", appeal_id=handle.id, error=str(err.cause or err))


async def run(client: Client, task_queue: str, count: int = 24, *, seed: int | None = None) -> list[str]:
    """Submit `count` appeals over the first minute and play their officials; returns the ids."""
    rng = random.Random(seed)
    appeals = generate(count, seed=seed if seed is not None else rng.randint(1, 10**6))
    texts = {a.workflow_id: next(t[4] for t in TOPICS if t[0] == a.category) for a in appeals}
    players = []
    for appeal in appeals:
        await submit(client, appeal, task_queue=task_queue)
        handle = client.get_workflow_handle(appeal.workflow_id)
        players.append(asyncio.create_task(simulate(handle, texts[appeal.workflow_id], rng, Officials())))
        await asyncio.sleep(rng.uniform(0.5, 2.5))
    await asyncio.gather(*players)
    return [a.workflow_id for a in appeals]
