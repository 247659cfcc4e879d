"""The one place that builds a Temporal client, so every client and worker agree on the data
converter: pydantic JSON, encrypted by the payload codec (stack/codec.py), with failure messages
and stack traces moved into an encrypted payload too."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.contrib.pydantic import PydanticPayloadConverter, pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig

from appeals.safety import UndecodablePayload
from stack.codec import CodecKeyError, EncryptionCodec, keyring_from
from stack.settings import Settings

DEFAULT_ADDRESS = "localhost:7233"


class AppealsPayloadConverter(PydanticPayloadConverter):
    """Pydantic JSON; a payload that cannot be read at all raises UndecodablePayload, which the
    workflows list among their failure types: a bad start fails at once instead of looping."""

    def from_payloads(self, payloads: Sequence[Payload], type_hints: list[type] | None = None) -> list[Any]:
        try:
            return super().from_payloads(payloads, type_hints)
        except ValidationError:
            raise
        except (KeyError, RuntimeError, ValueError) as err:
            raise UndecodablePayload(f"input: cannot be read ({str(err).strip(chr(39))[:200]})") from err


def data_converter(settings: Settings | None = None) -> DataConverter:
    """The encrypting converter. Keys are read on first use: from `settings`, or from the
    environment at that moment when None."""
    codec = EncryptionCodec(lambda: keyring_from(settings or Settings()))
    return dataclasses.replace(
        pydantic_data_converter,
        payload_converter_class=AppealsPayloadConverter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


# For workers, environments and replayers built outside `connect`: the environment's keys.
DATA_CONVERTER = data_converter()


def _tls(settings: Settings) -> TLSConfig | bool:
    if not settings.tls:
        return False

    def read(path: str | None) -> bytes | None:
        return Path(path).read_bytes() if path else None

    return TLSConfig(
        client_cert=read(settings.temporal_tls_cert),
        client_private_key=read(settings.temporal_tls_key),
        server_root_ca_cert=read(settings.temporal_tls_ca),
    )


async def connect(settings: Settings, address: str | None = None, *, runtime: Runtime | None = None) -> Client:
    target = address or settings.temporal_address or DEFAULT_ADDRESS
    converter = data_converter(settings)
    codec = converter.payload_codec
    assert isinstance(codec, EncryptionCodec)
    try:
        codec.keyring  # noqa: B018 (load the keys now: a missing key is a one-line error, not a failed task)
    except CodecKeyError as err:
        raise ConnectionError(str(err)) from None
    try:
        return await Client.connect(
            target,
            namespace=settings.namespace,
            data_converter=converter,
            tls=_tls(settings),
            api_key=settings.temporal_api_key,
            runtime=runtime,
        )
    except RuntimeError as err:
        raise ConnectionError(
            f"cannot reach Temporal at {target} (namespace {settings.namespace!r}): {err}. "
            "Start the engine with `python3 dev.py up`, or set TEMPORAL_ADDRESS."
        ) from err
