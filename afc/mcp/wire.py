"""What a client can make the MCP server hold: at most MAX_MESSAGE bytes per message, on stdio and over HTTP.

The SDK's stdio transport reads a line whole however long it is (`afc mcp stdio < /dev/zero` grew by
hundreds of MB a second until the machine ran out). afc reads stdin in lines of at most MAX_MESSAGE
bytes instead: a longer line is refused with one log line (and a JSON-RPC error when its request id
can be read), the rest of it is skipped unread into memory, and the next line is served as usual.
Over HTTP the SDK refuses a body past MAX_MESSAGE with 413, and uvicorn's h11 parser refuses a
request line and headers past MAX_HEAD.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import BinaryIO

import anyio
from mcp.shared.message import SessionMessage
from mcp.types import INVALID_REQUEST, ErrorData, JSONRPCError

log = logging.getLogger("afc.mcp")
MAX_MESSAGE = 4 * 1024 * 1024  # a tool call is SQL or a few arguments; 4 MiB is also the SDK's HTTP default
MAX_HEAD = 16 * 1024  # an HTTP request line and its headers (a bearer token and a client's usual few)
_SKIP = 64 * 1024
_OPENING = re.compile(rb"\s*\{")
_SCALAR_MEMBER = re.compile(rb'\s*"(\w+)"\s*:\s*(-?\d+|"[^"\\]{0,200}")\s*,')


class CappedLines:
    """stdin as the SDK's stdio transport iterates it (`async for line in stdin`), no line past `cap` bytes."""

    def __init__(self, source: BinaryIO, cap: int = MAX_MESSAGE):
        self.source, self.cap = source, cap
        self.answer: Callable[[SessionMessage], Awaitable[None]] | None = None  # the transport's write side

    def __aiter__(self) -> CappedLines:
        return self

    async def __anext__(self) -> str:
        while True:
            line = await anyio.to_thread.run_sync(self.source.readline, self.cap + 1)
            if not line:
                raise StopAsyncIteration
            if len(line) <= self.cap or line.endswith(b"\n"):
                return line.decode("utf-8", errors="replace")
            await self._refuse(request_id(line))
            await anyio.to_thread.run_sync(self._skip_line)

    async def _refuse(self, request: int | str | None) -> None:
        which = "" if request is None else f" (request id {request!r})"
        log.warning("mcp stdio: refused a message longer than %d bytes%s; reading on at the next line",
                    self.cap, which)
        if request is not None and self.answer is not None:
            error = ErrorData(code=INVALID_REQUEST, message=f"message longer than {self.cap} bytes: afc's MCP "
                              "server reads at most 4 MiB per message; send less SQL or fewer arguments")
            await self.answer(SessionMessage(JSONRPCError(jsonrpc="2.0", id=request, error=error)))

    def _skip_line(self) -> None:
        """Read past the rest of the line a piece at a time (from /dev/zero that is forever, in constant memory)."""
        while (piece := self.source.readline(_SKIP)) and not piece.endswith(b"\n"):
            pass


def request_id(head: bytes) -> int | str | None:
    """The id of a JSON-RPC message cut off at the cap, when it comes before any nested value (as the SDKs write
    `{"jsonrpc":"2.0","id":7,"method":…,"params":…}`); only members of the outer object are read, never one
    nested in params."""
    opening = _OPENING.match(head)
    at = opening.end() if opening else None
    while at is not None and (member := _SCALAR_MEMBER.match(head, at)):
        if member[1] == b"id":
            found: int | str = json.loads(member[2])
            return found
        at = member.end()
    return None
