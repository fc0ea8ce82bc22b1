"""`afc mcp http`: the same MCP server over the SDK's streamable HTTP transport, behind a bearer token.

The SDK's own auth wiring is OAuth (an authorization server issuing tokens, discovery metadata); a
collector shared by a team needs one static secret, so a small ASGI guard in front of the SDK's app
compares the `Authorization: Bearer` header with it in constant time. Tools, limits and read-only
guarantees are the stdio server's: the same `MCPServer` object is served.
"""

from __future__ import annotations

import errno
import hmac
import ipaddress
import logging
import re
import socket
from dataclasses import dataclass
from pathlib import Path

from mcp.server import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from afc.errors import AfcError, ConfigError
from afc.mcp.wire import MAX_HEAD, MAX_MESSAGE

log = logging.getLogger("afc.mcp")
TOKEN_FILE = "mcp_token"  # in $CREDENTIALS_DIRECTORY (systemd LoadCredential=)
MIN_TOKEN = 16
MAX_TOKEN_FILE = 4096
_TOKEN = re.compile(r"[\x21-\x7e]+")  # what an Authorization header can carry
ENDPOINT = "/mcp"
# Open sessions per process (the SDK allows 10,000; each holds ~37 KB, measured: 3,000 sessions took the
# server from 74 to 186 MB). A client that closes its session frees its slot; one that vanishes frees it
# after the SDK's 30 min idle timeout; past the cap a new session is answered 503.
MAX_SESSIONS = 256
# Requests in progress at once (a GET's event stream aside: one per session at most, and it holds no body). Each may
# hold a body of up to MAX_MESSAGE, so bodies take at most 16 x 4 MiB; only 2 tool calls query at once anyway
# (afc.mcp.readonly.MAX_CONCURRENT), the rest wait up to 2 s for a slot. Past the bound a request is answered 503 at
# once, unread, rather than queued.
MAX_REQUESTS = 16


@dataclass(frozen=True)
class Listen:
    """Where the server listens and the token it requires (None: no authentication, loopback only)."""

    host: str
    port: int
    token: str | None


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_token(*, env_token: str | None, token_file: Path | None, credentials_dir: Path | None) -> str:
    """The bearer token: --token-file, else AFC_MCP_TOKEN, else $CREDENTIALS_DIRECTORY/mcp_token."""
    if token_file is not None:
        return _checked(_read(token_file), str(token_file))
    if env_token:
        return _checked(env_token, "AFC_MCP_TOKEN")
    if credentials_dir is not None:
        return _checked(_read(credentials_dir / TOKEN_FILE), str(credentials_dir / TOKEN_FILE))
    raise ConfigError("mcp http: no token: set AFC_MCP_TOKEN, pass --token-file, or put it in "
                      f"$CREDENTIALS_DIRECTORY/{TOKEN_FILE} (systemd LoadCredential=); --no-auth only on 127.0.0.1")


def _read(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_TOKEN_FILE + 1)  # not the whole of /dev/zero or a misplaced dump
        if len(data) > MAX_TOKEN_FILE:
            raise ConfigError(f"{path}: the token file is larger than {MAX_TOKEN_FILE} bytes; put only the token there")
        return data.decode()
    except FileNotFoundError:
        raise ConfigError(f"{path}: token file not found; create it readable by its owner only with "
                          f"`openssl rand -hex 32 | install -m 0600 /dev/stdin {path}`") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise ConfigError(f"{path}: cannot read the token file ({reason})") from None


def _checked(text: str, source: str) -> str:
    """One printable token of at least 16 characters; the value itself is never shown."""
    token = text.strip()
    if not token:
        raise ConfigError(f"{source}: the token is empty; put a secret of at least {MIN_TOKEN} characters there "
                          "(`openssl rand -hex 32`)")
    if not _TOKEN.fullmatch(token):
        raise ConfigError(f"{source}: the token must be one line of printable ASCII without spaces "
                          f"({len(token)} characters, not shown)")
    if len(token) < MIN_TOKEN:
        raise ConfigError(f"{source}: the token is too short ({len(token)} characters); use at least {MIN_TOKEN}")
    return token


def listen_on(host: str, port: int, *, no_auth: bool, token: str | None) -> Listen:
    """Check the bind: `--no-auth` is refused unless only this machine can connect."""
    if no_auth:
        if not is_loopback(host):
            raise ConfigError(f"--no-auth with --host {host}: anyone who reaches {host}:{port} could query the "
                              "database; bind 127.0.0.1 or use a token (AFC_MCP_TOKEN or --token-file)")
        return Listen(host, port, None)
    return Listen(host, port, token)


