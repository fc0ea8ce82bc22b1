"""SQLite reads for assistants, run in a worker process that is killed at the deadline.

SQLite's progress handler only runs between VDBE instructions, so one slow built-in call (`instr`,
`replace`, `like` over megabyte strings) outlives any in-process time limit, and
`Connection.interrupt()` does not stop it either. A process can always be killed: each query runs
in a worker (`python -m afc.mcp.readonly_sqlite`), the parent waits until the deadline plus a small
grace, then kills it and starts a fresh one for the next query. The worker also bounds memory:
SQLite's length, column and heap limits refuse huge values inside SQLite, rows are fetched one at
a time and clipped before the next, and the address space is capped (RLIMIT_AS).
"""

from __future__ import annotations

import atexit
import json
import os
import pickle
import re
import select
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from afc.mcp.rows import Collected, Limits, collect

SQLITE_MAX_LENGTH = 16 * 1024 * 1024  # largest string, blob or row SQLite may build for a query
SQLITE_MAX_COLUMNS = 500  # result columns (and columns in any expression list) per statement
SQLITE_HEAP_LIMIT = 160 * 1024 * 1024  # SQLite's own allocations (sorters, temp b-trees, values)
WORKER_MEMORY = 384 * 1024 * 1024  # the worker's whole address space (RLIMIT_AS)
GRACE_SECONDS = 0.5  # how long past the deadline the worker may take to answer before it is killed
TIME_LIMIT = "query stopped at the time limit ({:g} s); narrow it with WHERE or LIMIT"

_SQLITE_ALLOWED = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
                   sqlite3.SQLITE_RECURSIVE}
_SQLITE_PRAGMAS = {"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo",
                   "foreign_key_list"}
_SQLITE_FUNCTIONS_DENIED = {"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer",
                            "sqlite_dbpage", "zipfile", "sqlar_compress", "sqlar_uncompress"}
_LAYER_NAME = re.compile(r"no such table: (raw|core|mart|ops)\.(\w+)")


# --- inside the worker ----------------------------------------------------------------------


def _authorize(action: int, arg1: str | None, arg2: str | None, db_name: str | None,
               _trigger: str | None) -> int:
    """Allow reads of the database and harmless functions; deny everything else."""
    # json_each/json_tree and pragma_* table-valued functions declare their virtual table, which
    # SQLite authorizes as an UPDATE of main.sqlite_master: harmless on a mode=ro file, and any
    # real UPDATE of sqlite_master also needs PRAGMA writable_schema (denied).
    if action == sqlite3.SQLITE_FUNCTION:
        return sqlite3.SQLITE_DENY if (arg2 or "").lower() in _SQLITE_FUNCTIONS_DENIED else sqlite3.SQLITE_OK
    if action in _SQLITE_ALLOWED:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in _SQLITE_PRAGMAS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master" and db_name == "main":
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def sqlite_connect(path: str, limits: Limits) -> sqlite3.Connection:
    """A read-only SQLite connection with the authorizer and the size limits armed."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=limits.seconds)
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, SQLITE_MAX_LENGTH)
    conn.setlimit(sqlite3.SQLITE_LIMIT_COLUMN, SQLITE_MAX_COLUMNS)
    conn.execute("PRAGMA query_only = ON")
    conn.execute(f"PRAGMA hard_heap_limit = {SQLITE_HEAP_LIMIT}")  # a constant, not a value
    conn.set_authorizer(_authorize)
    return conn


def read(path: str, sql: str, params: Any, limits: Limits) -> tuple[list[str], Collected]:
    """Run one read-only statement on the file at `path`, collecting rows one at a time."""
    deadline = time.monotonic() + limits.seconds
    conn = sqlite_connect(path, limits)
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 2_000)
    try:
        cur = conn.execute(sql, params or ())
        columns = [d[0] for d in cur.description or ()]
        return columns, collect(cur.fetchmany, limits, deadline, batch=1)
    finally:
        conn.close()


def error_text(exc: BaseException, limits: Limits) -> str:
    """The one-line answer for an error the worker met."""
    text = str(exc)
    if isinstance(exc, MemoryError) or text in ("out of memory", "string or blob too big"):
        return (f"sqlite: {text or 'out of memory'}: the query builds values or rows too large for the "
                f"read-only worker (values up to {SQLITE_MAX_LENGTH // 2**20} MiB, "
                f"{WORKER_MEMORY // 2**20} MiB in all); select fewer or shorter columns")
    if text == "interrupted":
        return "sqlite: " + TIME_LIMIT.format(limits.seconds)
    if "not authorized" in text or "authorization denied" in text:
        return f"sqlite: {text}: only reads are allowed (one SELECT, WITH … SELECT or VALUES)"
    if "one statement at a time" in text:
        return "sqlite: send exactly one statement (no ';' followed by more SQL)"
    if text.startswith("too many columns"):
        return f"sqlite: {text}; at most {SQLITE_MAX_COLUMNS} columns per statement"
    hint = _LAYER_NAME.search(text)
    if hint:
        return f"sqlite: {text}; on SQLite the table is named {hint[1]}_{hint[2]}"
    return f"sqlite: {text}"


def _serve() -> None:
    """The worker's loop: one pickled request in on stdin, one JSON line out on stdout."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, WORKER_MEMORY))
    requests, answers = sys.stdin.buffer, sys.stdout
    while True:
        try:
            path, sql, params, limits = pickle.load(requests)  # from the parent only: trusted
        except EOFError:
            return
        # a backstop should the server die mid-query: the kernel ends a worker past its CPU budget
        used = resource.getrusage(resource.RUSAGE_SELF)
        cpu = int(used.ru_utime + used.ru_stime + limits.seconds) + 2
        hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
        resource.setrlimit(resource.RLIMIT_CPU, (cpu if hard == resource.RLIM_INFINITY else min(cpu, hard), hard))
        answers.write(_answer(path, sql, params, limits) + "\n")
        answers.flush()


