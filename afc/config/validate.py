"""Validate a whole jobs directory: the jobs and every section its owners read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from afc.config.jobs import JobConfig


def section_checks() -> list[Callable[[JobConfig], Any]]:
    """Each section's own validator (imported here so `afc.config.jobs` stays free of its readers)."""
    from afc.config.coverage import coverage_config
    from afc.config.daily import daily_settings
    from afc.config.live import live_config
    from afc.config.notify import notify_config
    from afc.config.ops import alerts_config, ops_config

    return [daily_settings, live_config, coverage_config, ops_config, alerts_config, notify_config]


def validate(config: JobConfig) -> None:
    """Raise the first section error (one line naming file and field); return quietly when all pass."""
    for check in section_checks():
        check(config)