class BearerGuard:
    """ASGI middleware: every HTTP request needs `Authorization: Bearer <token>`, else 401."""

    def __init__(self, app: ASGIApp, token: str):
        self.app, self.expected = app, f"bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" or self._authorized(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":  # a WebSocket (when uvicorn has a WebSocket library): refused unopened
            await send({"type": "websocket.close", "code": 1008})
            return
        await send({"type": "http.response.start", "status": 401,
                    "headers": [(b"content-type", b"application/json"),
                                (b"www-authenticate", b'Bearer realm="afc"')]})
        await send({"type": "http.response.body",
                    "body": b'{"error": "invalid_token", "error_description": "a valid bearer token is required"}'})

    def _authorized(self, scope: Scope) -> bool:
        given = next((v for k, v in scope.get("headers", ()) if k == b"authorization"), b"")
        scheme, _, credentials = given.partition(b" ")  # the scheme is case-insensitive (RFC 9110 11.1)
        return hmac.compare_digest(scheme.lower() + b" " + credentials, self.expected)


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the server starts so a busy port is one clear line."""
    address = host.strip("[]")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        infos = socket.getaddrinfo(address, port, family, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConfigError(f"--host {host}: cannot resolve it ({exc.strerror})") from None
    sock = socket.socket(infos[0][0], socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(infos[0][4])
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise AfcError(f"{host}:{port}: the port is in use; stop what listens there or pick --port") from None
        raise AfcError(f"{host}:{port}: cannot listen ({exc.strerror})") from None
    sock.listen(128)
    return sock


class LoggedRefusals:
    """ASGI middleware: one log line for each body the SDK refuses as too large (its 413 is otherwise silent)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 413:
                host, port = scope.get("client") or ("?", 0)
                log.warning("mcp http: refused a request body longer than %d bytes from %s:%s", MAX_MESSAGE,
                            host, port)
            await send(message)

        await self.app(scope, receive, watched)


class BoundedRequests:
    """ASGI middleware: at most `limit` requests in progress (GET streams aside); past it, 503 and one log line."""

    def __init__(self, app: ASGIApp, limit: int = MAX_REQUESTS):
        self.app, self.limit, self.active = app, limit, 0  # one event loop: no lock needed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "GET":
            await self.app(scope, receive, send)
            return
        if self.active >= self.limit:
            host, port = scope.get("client") or ("?", 0)
            log.warning("mcp http: refused a request from %s:%s: %d requests are already in progress", host, port,
                        self.limit)
            await send({"type": "http.response.start", "status": 503,
                        "headers": [(b"content-type", b"application/json"), (b"retry-after", b"1"),
                                    (b"connection", b"close")]})
            await send({"type": "http.response.body", "body": b'{"error": "busy", "error_description": "'
                        + str(self.limit).encode() + b' requests are already in progress; try again shortly"}'})
            return
        self.active += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1


class ClientGone(logging.Filter):
    """The SDK logs a client that disconnects before its body is complete as an error with a traceback; it is one
    line of an expected event."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], ClientDisconnect):
            record.levelno, record.levelname, record.exc_info, record.exc_text = logging.INFO, "INFO", None, None
            record.msg, record.args = "mcp http: a client disconnected before its request was complete", ()
        return True


def app_for(server: MCPServer, listen: Listen) -> ASGIApp:
    """The SDK's streamable HTTP app at /mcp (bodies up to MAX_MESSAGE, MAX_REQUESTS at once), behind the bearer
    guard when a token is set (a request without it is refused before it takes a slot)."""
    app = BoundedRequests(LoggedRefusals(server.streamable_http_app(
        streamable_http_path=ENDPOINT, host=listen.host.strip("[]"), transport_security=rebinding_guard(listen.host),
        max_sessions=MAX_SESSIONS, max_request_body_size=MAX_MESSAGE)))
    return app if listen.token is None else BearerGuard(app, listen.token)


def rebinding_guard(host: str) -> TransportSecuritySettings | None:
    """Host and Origin checks against DNS rebinding for every loopback bind (None: not loopback).

    The SDK turns them on only for the literal 127.0.0.1, localhost and ::1; any other loopback
    address (127.0.0.2, a spelled-out ::1) that `--no-auth` accepts would otherwise answer a web page
    whose name was rebound to it.
    """
    if not is_loopback(host):
        return None
    address = host.strip("[]")
    spelled = [address, ipaddress.ip_address(address).compressed] if ":" in address else [address]
    names = list(dict.fromkeys(["127.0.0.1", "localhost", "[::1]", *(f"[{a}]" if ":" in a else a for a in spelled)]))
    return TransportSecuritySettings(enable_dns_rebinding_protection=True,
                                     allowed_hosts=[f"{name}:*" for name in names],
                                     allowed_origins=[f"http://{name}:*" for name in names])


def serve_http(server: MCPServer, listen: Listen) -> None:
    """Serve until SIGTERM/SIGINT; uvicorn's access log goes to stderr and never holds the token."""
    import uvicorn

    sock = bind(listen.host, listen.port)
    auth = "bearer token" if listen.token else "no authentication (loopback)"
    address = listen.host.strip("[]")
    shown = f"[{address}]" if ":" in address else address
    log.info("MCP over HTTP on http://%s:%d%s (%s)", shown, sock.getsockname()[1], ENDPOINT, auth)
    logging.getLogger("mcp.server.streamable_http").addFilter(ClientGone())
    # h11 by name: its cap on a request's line and headers is set here, where uvicorn's default ("auto") would
    # switch to httptools whenever that happens to be installed
    config = uvicorn.Config(app_for(server, listen), log_level="warning", lifespan="on", http="h11",
                            h11_max_incomplete_event_size=MAX_HEAD)
    uvicorn.Server(config).run(sockets=[sock])