def _answer(path: str, sql: str, params: Any, limits: Limits) -> str:
    try:
        columns, got = read(path, sql, params, limits)
        return json.dumps({"columns": columns, "rows": got.rows, "stopped": got.stopped,
                           "clipped": got.clipped}, ensure_ascii=False)
    except (sqlite3.Error, OverflowError, ValueError, MemoryError) as exc:
        return json.dumps({"error": error_text(exc, limits)}, ensure_ascii=False)


# --- in the server --------------------------------------------------------------------------


class WorkerFailed(Exception):
    """The worker died, was killed at the deadline, or answered nonsense."""


class Worker:
    """One worker process; `ask` sends a query and waits for its answer until the deadline."""

    def __init__(self) -> None:
        package_root = str(Path(__file__).resolve().parent.parent)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": package_root,
               "LANG": "C.UTF-8"}  # nothing else: the worker needs no secret
        self.proc = subprocess.Popen([sys.executable, "-m", "afc.mcp.readonly_sqlite"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd="/")

    def ask(self, path: str, sql: str, params: Any, limits: Limits, max_bytes: int) -> dict[str, Any]:
        """Send one query; its answer as a dict, or WorkerFailed (the worker is then dead)."""
        deadline = time.monotonic() + limits.seconds + GRACE_SECONDS
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(pickle.dumps((path, sql, params, limits)))
            self.proc.stdin.flush()
            line = self._read_line(deadline, max_bytes)
            return json.loads(line)
        except (OSError, ValueError, WorkerFailed):
            self.kill()
            raise WorkerFailed() from None

    def _read_line(self, deadline: float, max_bytes: int) -> bytes:
        assert self.proc.stdout is not None
        fd, chunks, size = self.proc.stdout.fileno(), [], 0
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise WorkerFailed()
            chunk = os.read(fd, 1 << 16)
            if not chunk or size + len(chunk) > max_bytes:
                raise WorkerFailed()
            chunks.append(chunk)
            size += len(chunk)
            if chunk.endswith(b"\n"):
                return b"".join(chunks)

    def kill(self) -> None:
        """End the worker now and reap it."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


_idle: list[Worker] = []
_idle_lock = threading.Lock()
atexit.register(lambda: stop_workers())


def run_in_worker(path: str, sql: str, params: Any, limits: Limits) -> dict[str, Any]:
    """Run one query in an idle worker (or a new one); a timed-out worker is killed, not reused."""
    with _idle_lock:
        worker = _idle.pop() if _idle else None
    if worker is None or worker.proc.poll() is not None:
        worker = Worker()
    started = time.monotonic()
    try:
        # the answer holds at most limits.bytes of rows (plus JSON punctuation per value)
        answer = worker.ask(path, sql, params, limits, 2 * limits.bytes + (1 << 20))
    except WorkerFailed:
        late = time.monotonic() - started >= limits.seconds
        return {"error": "sqlite: " + (TIME_LIMIT.format(limits.seconds) if late else
                                       "the read-only worker stopped (out of memory?); select less")}
    with _idle_lock:
        _idle.append(worker)
    return answer


def stop_workers() -> None:
    """End the idle workers (at exit; busy ones end with their query or when stdin closes)."""
    with _idle_lock:
        workers, _idle[:] = list(_idle), []
    for worker in workers:
        worker.kill()


if __name__ == "__main__":
    _serve()
