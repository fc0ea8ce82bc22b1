"""Job groups and their timers: what systemd and cron run, when, and which job runs they leave.

One lock per group. Bootstrap gets a timer per distinct job schedule (monthly and weekly jobs
differ); the other groups run one command on one schedule: the `ops:` section's, else the built-in
default (`afc.config.ops.DEFAULT_SCHEDULES`); `off` renders no timer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from afc.config.jobs import Job, JobConfig
from afc.config.ops import OpsConfig, group_schedules, ops_config
from afc.config.schedule import Schedule, checked
from afc.errors import ConfigError

# group -> (the afc commands its service runs, TimeoutStartSec). The backfill timer plans coverage's
# gaps before it resumes: due re-checks of empty answers and stale lists (player statistics after a
# week) are asked again on the day's leftover quota; nothing else would ever ask for them.
COMMANDS: dict[str, tuple[tuple[tuple[str, ...], ...], str]] = {
    "daily": ((("daily",),), "45min"),
    "backfill": ((("backfill", "--from-gaps", "--resume", "--yes"),), "2h"),
    "coverage": ((("coverage", "report"),), "15min"),
    "maintenance": ((("prune",), ("backup",)), "2h"),
}
BOOTSTRAP_TIMEOUT = "30min"
# job_runs.job_id values the maintenance commands record (health checks them for staleness)
MAINTENANCE_JOBS = ("maintenance_prune", "maintenance_backup")
LOCK_GROUPS = ("bootstrap", "daily", "backfill", "coverage", "maintenance", "live", "export")


@dataclass(frozen=True)
class Timer:
    """One scheduled unit: its name, lock group, schedule, commands and the jobs it runs."""

    name: str  # afc-<name>.service / .timer
    group: str
    schedule: Schedule
    commands: tuple[tuple[str, ...], ...]
    job_ids: tuple[str, ...]
    timeout: str


def _slug(text: str, index: int) -> str:
    return text if re.fullmatch(r"[a-z]+", text) else str(index)


def _bootstrap(config: JobConfig, ops: OpsConfig) -> list[Timer]:
    if ops.schedules.get("bootstrap") == "off":
        return []
    jobs = [j for j in config.of_type("bootstrap") if j.schedule or "bootstrap" in ops.schedules]
    if "bootstrap" in ops.schedules:
        schedule = _schedule(config, ops, ops.schedules["bootstrap"], "ops.schedules.bootstrap")
        return [Timer("bootstrap", "bootstrap", schedule, (("bootstrap", "all"),),
                      tuple(j.job_id for j in jobs), BOOTSTRAP_TIMEOUT)]
    by_schedule: dict[str, list[Job]] = {}
    for job in jobs:
        by_schedule.setdefault(str(job.schedule), []).append(job)
    timers = []
    for index, (text, group) in enumerate(by_schedule.items(), start=1):
        where = f"job {group[0].job_id}: schedule"
        schedule = _schedule(config, ops, text, where, config.sources[group[0].job_id])
        timers.append(Timer(f"bootstrap-{_slug(text, index)}", "bootstrap", schedule,
                            tuple(("bootstrap", j.job_id) for j in group), tuple(j.job_id for j in group),
                            BOOTSTRAP_TIMEOUT))
    return timers


def _schedule(config: JobConfig, ops: OpsConfig, text: str, what: str, file: str | None = None) -> Schedule:
    return checked(text, ops.random_delay_seconds, f"{file or config.section_file('ops')}: {what}")


def _group(config: JobConfig, ops: OpsConfig, group: str) -> Timer | None:
    commands, timeout = COMMANDS[group]
    text = group_schedules(ops).get(group)
    if text is None:
        return None
    jobs = config.of_type(group) if group in ("daily", "backfill") else []
    job_ids = MAINTENANCE_JOBS if group == "maintenance" else tuple(j.job_id for j in jobs)
    schedule = _schedule(config, ops, text, f"ops.schedules.{group}")
    return Timer(group, group, schedule, commands, job_ids, timeout)


def timers(config: JobConfig) -> list[Timer]:
    """Every scheduled unit the jobs directory asks for, in a stable order."""
    ops = ops_config(config)
    found = _bootstrap(config, ops)
    for group in COMMANDS:
        timer = _group(config, ops, group)
        if timer is not None:
            found.append(timer)
    names = [t.name for t in found]
    if len(names) != len(set(names)):
        raise ConfigError(f"{config.directory}: two timers would both be named {names}")
    return found
