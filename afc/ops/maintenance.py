"""The maintenance group's tasks as the CLI runs them: locked, recorded in ops.job_runs, measured."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from afc.collect import runs
from afc.collect.collector import Collector
from afc.config.ops import ops_config
from afc.config.settings import Settings
from afc.db import connect
from afc.ops import backup as backups
from afc.ops import retention
from afc.ops.groups import LOCK_GROUPS
from afc.ops.guard import job_group, tracked
from afc.ops.lock import hold_all


def prune(collector: Collector, older_than: timedelta | None, dry_run: bool = False) -> retention.PruneResult:
    """Prune raw responses (default age: the ops section's `raw_retention_days`)."""
    age = older_than or timedelta(days=ops_config(collector.config).raw_retention_days)
    if dry_run:
        return retention.prune(collector.db, age, collector.now(), dry_run=True)
    with job_group(collector, "maintenance") as run, tracked(collector, run, "maintenance_prune", "prune"):
        return retention.prune(collector.db, age, collector.now())


def backup_dir(collector: Collector) -> Path:
    """Where backups go: the ops section's `backup_dir`, else `<data dir>/backups`."""
    return ops_config(collector.config).backup_dir or collector.settings.data_dir / "backups"


def backup(collector: Collector, directory: Path | None = None, keep: int | None = None) -> backups.BackupResult:
    """Write a backup and keep the newest `keep` (default: the ops section's `backup_keep`)."""
    conf = ops_config(collector.config)
    with job_group(collector, "maintenance") as run, tracked(collector, run, "maintenance_backup", "backup"):
        return backups.backup(collector.db, directory or backup_dir(collector), collector.now(),
                              keep or conf.backup_keep)


def restore(settings: Settings, source: Path, now: datetime) -> str:
    """Replace the database with a backup while holding every group's lock; returns the database URL."""
    with hold_all(settings.data_dir, settings.db_url, LOCK_GROUPS):
        db = connect(settings.db_url)
        try:
            backups.restore(db, source)
            with db.transaction():  # runs caught mid-way by the backup (the backup's own, at least)
                runs.mark_restored(db, now)
            return db.url
        finally:
            db.close()
