"""Files that appear whole: written under a temporary name beside their place, then renamed into it.

A reader (node_exporter, a warehouse globbing `*.parquet`, a restore) never sees half a file, and a
failed write leaves nothing behind. The temporary name is random and made exclusively: a name known
in advance let whoever can write to the directory plant a symlink there, which afc then wrote through.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


@contextmanager
def temporary_beside(directory: Path, prefix: str, suffix: str) -> Iterator[Path]:
    """A new empty file in `directory` (hidden, `prefix` and `suffix` around a random part) for the block to fill
    and `os.replace` into place; removed when the block ends if it is still there (a failure, an interrupt)."""
    handle, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=directory)
    os.close(handle)
    path = Path(name)
    try:
        yield path
    finally:
        with suppress(OSError):
            path.unlink(missing_ok=True)
