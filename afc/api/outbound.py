"""afc's outgoing HTTP (API calls, notify targets, alert webhooks): one deadline per attempt.

httpx's timeout bounds each socket operation, not a request: a receiver that trickles its status line
and headers one byte at a time, each byte within the timeout, held a caller for hours, and an answer
of any size was read whole into memory. Here every connect, read and write of an attempt (a block in
`deadline`, on a `Client` made by `client()`) gets only the time left before the attempt's deadline, and a
receiver's answer (`post`) is read to at most MAX_ANSWER bytes. Redirects are never followed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

MAX_ANSWER = 64 * 1024
_attempt = threading.local()  # .deadline: time.monotonic() by which this thread's attempt must end


def client(**options: Any) -> httpx.Client:
    """An httpx client whose socket operations end by the deadline of the `post` running them, direct or
    through a proxy from the environment (HTTPS_PROXY, ...)."""
    http = httpx.Client(**options)
    # httpx builds its httpcore pools without a way to pass a network backend: wrap each pool's own
    for transport in [http._transport, *http._mounts.values()]:
        pool = getattr(transport, "_pool", None)
        if pool is not None:
            pool._network_backend = _DeadlineBackend(pool._network_backend)
    return http


def post(http: httpx.Client, url: str, content: bytes, headers: Mapping[str, str], timeout: float) -> int:
    """POST `content` within `timeout` seconds in all (connect to last byte read); the status code.

    Raises httpx.TimeoutException when the time is up, other httpx errors as httpx raises them.
    """
    with deadline(timeout), http.stream("POST", url, content=content, headers=dict(headers), timeout=timeout,
                                         follow_redirects=False) as answer:
        read = 0
        for chunk in answer.iter_bytes():
            read += len(chunk)
            if read >= MAX_ANSWER:
                break
        return answer.status_code


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every socket operation of this thread's requests in the block ends within `seconds` of its start, in all."""
    _attempt.deadline = time.monotonic() + seconds
    try:
        yield
    finally:
        _attempt.deadline = None


def _left(timeout: float | None, late: str) -> float | None:
    """The time an operation may take: its own timeout, cut to what is left of the attempt (past it, httpcore's
    exception named `late`, which httpx maps to its own)."""
    deadline = getattr(_attempt, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        import httpcore  # loaded by then: the stream came from one of its pools

        raise getattr(httpcore, late)("the attempt's time is up")
    return left if timeout is None else min(timeout, left)


# The wrappers speak httpcore's network interfaces (NetworkBackend, NetworkStream) without subclassing them, so
# importing this module does not load httpcore: httpx loads it with a client's first pool, and a process that
# makes no HTTP call (a step given its answers, `afc rebuild`) never does.


class _DeadlineStream:
    def __init__(self, stream: Any):
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _left(timeout, "ReadTimeout"))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _left(timeout, "WriteTimeout"))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> _DeadlineStream:
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname,
                                                      _left(timeout, "ConnectTimeout")))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend:
    def __init__(self, backend: Any):
        self._backend = backend

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> _DeadlineStream:
        return _DeadlineStream(self._backend.connect_tcp(host, port, _left(timeout, "ConnectTimeout"),
                                                         local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> _DeadlineStream:
        return _DeadlineStream(self._backend.connect_unix_socket(path, _left(timeout, "ConnectTimeout"),
                                                                 socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)
