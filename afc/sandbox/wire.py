"""HTTP/1.1 on the wire, just enough for the sandbox: read a request, write a reply in one piece.

The standard library's `BaseHTTPRequestHandler` parses headers through the email package, which
costs more than answering a small endpoint; this reader keeps keep-alive clients fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from typing import BinaryIO

MAX_LINE = 65_536
MAX_HEADERS = 100
REASONS = {499: "Client Closed Request"}


class BadRequest(Exception):
    """The bytes received are not an HTTP/1.x request."""


@dataclass
class Request:
    """One request: method, target (path and query), lower-cased headers, whether to keep the connection."""

    method: str
    target: str
    headers: dict[str, str]
    keep_alive: bool


def _line(rfile: BinaryIO) -> bytes:
    line = rfile.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise BadRequest("line too long")
    return line


def read_request(rfile: BinaryIO) -> Request | None:
    """The next request on the connection, or None when the client has closed it."""
    line = _line(rfile)
    while line in (b"\r\n", b"\n"):  # tolerate stray blank lines between requests
        line = _line(rfile)
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest(f"bad request line {line[:80]!r}")
    headers: dict[str, str] = {}
    while (header := _line(rfile)) not in (b"\r\n", b"\n", b""):
        name, _, value = header.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
        if len(headers) > MAX_HEADERS:
            raise BadRequest("too many headers")
    length = headers.get("content-length", "0")
    if not length.isdigit():
        raise BadRequest("bad content-length")
    if int(length):
        rfile.read(int(length))
    connection = headers.get("connection", "").lower()
    keep = connection != "close" if parts[2] == "HTTP/1.1" else connection == "keep-alive"
    keep = keep and "transfer-encoding" not in headers  # a chunked body is not read: do not reuse the connection
    return Request(parts[0], parts[1], headers, keep)


def encode_reply(status: int, headers: list[tuple[str, str]], body: bytes, close: bool,
                 length: int | None = None) -> bytes:
    """Status line, headers and body as one buffer (one write, no Nagle delay between them).

    `length` overrides Content-Length for a HEAD reply, which announces a body it does not send.
    """
    reason = REASONS.get(status) or HTTPStatus(status).phrase
    size = len(body) if length is None else length
    lines = [f"HTTP/1.1 {status} {reason}", f"Date: {formatdate(usegmt=True)}", f"Content-Length: {size}"]
    lines += [f"{name}: {value}" for name, value in headers]
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
