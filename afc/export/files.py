"""Export files: a directory proven writable, and each file written under a temporary name, then renamed.

A reader globbing `*.parquet` never sees half a file: the rows go to `.<stamp>.<pid>.<random>.<format>.tmp`
(made exclusively) in the table's folder, which is renamed to `<stamp>.<format>` only once it is whole; a
failure removes it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from afc.db import as_datetime
from afc.db.catalog import Column
from afc.errors import AfcError, ConfigError
from afc.export import formats
from afc.ops.whole import temporary_beside

BATCH = 2000  # rows per read and per Parquet row group: detail rows carry ~40 kB of JSON each
LOCK_NAME = ".afc-export.lock"


def writable_directory(out: Path) -> Path:
    """`out` made if missing and proven writable, as its canonical path (the watermarks' key); one line if not."""
    directory = out.expanduser()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        directory = directory.resolve()
        with temporary_beside(directory, ".afc-probe-", ""):
            pass
    except OSError as exc:
        raise ConfigError(f"export: --out {out}: cannot write there ({exc.strerror or exc})") from None
    return directory


def write_file(rows: Iterator[tuple[Any, ...]], columns: Sequence[Column], mark: str | None, fmt: str,
               folder: Path, started: datetime) -> tuple[int, datetime | None, Path | None]:
    """Rows into a new file in `folder`, written under a temporary name and renamed when whole.

    Returns the row count, the newest watermark value seen and the file (None, and no file, for no rows).
    """
    batches = _batches(rows)
    first = next(batches, None)
    if first is None:
        return 0, None, None
    _make_folder(folder)
    stamp = f"{started:%Y%m%dT%H%M%SZ}"
    try:
        with temporary_beside(folder, f".{stamp}.{os.getpid()}.", f".{fmt}.tmp") as temporary:
            sink = formats.open_sink(fmt, temporary, columns)
            count, newest = _fill(sink, itertools.chain([first], batches), columns, mark)
            final = _free_name(folder, stamp, fmt)  # the format is the extension
            os.replace(temporary, final)
    except OSError as exc:
        raise AfcError(f"export: cannot write {exc.filename or folder}: {exc.strerror or exc}") from None
    return count, newest, final


def _fill(sink: formats.Sink, batches: Iterator[list[tuple[Any, ...]]], columns: Sequence[Column],
          mark: str | None) -> tuple[int, datetime | None]:
    """Every batch into `sink`, then closed (after a failure too, whose error is the one to report); the row count
    and the newest watermark value seen."""
    normalise = formats.normalisers(columns)
    at = next((i for i, c in enumerate(columns) if c.name == mark), None)
    count, newest = 0, None
    try:
        for batch in batches:
            values = [[f(v) for f, v in zip(normalise, row, strict=True)] for row in batch]
            sink.write(values)
            count += len(values)
            if at is not None:
                newest = max(filter(None, [newest, *(as_datetime(row[at]) for row in values)]), default=None)
    except BaseException:
        with contextlib.suppress(Exception):
            sink.close()
        raise
    sink.close()
    return count, newest


def _batches(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _make_folder(folder: Path) -> None:
    """The table's folder, or one line naming it (a file of that name, no permission)."""
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise AfcError(f"export: cannot make the folder {folder}: {exc.strerror or exc}") from None


def _free_name(folder: Path, stamp: str, extension: str) -> Path:
    """`stamp.ext`, or `stamp-2.ext`, ... when a run in the same second already wrote one."""
    path, n = folder / f"{stamp}.{extension}", 1
    while path.exists():
        n += 1
        path = folder / f"{stamp}-{n}.{extension}"
    return path
