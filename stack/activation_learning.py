"""Let a worker replay, without its history at hand, a workflow task whose recording worker
grouped an Update after the results that came with it.

The chaos runs found the shape (stack/activation_order.py explains it): a worker killed while a
workflow task was pending; the task timed out on the dead worker's sticky queue and was scheduled
again, an Update arrived, and the fresh worker that took it applied the activity result before the
Update. On replay Core hands over both in one activation and the SDK runs the Update first, so
the acceptance no longer comes where the history has it and the replay stops with
"[TMPRL1100] Update machine does not handle this event". A worker that must rebuild such an appeal
(after a restart or a cache eviction, or for a query on a closed one) would fail its task forever,
and the appeal would drop out of sight.

A worker sees activations, not the history, so it cannot know the recorded grouping in advance.
`LearningOrderRunner` learns it instead: when a replayed activation that held an Update together
with activity results or timer firings is followed by a nondeterminism eviction, the next attempt
of that run delivers those results first and the Update after them (the first k results in Core's
order, k = all of them, then one fewer, and so on). The task is retried as usual, and the attempt
that matches the recording goes through. Nothing changes for a history that replays as it is, or
for live (non-replaying) activations, and after the last variant the plain grouping is kept, so a
real nondeterminism still fails visibly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio.bridge.proto.workflow_activation import RemoveFromCache, WorkflowActivation, WorkflowActivationJob
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails, WorkflowRunner

from stack import logs
from stack.activation_order import activate_in_two, job_key
from stack.runner_wrapping import WrappingInstance, WrappingRunner

log = logs.get(__name__)

_NONDETERMINISM = RemoveFromCache.EvictionReason.NONDETERMINISM


@dataclass
class _Run:
    """What was learned about one run: per activation (its history length), how many of its
    results go first; and the candidate activation the last attempt stopped at."""

    first: dict[int, int] = field(default_factory=dict)
    candidate: tuple[int, int] | None = None  # (history length, results in that activation)


def _results(act: WorkflowActivation) -> list[WorkflowActivationJob] | None:
    """The activity results and timer firings of a replayed activation that also holds an Update,
    and nothing else; None when the activation is not of that shape."""
    if not act.is_replaying:
        return None
    results = [job for job in act.jobs if job_key(job) is not None]
    updates = [job for job in act.jobs if job.HasField("do_update")]
    if not results or not updates or len(results) + len(updates) != len(act.jobs):
        return None
    return results


class LearningOrderRunner(WrappingRunner):
    """Wraps a workflow runner; see the module doc. One per worker, shared by its instances."""

    def __init__(self, inner: WorkflowRunner) -> None:
        super().__init__(inner)
        self.runs: dict[str, _Run] = {}

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        run = self.runs.setdefault(det.info.run_id, _Run())
        run.candidate = None
        return _LearningInstance(self.inner.create_instance(det), run, self, det.info.run_id)

    def forget(self, run_id: str) -> None:
        self.runs.pop(run_id, None)


class _LearningInstance(WrappingInstance):
    def __init__(self, inner: WorkflowInstance, run: _Run, owner: LearningOrderRunner, run_id: str) -> None:
        super().__init__(inner)
        self.run = run
        self.owner = owner
        self.run_id = run_id

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        evicted = next((job.remove_from_cache for job in act.jobs if job.HasField("remove_from_cache")), None)
        if evicted is not None:
            self._learn(evicted)
            return self.inner.activate(act)
        results = _results(act)
        if results is None:
            self.run.candidate = None
            return self.inner.activate(act)
        self.run.candidate = (act.history_length, len(results))
        k = self.run.first.get(act.history_length)
        if not k:
            return self.inner.activate(act)
        first = {job_key(job) for job in results[:k]}
        return activate_in_two(self.inner, act, lambda job: job_key(job) in first)

    def _learn(self, evicted: RemoveFromCache) -> None:
        candidate, self.run.candidate = self.run.candidate, None
        if evicted.reason != _NONDETERMINISM:
            if self.run.first:  # the run replayed with what it learned: keep it for later replays
                return
            self.owner.forget(self.run_id)
            return
        if candidate is None:
            return  # the nondeterminism is elsewhere: nothing to learn, it fails visibly
        length, count = candidate
        tried = self.run.first.get(length)
        following = count if tried is None else tried - 1
        if following < 1:
            self.run.first.pop(length, None)  # every grouping failed: back to the SDK's own
            return
        self.run.first[length] = following
        log.warning(
            "replay regrouped an Update after the results delivered with it",
            run_id=self.run_id,
            history_length=length,
            results_first=following,
        )
