"""One run per job group at a time: a file lock on this host, an advisory lock across hosts.

The file lock (`fcntl.flock` on `<data dir>/locks/<group>.lock`) stops a manual run from colliding
with a timer run; with PostgreSQL a session advisory lock held on a dedicated connection stops two
hosts running the same group. The kernel and the server release both when the process dies; the server
also frees the advisory lock when only its session ends (a restart, a terminated backend), which the
holder notices before its next unit of work (`Lease`).
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import select
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from afc.errors import ConfigError, DatabaseUnavailable, LockHeld, LockLost

T = TypeVar("T")

if TYPE_CHECKING:
    import psycopg

_GROUP = re.compile(r"^[a-z][a-z0-9_-]*$")
PG_TRY = "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))"
PG_UNLOCK = "SELECT pg_advisory_unlock(hashtextextended(%s, 0))"
CONFIRM_EVERY = 1.0  # seconds between round trips confirming a lock's session (a silent server restart)


def lock_path(data_dir: Path, group: str) -> Path:
    """The lock file of `group`."""
    if not _GROUP.match(group):
        raise ConfigError(f"lock: group names are lowercase words, got {group!r}")
    return data_dir / "locks" / f"{group}.lock"


@contextmanager
def file_lock(path: Path, group: str) -> Iterator[None]:
    """Hold an exclusive flock on `path`; LockHeld at once if another process has it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)  # never through a symlink
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create the lock file ({exc.strerror}); check AFC_DATA_DIR") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise LockHeld(f"{group}: another afc run (pid {holder}) holds {path}; nothing done") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock


@contextmanager
def advisory_lock(url: str, group: str) -> Iterator[None]:
    """Hold a PostgreSQL session advisory lock for `group` on a connection of its own, confirmed before each unit of
    work on every connection of this thread (`Lease.confirm`)."""
    from afc.db.postgres import before_work

    lease = Lease(url, group)
    token = before_work.set((*before_work.get(), lease.confirm))
    try:
        yield
    finally:
        before_work.reset(token)
        lease.release()


class Lease:
    """A session advisory lock and the session holding it. The server frees such a lock with its session (a
    restart, `pg_terminate_backend`, a dropped connection) without telling afc, whose other connections reconnect
    and write on while a second run may have taken the lock: so before each unit of work the session is confirmed
    (its socket has nothing to say, at least once a second a round trip), and when it has ended the lock is taken
    again on a new one, or LockLost if another run holds it now."""

    def __init__(self, url: str, group: str):
        self.url, self.group, self.key = url, group, f"afc:group:{group}"
        self.conn = self._take()
        self.confirmed = time.monotonic()

    def _take(self) -> psycopg.Connection[Any]:
        import psycopg

        from afc.db import redact_url
        from afc.db.postgres import _connect, _last_line

        # afc's one way to connect: a missing database or a refused login is a configuration error here too
        conn = _connect(self.url, read_only=False, name=f"afc-lock-{self.group}")
        try:
            row = conn.execute(PG_TRY, (self.key,)).fetchone()
        except psycopg.Error as exc:
            conn.close()
            raise DatabaseUnavailable(f"postgresql: cannot take the {self.group} lock in {redact_url(self.url)}: "
                                      f"{_last_line(exc)}") from None
        if not row or not row[0]:
            conn.close()
            raise LockHeld(f"{self.group}: another afc run holds this group's lock in {redact_url(self.url)}; "
                           "nothing done")
        return conn

    def confirm(self) -> None:
        """Before a unit of work: the session that took the lock still has it; else it is taken again (one warning),
        or LockLost, or DatabaseUnavailable while the server cannot be reached (the lock is not held then)."""
        if self._alive():
            return
        with suppress(Exception):
            self.conn.close()
        try:
            self.conn = self._take()
        except LockHeld:
            raise LockLost(f"{self.group}: lost this group's lock (its PostgreSQL session ended) and another afc "
                           "run holds it now; stopping without writing more") from None
        self.confirmed = time.monotonic()
        logging.getLogger("afc.lock").warning("%s: the lock's PostgreSQL session ended (a restart or a terminated "
                                              "backend); took the lock again before writing on", self.group)

    def _alive(self) -> bool:
        import psycopg

        if self.conn.closed:
            return False
        poller = select.poll()  # not select(): it fails on descriptors past 1023
        poller.register(self.conn.fileno(), select.POLLIN)
        readable = poller.poll(0)  # a FATAL or the end of the session
        if not readable and time.monotonic() - self.confirmed < CONFIRM_EVERY:
            return True
        try:
            self.conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        self.confirmed = time.monotonic()
        return True

    def release(self) -> None:
        """Release the lock before the connection closes. Closing alone frees it only once the server's backend
        process has exited, which happens after close() returns: the next run, even in this process, could find
        the lock still held."""
        import psycopg

        with self.conn, suppress(psycopg.Error):  # the connection is lost: the server frees the lock with the session
            self.conn.execute(PG_UNLOCK, (self.key,))


@contextmanager
def hold(data_dir: Path, db_url: str, group: str) -> Iterator[None]:
    """Hold `group`'s lock on this host and, with PostgreSQL, across hosts; LockHeld otherwise."""
    with ExitStack() as stack:
        stack.enter_context(file_lock(lock_path(data_dir, group), group))
        if db_url.startswith(("postgresql:", "postgres:")):
            stack.enter_context(advisory_lock(db_url, group))
        yield


def when_reachable(name: str, attempt: Callable[[], T], stop: threading.Event | None = None,
                   waiting: Callable[[float, str], object] | None = None) -> T | None:
    """`attempt()`, again after 1, 2, 4 … 30 s while the database cannot be reached yet (a warning naming the
    service, and `waiting(delay, why)`, before each wait); None if `stop` was set first. A service started before
    its PostgreSQL (a reboot, another host) exited 1 at once, and systemd's start limit gave up on it after five
    tries in a minute."""
    delay = 1.0
    while stop is None or not stop.is_set():
        try:
            return attempt()
        except DatabaseUnavailable as exc:
            if waiting is not None:
                waiting(delay, str(exc))
            logging.getLogger(f"afc.{name}").warning("%s: %s; retrying in %.0f s", name, exc, delay)
            if stop is None:
                time.sleep(delay)  # SIGTERM ends it (raised as Terminated)
            else:
                stop.wait(delay)
            delay = min(delay * 2, 30.0)
    return None


@contextmanager
def hold_waiting(data_dir: Path, db_url: str, group: str, stop: threading.Event,
                 waiting: Callable[[float, str], object]) -> Iterator[bool]:
    """`hold`, waiting out a database that cannot be reached yet (`when_reachable`); yields False if `stop` was set
    first."""
    with ExitStack() as stack:
        yield when_reachable(group, lambda: stack.enter_context(hold(data_dir, db_url, group)) or True, stop,
                             waiting) is not None


@contextmanager
def hold_all(data_dir: Path, db_url: str, groups: tuple[str, ...]) -> Iterator[None]:
    """Hold every group's lock (a restore must not run under a job)."""
    with ExitStack() as stack:
        for group in groups:
            stack.enter_context(hold(data_dir, db_url, group))
        yield
