"""`afc bootstrap`: static reference data, dependencies first."""

from __future__ import annotations

from afc.collect.collector import Collector
from afc.config.jobs import Job
from afc.errors import ConfigError
from afc.jobs.run import JobReport, run_jobs, with_dependencies

TARGETS = ("timezone", "countries", "leagues", "teams", "venues")


def select(collector: Collector, target: str) -> list[Job]:
    """The bootstrap jobs for `target` (`all`, or one of TARGETS / any bootstrap job's suffix)."""
    jobs = collector.config.of_type("bootstrap")
    if target == "all":
        return jobs
    chosen = [j for j in jobs if j.job_id in (target, f"bootstrap_{target}")]
    if not chosen:
        names = sorted({j.job_id.removeprefix("bootstrap_") for j in jobs} | {"all"})
        raise ConfigError(f"bootstrap: unknown target {target!r}; choose one of {', '.join(names)}")
    return with_dependencies(collector, chosen)


def bootstrap(collector: Collector, target: str) -> list[JobReport]:
    """Run the bootstrap jobs for `target` and report each."""
    return run_jobs(collector, select(collector, target), f"bootstrap {target}")
