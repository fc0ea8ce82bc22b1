"""HTTP/1.1 on the wire: h11's state machine between a connection's socket and the sandbox.

h11 (it comes with httpx) does the protocol: keep-alive and HTTP/1.0, `Connection: close`,
request bodies (read and dropped), pipelined requests answered one at a time, and malformed
input refused with the status it suggests (400, or 431 for an oversized head). This module only
moves bytes and writes each reply, headers and body, in one `sendall` (no Nagle delay between them).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus

import h11

READ_SIZE = 65_536
MAX_HEAD = 65_536  # request line and headers together (h11's default, 16 KiB, is below the old line limit)
REASONS = {499: "Client Closed Request"}


class BadRequest(Exception):
    """The bytes received are not an HTTP/1.x request; `status` is the answer to give (400, 431)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


@dataclass
class Request:
    """One request: method, target (path and query), headers with lower-case names."""

    method: str
    target: str
    headers: dict[str, str]


def _reason(status: int) -> bytes:
    text = REASONS.get(status) or HTTPStatus(status).phrase
    return text.encode("latin-1")


class Wire:
    """One connection: read its requests one by one, answer each before reading the next."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        self.head_only = False  # the request being answered is a HEAD: announce the body, do not send it

    def _event(self) -> object:
        """The next h11 event (a Request, Data, EndOfMessage, ConnectionClosed), reading as needed."""
        while (event := self.conn.next_event()) is h11.NEED_DATA:
            self.conn.receive_data(self.sock.recv(READ_SIZE))  # b"" when the client closed: h11 sees EOF
        return event

    def next_request(self) -> Request | None:
        """The next request (its body read and dropped), or None when the client has closed the connection."""
        try:
            event = self._event()
            if not isinstance(event, h11.Request):  # ConnectionClosed: the client is done
                return None
            while not isinstance(self._event(), h11.EndOfMessage):
                pass  # no endpoint takes a body; reading it keeps the connection usable
        except h11.RemoteProtocolError as exc:
            raise BadRequest(str(exc), exc.error_status_hint) from exc
        self.head_only = event.method == b"HEAD"
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in event.headers}
        return Request(event.method.decode("ascii"), event.target.decode("latin-1"), headers)

    def _send(self, *events: h11.Event) -> None:
        self.sock.sendall(b"".join(self.conn.send(event) or b"" for event in events))

    def reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> bool:
        """Send the answer to the current request; whether the connection stays open for another."""
        fields = [("Date", formatdate(usegmt=True)), ("Content-Length", str(len(body))), *headers]
        response = h11.Response(status_code=status, headers=fields, reason=_reason(status))
        if body and not self.head_only:
            self._send(response, h11.Data(data=body), h11.EndOfMessage())
        else:
            self._send(response, h11.EndOfMessage())
        if self.conn.our_state is not h11.DONE or self.conn.their_state is not h11.DONE:
            return False  # HTTP/1.0 or `Connection: close`: h11 has decided to close
        self.conn.start_next_cycle()
        return True

    def refuse(self, status: int) -> None:
        """Answer a request h11 could not parse and give up on the connection (its bytes cannot be trusted)."""
        if self.conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return  # a reply was already under way: closing is all that is left
        body = HTTPStatus(status).phrase.lower().encode()
        fields = [("Content-Type", "text/plain"), ("Content-Length", str(len(body))), ("Connection", "close")]
        self._send(h11.Response(status_code=status, headers=fields, reason=_reason(status)), h11.Data(data=body),
                   h11.EndOfMessage())
