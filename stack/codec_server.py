"""The codec server: decodes (and encodes) payloads for the Temporal UI and CLI, per Temporal's
codec server protocol (POST /decode and /encode with {"payloads": [...]}; also under
/{namespace}/ for the CLI's endpoint template).

Only with a credential: `Authorization: Bearer <token>` (the CLI's --codec-auth), or the session
cookie that GET /login hands out after the token is typed in, which the UI sends when its codec
setting "Include cross-origin credentials" is on. Tokens are compared in constant time.
CORS answers the configured UI origins only. Every request is logged with who, the namespace,
the number of payloads and the key ids; never a payload's content, never a token.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from aiohttp import hdrs, web
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from stack import logs
from stack.codec import CodecKeyError, EncryptionCodec, key_ids, write_secret
from stack.settings import Settings

TOKENS_FILE = "codec-tokens"  # in the data directory, when nothing else is configured
COOKIE = "appeals_codec_session"
SESSION_SECONDS = 8 * 3600
ALLOWED_HEADERS = "Content-Type, X-Namespace, Authorization, Authorization-Extras"
MAX_BODY = 16 * 1024 * 1024
MIN_TOKEN = 16
_NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")

log = logs.get("appeals.codec_server")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Credential:
    name: str
    secret: str

    def __repr__(self) -> str:
        return f"Credential(name={self.name!r})"


def parse_tokens(text: str, source: str) -> list[Credential]:
    """`name:token` entries separated by commas or lines; `#` starts a comment."""
    found: list[Credential] = []
    for line in text.splitlines():
        for entry in line.split("#", 1)[0].split(","):
            name, sep, secret = entry.strip().partition(":")
            if not entry.strip():
                continue
            if not sep or not _NAME.fullmatch(name.strip()) or len(secret.strip()) < MIN_TOKEN:
                raise ValueError(
                    f"{source}: each credential is 'name:token', a name of letters, digits and '._@-' "
                    f"and a token of {MIN_TOKEN}+ characters"
                )
            found.append(Credential(name.strip(), secret.strip()))
    if not found:
        raise ValueError(f"{source}: no credential in it")
    return found


def credentials_from(settings: Settings) -> list[Credential]:
    if settings.codec_tokens:
        return parse_tokens(settings.codec_tokens, "APPEALS_CODEC_TOKENS")
    path = settings.codec_tokens_file or settings.data_dir / TOKENS_FILE
    if not path.exists():
        raise FileNotFoundError(
            "the codec server needs a credential and there is none: set APPEALS_CODEC_TOKENS or "
            "APPEALS_CODEC_TOKENS_FILE ('name:token' lines; `python codec_server.py new-token NAME` makes one)"
        )
    return parse_tokens(path.read_text(encoding="utf-8"), str(path))


def ensure_tokens_file(settings: Settings) -> str | None:
    """`dev.py up`: with no credential configured, create `<data_dir>/codec-tokens` (0600) with one
    for the operator. Returns the file's path when the credential comes from it."""
    if settings.codec_tokens:
        return None
    path = settings.codec_tokens_file or settings.data_dir / TOKENS_FILE
    if settings.codec_tokens_file is None and not path.exists():
        write_secret(path, new_token_line("operator") + "\n")
    return str(path)


def new_token_line(name: str) -> str:
    return f"{name}:{secrets.token_urlsafe(32)}"


def cors_origins(settings: Settings) -> list[str]:
    raw = settings.codec_cors_origins or f"http://localhost:{settings.ui_port}"
    return [o.strip().rstrip("/") for o in raw.split(",") if o.strip()]


class _Guard:
    """Who a request comes from, by bearer token or session cookie; None when nobody."""

    def __init__(self, credentials: Sequence[Credential], origins: Sequence[str]):
        self.credentials = list(credentials)
        self.origins = set(origins)

    def by_token(self, token: str) -> str | None:
        given = hashlib.sha256(token.encode("utf-8", "replace")).digest()
        who = None
        for cred in self.credentials:  # every one compared, in constant time each
            if hmac.compare_digest(given, hashlib.sha256(cred.secret.encode()).digest()) and who is None:
                who = cred.name
        return who

    def session(self, name: str, until: int) -> str:
        secret = next(c.secret for c in self.credentials if c.name == name)
        mac = hmac.new(secret.encode(), f"{name}.{until}".encode(), hashlib.sha256).hexdigest()
        return f"{name}.{until}.{mac}"

    def by_session(self, cookie: str) -> str | None:
        parts = cookie.rsplit(".", 2)
        if len(parts) != 3 or not (parts[1].isascii() and parts[1].isdigit()) or int(parts[1]) < time.time():
            return None
        name, until, _mac = parts
        if not any(c.name == name for c in self.credentials):
            return None
        expected = self.session(name, int(until)).encode()
        return name if hmac.compare_digest(expected, cookie.encode("utf-8", "replace")) else None

    def who(self, request: web.Request) -> tuple[str | None, str]:
        header = request.headers.get(hdrs.AUTHORIZATION, "")
        reason = "missing credential"
        if header:
            scheme, _, token = header.strip().partition(" ")
            name = self.by_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
            if name:
                return name, "token"
            reason = "wrong credential"
        cookie = request.cookies.get(COOKIE)
        if cookie:
            if request.headers.get(hdrs.ORIGIN, "").rstrip("/") not in self.origins:
                return None, "session cookie from an origin that is not allowed"
            name = self.by_session(cookie)
            if name:
                return name, "session"
            reason = "wrong or expired session"
        return None, reason


