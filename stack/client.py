"""The one place that builds a Temporal client, so every client and worker agree on
the data converter (pydantic JSON today, plus an encrypting codec later)."""

from __future__ import annotations

from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig

from stack.settings import Settings

DATA_CONVERTER = pydantic_data_converter
DEFAULT_ADDRESS = "localhost:7233"


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
    try:
        return await Client.connect(
            target,
            namespace=settings.namespace,
            data_converter=DATA_CONVERTER,
            tls=_tls(settings),
            api_key=settings.temporal_api_key,
            runtime=runtime,
        )
    except RuntimeError as err:
        raise ConnectionError(
            f"cannot reach Temporal at {target} (namespace {settings.namespace!r}): {err}. "
            "Start the engine with `python3 dev.py up`, or set TEMPORAL_ADDRESS."
        ) from err
