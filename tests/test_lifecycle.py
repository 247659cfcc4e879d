"""Every branch of the full lifecycle on the time-skipping server: the quality gate,
moderation, rework, publication, redirect, reclassification, questions to the citizen,
the final statuses, and systemic incidents."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from appeals.incidents import IncidentAnswer, LinkAppeal, OpenIncident
from appeals.models import (
    Acknowledge,
    AnswerKind,
    AppealStatus,
    AskCitizen,
    CitizenReply,
    MarkDuplicate,
    MarkNotAppeal,
    Moderate,
    Rate,
    Recipient,
    Reclassify,
    Redirect,
    Refute,
    SubmitAnswer,
)
from stack.errors import reason
from tests.conftest import events, eventually, make_appeal, notified, running_worker
from tests.scenarios import (
    FORMAL_TEXT,
    PERM,
    advance_to,
    answer_and_publish,
    good_answer,
    sit_out_feedback_window,
    start,
    state_of,
    to_monday_morning,
    wait_for,
)
from workflows.appeal import AppealWorkflow
from workflows.incident import IncidentWorkflow

WHY = "Подрядчик сорвал сроки, работы перенесены на следующую неделю"


async def test_a_formal_answer_goes_straight_back_with_reasons_and_a_rework_clock(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, make_appeal(monday))
        await handle.execute_update(AppealWorkflow.answer, SubmitAnswer(by="ivanov", text=FORMAL_TEXT))
        state = await wait_for(handle, lambda s: s.status == AppealStatus.rework)
        returned = next(e for e in state.timeline if e.kind == "answer_returned")
        assert returned.data["by"] == "automatic check"
        assert any("принята к сведению" in r for r in returned.data["reasons"])
        # 3 working days for the rework: to the end of Thursday.
        assert (
            state.clock("rework").due_at == PERM.working_intervals(PERM.local_date(monday) + timedelta(days=3))[-1][1]
        )
        assert state.formal_rejections == 1 and state.quality is not None and state.quality.verdict == "formal"
        # The reworked answer passes the gate and reaches the moderator.
        await answer_and_publish(handle)
        projected = "SELECT status FROM appeals WHERE workflow_id = $1 AND formal_rejections = 1"
        # Wait for the row to say "answered": an earlier status is truthy too, and would end the wait.
        await eventually(lambda: pool.fetchval(f"{projected} AND status = 'answered'", handle.id))
        assert await pool.fetchval(projected, handle.id) == "answered"
        await handle.terminate("test over")

    assert ("answer_returned", "perm-roads@gorodperm.ru") in await notified(pool, handle.id)


async def test_the_moderator_rejects_with_reasons_then_accepts(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, make_appeal(monday))
        with pytest.raises(WorkflowUpdateFailedError) as early:
            await handle.execute_update(AppealWorkflow.moderate, Moderate(by="moderator", accept=True))
        assert reason(early.value) == "there is no answer waiting for moderation"
        await handle.execute_update(AppealWorkflow.answer, good_answer())
        await wait_for(handle, lambda s: s.status == AppealStatus.in_moderation)
        with pytest.raises(WorkflowUpdateFailedError) as silent:
            await handle.execute_update("moderate", {"by": "moderator", "accept": False})
        assert "a rejected answer needs at least one reason" in reason(silent.value)
        await handle.execute_update(
            AppealWorkflow.moderate, Moderate(by="moderator", accept=False, reasons=["Нет фото двора после уборки"])
        )
        state = await wait_for(handle, lambda s: s.status == AppealStatus.rework)
        assert state.formal_rejections == 1
        state = await answer_and_publish(handle)
        published = "SELECT count(*) FROM publications WHERE workflow_id = $1 AND status = 'published'"
        assert await eventually(lambda: pool.fetchval(published, handle.id)) == 1
        await handle.terminate("test over")

    kinds = [e.kind for e in state.timeline]
    assert kinds.count("sent_to_moderation") == 2 and kinds.count("answer_returned") == 1
    assert kinds[-2:] == ["answer_accepted", "published"]


async def test_redirect_keeps_the_clock_and_tells_everyone(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, make_appeal(monday))
        before = (await state_of(handle)).clock("answer").due_at
        water = Recipient(role="executor", address="perm-water@novogor.ru")
        await handle.execute_update(AppealWorkflow.redirect, Redirect(by="ivanov", to=water, reason=WHY))
        state = await state_of(handle)
        assert state.executor == water and state.redirects[0]["from"] == "perm-roads@gorodperm.ru"
        assert state.clock("answer").due_at == before  # the citizen's wait does not restart
        with pytest.raises(WorkflowUpdateFailedError) as same:
            await handle.execute_update(AppealWorkflow.redirect, Redirect(by="x", to=water, reason=WHY))
        assert "already handles this appeal" in reason(same.value)
        described = await handle.describe()
        assert {p.key.name: p.value for p in described.typed_search_attributes}["Executor"] == water.address

        # 59-ФЗ: the redirect must happen within 7 days.
        late = await start(ts_env.client, task_queue, make_appeal(monday, channel="pos"))
        await advance_to(ts_env, monday + timedelta(days=8))
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await late.execute_update(AppealWorkflow.redirect, Redirect(by="ivanov", to=water, reason=WHY))
        assert reason(refused.value).startswith("the redirect period ended at")
        for h in (handle, late):
            await h.terminate("test over")

    sent = await notified(pool, handle.id)
    assert ("redirected", "perm-water@novogor.ru") in sent and ("redirected", "+7 912 000-00-00") in sent


async def test_an_operator_reclassifies_and_the_appeal_is_rerouted(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, make_appeal(monday, category=None))
        assert (await state_of(handle)).executor.address == "tsur-triage@permkrai.ru"
        await handle.execute_update(AppealWorkflow.reclassify, Reclassify(by="operator", category="heating"))
        state = await state_of(handle)
        described = await handle.describe()
        await handle.terminate("test over")

    assert state.executor.address == "housing-inspection@permkrai.ru" and state.appeal.category == "heating"
    assert {p.key.name: p.value for p in described.typed_search_attributes}["AppealCategory"] == "heating"
    row = await pool.fetchrow("SELECT category, executor FROM appeals WHERE workflow_id = $1", handle.id)
    assert (row["category"], row["executor"]) == ("heating", "housing-inspection@permkrai.ru")


async def test_a_question_pauses_the_clocks_until_the_citizen_replies(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, make_appeal(monday))
        await handle.execute_update(AppealWorkflow.acknowledge, Acknowledge(by="ivanov"))
        await advance_to(ts_env, monday + timedelta(hours=1))
        await handle.execute_update(
            AppealWorkflow.ask_citizen, AskCitizen(by="ivanov", question="Уточните номер подъезда")
        )
        assert (await state_of(handle)).status == AppealStatus.waiting_for_citizen
        await advance_to(ts_env, monday + timedelta(days=1, hours=1))  # Tuesday 10:00
        await handle.signal(AppealWorkflow.citizen_replied, CitizenReply(text="Подъезд № 3"))
        state = await wait_for(handle, lambda s: s.status == AppealStatus.in_progress)
        await handle.terminate("test over")

    # Paused from Monday 10:00 to Tuesday 10:00: 8 working hours; due Tuesday 18:00.
    assert state.clock("answer").due_at == PERM.working_intervals(PERM.local_date(monday) + timedelta(days=1))[-1][1]
    assert state.clock("clarification").stopped_at is not None
    resumed = next(e for e in state.timeline if e.kind == "resumed")
    assert resumed.data["text"] == "Подъезд № 3"
    assert ("question", "+7 912 000-00-00") in await notified(pool, handle.id)


async def test_silence_after_a_question_closes_the_appeal(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, make_appeal(monday))
        await handle.execute_update(AppealWorkflow.ask_citizen, AskCitizen(by="ivanov", question="Уточните адрес дома"))
        # 5 calendar days; a reply window ending on a weekend runs to the next working morning.
        waiting = (await state_of(handle)).clock("clarification")
        assert waiting.due_at == PERM.add_calendar_time(monday, timedelta(days=5))
        await advance_to(ts_env, waiting.due_at + timedelta(minutes=1))
        result = await handle.result()
        state = await state_of(handle)
    assert result.status == AppealStatus.closed_no_reply
    assert not state.sla_breached and state.escalation_level == 0  # silence is not the executor's fault


@pytest.mark.parametrize(
    ("action", "status"),
    [
        (MarkNotAppeal(by="operator", reason="Реклама, не обращение гражданина"), AppealStatus.closed_not_appeal),
        (MarkDuplicate(by="operator", original="appeal-vk-placeholder"), AppealStatus.closed_duplicate),
    ],
)
async def test_operators_close_what_is_not_an_appeal(ts_env, pool, task_queue, action, status):
    update = AppealWorkflow.mark_not_appeal if isinstance(action, MarkNotAppeal) else AppealWorkflow.mark_duplicate
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        if isinstance(action, MarkDuplicate):
            first = await start(ts_env.client, task_queue, make_appeal(monday))
            await eventually(lambda: events(pool, first.id))  # registered
            action = action.model_copy(update={"original": first.id})
        handle = await start(ts_env.client, task_queue, make_appeal(monday))
        await handle.execute_update(update, action)
        result = await handle.result()
    assert result.status == status
    row = await pool.fetchrow("SELECT status, duplicate_of FROM appeals WHERE workflow_id = $1", handle.id)
    assert row["status"] == status.value
    if status == AppealStatus.closed_duplicate:
        assert row["duplicate_of"] == first.id


async def test_a_duplicate_of_an_appeal_that_does_not_exist_is_refused(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, make_appeal(monday))
        typo = MarkDuplicate(by="operator", original="appeal-vk-no-such-post")
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(AppealWorkflow.mark_duplicate, typo)
        assert reason(refused.value) == "original: appeal-vk-no-such-post is not a registered appeal; check the id"
        state = await state_of(handle)
    assert state.status == AppealStatus.awaiting_acknowledgment and state.duplicate_of is None
    assert "closed" not in await events(pool, handle.id)


async def test_an_honest_cannot_be_solved_answer_has_its_own_final_status(ts_env, pool, task_queue):
    honest = SubmitAnswer(
        by="ivanov",
        kind=AnswerKind.cannot_be_solved,
        text=(
            "Установить светофор на перекрёстке ул. Ленина и ул. Мира нельзя: по ГОСТ Р 52289-2019 "
            "интенсивность движения там в 4 раза ниже порога. Вместо этого 15.12.2026 установим "
            "искусственную неровность и знак «Пешеходный переход» с подсветкой."
        ),
    )
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, make_appeal(monday, category="roads"))
        await answer_and_publish(handle, honest)
        result = await sit_out_feedback_window(ts_env, handle)
    assert result.status == AppealStatus.closed_unsolvable


async def test_a_systemic_incident_links_appeals_and_fans_out_one_answer(ts_env, pool, task_queue):
    address = "Пермь, ул. Мира, 12"
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        before = [
            await start(
                ts_env.client,
                task_queue,
                make_appeal(monday, channel=channel, category="heating", address=address),
            )
            for channel in ("vk", "telegram")
        ]
        elsewhere = await start(ts_env.client, task_queue, make_appeal(monday, category="heating"))
        committed = PERM.local_date(monday) + timedelta(days=4)
        incident = await ts_env.client.start_workflow(
            IncidentWorkflow.run,
            OpenIncident(
                incident_id=f"heat-{task_queue}",
                title="Нет отопления в доме на ул. Мира, 12",
                category="heating",
                address=address,
                municipality="Пермь",
                opened_by="operator",
                committed_date=committed,
                reason="Замена участка трубы на вводе в дом",
            ),
            id=f"incident-heat-{task_queue}",
            task_queue=task_queue,
        )
        for handle in before:
            state = await wait_for(handle, lambda s: s.incident_id is not None and s.commitment is not None)
            assert state.commitment.committed_date == committed
        # An appeal arriving after the incident opened joins it by the suggestion rule...
        later = await start(
            ts_env.client, task_queue, make_appeal(monday, channel="website", category="heating", address=address)
        )
        await wait_for(later, lambda s: s.incident_id == f"heat-{task_queue}")
        # ...and an operator links another by hand.
        await incident.execute_update(IncidentWorkflow.link_appeal, LinkAppeal(by="operator", workflow_id=elsewhere.id))
        linked = [*before, later, elsewhere]
        described = await later.describe()
        assert {p.key.name: p.value for p in described.typed_search_attributes}["IncidentId"] == f"heat-{task_queue}"
        state = await incident.query(IncidentWorkflow.get_state)
        assert state.count == 4

        await incident.execute_update(
            IncidentWorkflow.answer,
            IncidentAnswer(by="operator", text=good_answer().text, attachments=good_answer().attachments),
        )
        for handle in linked:
            await wait_for(handle, lambda s: s.status == AppealStatus.in_moderation)
            await handle.execute_update(AppealWorkflow.moderate, Moderate(by="moderator", accept=True))
        for handle in linked:
            await wait_for(handle, lambda s: s.status == AppealStatus.answered)
        final = await incident.result()
        for handle in linked:
            await handle.terminate("test over")

    assert final.status == "answered" and final.count == 4
    channels = await pool.fetch(
        "SELECT channel FROM publications WHERE workflow_id = ANY($1::text[]) ORDER BY channel",
        [h.id for h in linked],
    )
    assert [r["channel"] for r in channels] == ["telegram", "vk", "vk", "website"]
    row = await pool.fetchrow("SELECT status, linked FROM incidents WHERE incident_id = $1", f"heat-{task_queue}")
    assert (row["status"], row["linked"]) == ("answered", 4)
    assert "linked_to_incident" in await events(pool, later.id)


async def test_a_satisfied_citizen_closes_the_appeal_at_once(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, make_appeal(monday))
        with pytest.raises(WorkflowUpdateFailedError) as early:
            await handle.execute_update(AppealWorkflow.rate, Rate(by="citizen", score=5))
        assert reason(early.value) == "there is no published answer to rate"
        await answer_and_publish(handle)
        await handle.execute_update(AppealWorkflow.rate, Rate(by="citizen", score=5, comment="Спасибо, вывезли"))
        result = await handle.result()  # no need to wait for the feedback window
        state = await state_of(handle)
    assert result.status == AppealStatus.closed and state.rating == 5
    assert state.timeline[-1].summary == "closed: the citizen is satisfied (5/5)"


async def test_rejections_are_counted_per_executor(ts_env, pool, task_queue):
    executor = f"counted-{task_queue}@gorodperm.ru"
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handles = [await start(ts_env.client, task_queue, make_appeal(monday)) for _ in range(2)]
        for handle in handles:
            to = Recipient(role="executor", address=executor)
            await handle.execute_update(AppealWorkflow.redirect, Redirect(by="ivanov", to=to, reason=WHY))
            await handle.execute_update(AppealWorkflow.answer, SubmitAnswer(by="petrov", text=FORMAL_TEXT))
            await wait_for(handle, lambda s: s.status == AppealStatus.rework)
        await handles[0].execute_update(AppealWorkflow.answer, good_answer("petrov"))
        await wait_for(handles[0], lambda s: s.status == AppealStatus.in_moderation)
        await handles[0].execute_update(
            AppealWorkflow.moderate, Moderate(by="moderator", accept=False, reasons=["Нет срока устранения"])
        )
        await wait_for(handles[0], lambda s: s.status == AppealStatus.rework)
        for handle in handles:
            await handle.terminate("test over")
    row = await pool.fetchrow("SELECT * FROM formal_rejections_by_executor WHERE executor = $1", executor)
    assert (row["rejections"], row["by_automatic_check"], row["appeals"]) == (3, 2, 2)


async def test_an_incident_survives_a_linked_appeal_that_closed(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        kept = await start(ts_env.client, task_queue, make_appeal(monday, category="heating"))
        closed = await start(ts_env.client, task_queue, make_appeal(monday, category="heating"))
        incident = await ts_env.client.start_workflow(
            IncidentWorkflow.run,
            OpenIncident(
                incident_id=f"gone-{task_queue}",
                title="Нет отопления",
                category="heating",
                address="Пермь, ул. Ленина, 1",
                opened_by="operator",
            ),
            id=f"incident-gone-{task_queue}",
            task_queue=task_queue,
        )
        for handle in (kept, closed):
            await incident.execute_update(
                IncidentWorkflow.link_appeal, LinkAppeal(by="operator", workflow_id=handle.id)
            )
        await incident.execute_update(
            IncidentWorkflow.link_appeal, LinkAppeal(by="operator", workflow_id="appeal-vk-mistyped")
        )
        await closed.execute_update(AppealWorkflow.mark_duplicate, MarkDuplicate(by="operator", original=kept.id))
        await closed.result()
        await incident.execute_update(IncidentWorkflow.answer, IncidentAnswer(by="operator", text=good_answer().text))
        state = await incident.result()
        await wait_for(kept, lambda s: s.status == AppealStatus.in_moderation)
        await kept.terminate("test over")
    assert state.status == "answered"
    assert set(state.unreachable) == {closed.id, "appeal-vk-mistyped"}


async def test_a_second_verdict_is_refused_not_kept_for_the_next_answer(ts_env, pool, task_queue):
    async with running_worker(ts_env.client, pool, task_queue):
        monday = await to_monday_morning(ts_env)
        handle = await start(ts_env.client, task_queue, make_appeal(monday))
        await handle.execute_update(AppealWorkflow.answer, good_answer())
        await wait_for(handle, lambda s: s.status == AppealStatus.in_moderation)
        verdicts = await asyncio.gather(
            handle.execute_update(AppealWorkflow.moderate, Moderate(by="m1", accept=True)),
            handle.execute_update(AppealWorkflow.moderate, Moderate(by="m2", accept=True)),
            return_exceptions=True,
        )
        assert sum(isinstance(v, WorkflowUpdateFailedError) for v in verdicts) == 1
        await wait_for(handle, lambda s: s.status == AppealStatus.answered)
        await handle.execute_update(AppealWorkflow.refute, Refute(by="citizen", reason="Снег так и лежит"))
        await handle.execute_update(AppealWorkflow.answer, good_answer())
        state = await wait_for(handle, lambda s: s.status == AppealStatus.in_moderation)
        await handle.terminate("test over")
    assert [e.kind for e in state.timeline].count("answer_accepted") == 1  # the second answer waits for a human
