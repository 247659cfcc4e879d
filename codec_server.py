"""The codec server for the Temporal UI and CLI (see stack/codec_server.py), and its secrets.

    python codec_server.py                  serve on APPEALS_CODEC_HOST:APPEALS_CODEC_PORT (127.0.0.1:8081)
    python codec_server.py new-key          print a fresh "kid:base64" payload key (put it first to rotate)
    python codec_server.py new-token NAME   print a fresh "NAME:token" credential

Keys: APPEALS_CODEC_KEYS or APPEALS_CODEC_KEYS_FILE. Credentials: APPEALS_CODEC_TOKENS or
APPEALS_CODEC_TOKENS_FILE. Allowed browser origins: APPEALS_CODEC_CORS_ORIGINS.
`python3 dev.py up` runs one for you.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from stack import codec_server, logs
from stack.codec import CodecKeyError, EncryptionCodec, keyring_from, new_key_line
from stack.process import exit_now
from stack.settings import Settings


async def serve(settings: Settings) -> None:
    logs.configure(settings.log_level)
    codec = EncryptionCodec(keyring_from(settings))
    origins = codec_server.cors_origins(settings)
    app = codec_server.build_app(codec, codec_server.credentials_from(settings), origins)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    runner = await codec_server.start(app, settings.codec_host, settings.codec_port)
    logs.get("appeals.codec_server").info(
        "codec server listening",
        address=f"http://{settings.codec_host}:{settings.codec_port}",
        origins=origins,
        key_ids=list(codec.keyring.ids),
    )
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="codec_server.py", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve (the default)")
    commands.add_parser("new-key", help='print a fresh "kid:base64" AES-256 key')
    token = commands.add_parser("new-token", help='print a fresh "NAME:token" credential')
    token.add_argument("name")
    args = parser.parse_args(argv)
    try:
        if args.command == "new-key":
            print(new_key_line())
            return 0
        if args.command == "new-token":
            line = codec_server.new_token_line(args.name)
            codec_server.parse_tokens(line, "NAME")
            print(line)
            return 0
        asyncio.run(serve(Settings()))
    except (CodecKeyError, FileNotFoundError, RuntimeError, ValueError) as err:
        print(f"codec_server: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    exit_now(main())
