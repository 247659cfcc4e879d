"""The automatic anti-«отписка» check, as a local activity.

The checker is pure (appeals/moderation.py), but its thresholds are an operator's
file and its rules will improve; running it as a local activity records each
verdict in the history, so a better checker never changes an appeal in flight.
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
        return load(self._config_dir / MODERATION_FILE, ModerationConfig)[1]

    @activity.defn
    async def check_answer(self, request: CheckRequest) -> QualityReport:
        config, _ = load(self._config_dir / MODERATION_FILE, ModerationConfig)
        return check_answer(
            request.answer,
            appeal_text=request.appeal_text,
            attachments=request.attachments,
            citizen_contacts=request.citizen_contacts,
            config=config,
        )
