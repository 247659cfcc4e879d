"""`config/publishing.toml`: which publisher takes an accepted answer, per channel of the appeal.

    [channels]
    telegram = "telegram"
    vk = "vk"

A channel the file does not name goes to APPEALS_PUBLISHER (`record` unless set). The
file is optional; when present it is validated when the worker starts, and an error
names the file and the field (`config/publishing.toml: channels.vk: Input should be …`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from activities.planning import load
from appeals.models import Channel

PUBLISHING_FILE = "publishing.toml"
PublisherName = Literal["record", "webhook", "telegram", "vk"]
PUBLISHER_NAMES: tuple[str, ...] = get_args(PublisherName)


class PublishingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: dict[Channel, PublisherName] = Field(
        default_factory=dict, description="channel of the appeal -> publisher of its answers"
    )


def load_channels(config_dir: Path) -> tuple[Path, dict[str, str]]:
    """The file's path and its channel -> publisher table (empty when there is no file)."""
    path = config_dir / PUBLISHING_FILE
    if not path.exists():
        return path, {}
    config, _ = load(path, PublishingConfig)
    return path, {channel.value: name for channel, name in config.channels.items()}