def build_app(codec: EncryptionCodec, credentials: Sequence[Credential], origins: Sequence[str]) -> web.Application:
    guard = _Guard(credentials, [o.rstrip("/") for o in origins])

    def cors(request: web.Request, response: web.StreamResponse) -> None:
        origin = request.headers.get(hdrs.ORIGIN, "").rstrip("/")
        response.headers[hdrs.VARY] = "Origin"
        if origin and origin in guard.origins:
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_CREDENTIALS] = "true"

    @web.middleware
    async def with_cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as err:
            cors(request, err)
            raise
        cors(request, response)
        return response

    async def preflight(request: web.Request) -> web.Response:
        origin = request.headers.get(hdrs.ORIGIN, "").rstrip("/")
        if origin not in guard.origins:
            log.warning("codec preflight refused", origin=origin or None, peer=request.remote)
            return web.Response(status=403, text="origin not allowed\n")
        return web.Response(
            status=204,
            headers={
                hdrs.ACCESS_CONTROL_ALLOW_METHODS: "POST",
                hdrs.ACCESS_CONTROL_ALLOW_HEADERS: ALLOWED_HEADERS,
                hdrs.ACCESS_CONTROL_MAX_AGE: "600",
            },
        )

    def transform(action: str) -> Handler:
        async def handle(request: web.Request) -> web.Response:
            namespace = request.headers.get("X-Namespace") or request.match_info.get("namespace", "")
            who, how = guard.who(request)
            if who is None:
                log.warning(
                    f"codec {action} refused",
                    reason=how,
                    namespace=namespace,
                    origin=request.headers.get(hdrs.ORIGIN),
                    peer=request.remote,
                )
                return web.json_response({"error": "unauthorized"}, status=401)
            try:
                incoming = json_format.Parse(await request.read(), Payloads(), ignore_unknown_fields=True)
            except (json_format.ParseError, UnicodeDecodeError, ValueError):
                return web.json_response({"error": 'the body must be {"payloads": [...]}'}, status=400)
            ids = key_ids(incoming.payloads)
            try:
                if action == "decode":
                    out = await codec.decode(incoming.payloads)
                else:
                    out = await codec.encode(incoming.payloads)
                    ids = [codec.keyring.current]
            except CodecKeyError as err:
                log.warning(f"codec {action} failed", who=who, namespace=namespace, key_ids=ids, error=str(err))
                return web.json_response({"error": str(err)}, status=422)
            log.info(
                f"codec {action}",
                who=who,
                via=how,
                namespace=namespace,
                payloads=len(incoming.payloads),
                key_ids=ids,
                origin=request.headers.get(hdrs.ORIGIN),
                peer=request.remote,
            )
            body = json_format.MessageToJson(Payloads(payloads=out), indent=None)
            return web.Response(text=body, content_type="application/json")

        return handle

    async def login_form(request: web.Request) -> web.Response:
        return _page("Codec server: sign in", _FORM)

    async def login(request: web.Request) -> web.Response:
        form = await request.post()
        token = str(form.get("token", "")).strip()
        who = guard.by_token(token) if token else None
        if who is None:
            log.warning("codec sign-in refused", peer=request.remote)
            return _page("Codec server: sign in", "<p>Wrong credential.</p>" + _FORM, status=401)
        until = int(time.time()) + SESSION_SECONDS
        response = _page("Codec server: signed in", f"<p>Signed in as {html.escape(who)} for 8 hours.</p>" + _NEXT)
        secure = request.scheme == "https" or request.headers.get("X-Forwarded-Proto") == "https"
        response.set_cookie(
            COOKIE, guard.session(who, until), max_age=SESSION_SECONDS, httponly=True, samesite="Strict", secure=secure
        )
        log.info("codec sign-in", who=who, peer=request.remote)
        return response

    async def logout(request: web.Request) -> web.Response:
        response = _page("Codec server: signed out", "<p>Signed out.</p>")
        response.del_cookie(COOKIE)
        return response

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    app = web.Application(middlewares=[with_cors], client_max_size=MAX_BODY)
    routes = [web.options("/{tail:.*}", preflight), web.get("/healthz", health)]
    routes += [web.get("/login", login_form), web.post("/login", login), web.post("/logout", logout)]
    for action in ("decode", "encode"):
        routes += [web.post(f"/{action}", transform(action)), web.post(f"/{{namespace}}/{action}", transform(action))]
    app.add_routes(routes)
    return app


_FORM = (
    '<form method="post" action="/login"><label>Codec server token '
    '<input type="password" name="token" autocomplete="off" autofocus></label> '
    '<button type="submit">Sign in</button></form>'
)
_NEXT = (
    "<p>In the Temporal UI, open the Codec Server settings, enter this server's address, tick "
    "&laquo;Include cross-origin credentials&raquo; and choose to use the browser setting.</p>"
)


def _page(title: str, body: str, status: int = 200) -> web.Response:
    text = f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{title}</title><h1>{title}</h1>{body}</html>'
    return web.Response(
        text=text,
        status=status,
        content_type="text/html",
        headers={
            "Content-Security-Policy": "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def start(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Serve `app` on host:port; stop it with `await runner.cleanup()`."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as err:
        await runner.cleanup()
        raise RuntimeError(f"the codec server cannot listen on {host}:{port} ({err}); set APPEALS_CODEC_PORT") from None
    return runner
