"""The automatic anti-«отписка» check, as a local activity.

The checker is pure (appeals/moderation/), but its thresholds and patterns are an operator's
file and its rules will improve; running it as a local activity records each verdict in the
history, so a better checker never changes an appeal in flight.

Checking is CPU-bound (tokens, lemmas, patterns: a few milliseconds an answer), so the
activity is a plain `def`: the worker runs it on its `activity_executor` thread pool and its
event loop keeps serving workflow tasks meanwhile. The Russian dictionaries load once per
worker process, on the first check or at `warm_up()` when the worker starts.
"""

from __future__ import annotations

from pathlib import Path

from temporalio import activity

from activities.planning import load
from appeals.moderation import ModerationConfig, QualityReport, check_answer
from appeals.records import CheckRequest

MODERATION_FILE = "moderation.toml"


class CheckingActivities:
    def __init__(self, config_dir: Path) -> None:
        self._config_dir = config_dir

    def check(self) -> str:
        """Validate the file (patterns included) now, so a worker never starts on a broken config."""
        return load(self._config_dir / MODERATION_FILE, ModerationConfig)[1]

    def warm_up(self) -> None:
        """Load the dictionaries and compile the patterns before the first answer arrives."""
        self.check_answer(
            CheckRequest(answer="Яму заделали 12 мая.", appeal_text="", attachments=0, citizen_contacts=[])
        )

    @activity.defn
    def check_answer(self, request: CheckRequest) -> QualityReport:
        config, _ = load(self._config_dir / MODERATION_FILE, ModerationConfig)
        return check_answer(
            request.answer,
            appeal_text=request.appeal_text,
            attachments=request.attachments,
            citizen_contacts=request.citizen_contacts,
            config=config,
        )
