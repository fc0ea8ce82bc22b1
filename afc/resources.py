"""Where the shipped SQL and default job files live: inside the wheel, or at the top of a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped_dir(name: str) -> Path:
    """`afc/_shipped/<name>` in an installed wheel, else `<checkout>/<name>` (editable installs and tests)."""
    inside = _PACKAGE / "_shipped" / name  # not `afc/<name>`: `afc/jobs` is the jobs layer's package
    return inside if inside.is_dir() else _PACKAGE.parent / name


def sql_dir(backend: str) -> Path:
    """The numbered DDL files for one backend."""
    return shipped_dir("sql") / backend


def default_jobs_dir() -> Path:
    """The job files afc ships with."""
    return shipped_dir("jobs")
