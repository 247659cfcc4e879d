"""The raw Temporal floor the cost bench compares the project with: a minimal workflow with two
trivial activities and one signal, and a bare one-minute timer for the burst.

Kept tiny on purpose: the sandbox re-imports this module for every new run, exactly as it
re-imports the project's workflow module, so what it costs is the floor."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import activity, workflow

LIFECYCLE_TYPE = "BenchRawLifecycle"
TIMER_TYPE = "BenchRawTimer"
PROCEED = "proceed"


@activity.defn(name="bench_raw_first")
async def first(name: str) -> str:
    return f"{name}:first"


@activity.defn(name="bench_raw_second")
async def second(name: str) -> str:
    return f"{name}:second"


@workflow.defn(name=LIFECYCLE_TYPE)
class RawLifecycle:
    """Start → activity → wait for a signal → activity → done."""

    def __init__(self) -> None:
        self.go = False

    @workflow.run
    async def run(self, name: str) -> str:
        done = await workflow.execute_activity(first, name, start_to_close_timeout=timedelta(seconds=30))
        await workflow.wait_condition(lambda: self.go)
        return await workflow.execute_activity(second, done, start_to_close_timeout=timedelta(seconds=30))

    @workflow.signal(name=PROCEED)
    def proceed(self) -> None:
        self.go = True


@workflow.defn(name=TIMER_TYPE)
class RawTimer:
    """One durable timer that fires at a given instant (ISO 8601), then the workflow ends."""

    @workflow.run
    async def run(self, fire_at: str) -> str:
        delay = datetime.fromisoformat(fire_at) - workflow.now()
        if delay > timedelta(0):
            await workflow.sleep(delay)
        return "fired"


WORKFLOWS = [RawLifecycle, RawTimer]
ACTIVITIES = [first, second]
