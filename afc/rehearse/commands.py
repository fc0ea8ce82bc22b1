"""The afc commands the rendered units run, as one invocation each: fresh collector, its group's lock.

Each function does what the CLI command does between parsing and rendering (afc/cli/*), through the
same library calls, and returns the exit code the command would end with: 0, 1, or 75 (nothing done:
quota spent or the group's lock held). AfcErrors map to their own exit codes in `invoke`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from afc.clock import Clock
from afc.collect.collector import Collector
from afc.config.settings import Settings
from afc.errors import EXIT_FAILURE, EXIT_NOTHING_DONE, EXIT_OK, AfcError, ConfigError


def _by_status(status: str) -> int:
    return EXIT_FAILURE if status == "failed" else EXIT_NOTHING_DONE if status == "quota" else EXIT_OK


def daily(collector: Collector, args: tuple[str, ...]) -> int:
    """`afc daily`."""
    from afc.jobs.daily import daily as run
    from afc.jobs.run import exit_status
    from afc.ops.guard import job_group

    with job_group(collector, "daily") as group:
        reports = group.record(run(collector))
    return _by_status(exit_status(reports))


def bootstrap(collector: Collector, args: tuple[str, ...]) -> int:
    """`afc bootstrap [target]`."""
    from afc.jobs.bootstrap import bootstrap as run
    from afc.jobs.run import exit_status
    from afc.ops.guard import job_group

    with job_group(collector, "bootstrap") as group:
        reports = group.record(run(collector, args[0] if args else "all"))
    return _by_status(exit_status(reports))


def backfill(collector: Collector, args: tuple[str, ...]) -> int:
    """`afc backfill --resume` (the timer) or `afc backfill --from-gaps --yes` (the install step)."""
    from afc import backfill as lib

    request = lib.prepare(collector, [], [], None, resume="--resume" in args, from_gaps="--from-gaps" in args,
                          priority="LOW")
    report = lib.execute(collector, request, priority="LOW")
    return _by_status(report.status)


def coverage(collector: Collector, args: tuple[str, ...]) -> int:
    """`afc coverage report` (exit 1 when anything is critical)."""
    from afc.coverage import coverage_config, select
    from afc.marts.coverage import report as compute_report
    from afc.ops.guard import job_group, tracked

    coverage_config(collector.config)
    select(collector.config, collector.db, collector.now())
    with job_group(collector, "coverage") as run, tracked(collector, run, "coverage_report", "coverage report"):
        result = compute_report(collector.db, collector.config, collector.now())
    return EXIT_FAILURE if result.critical else EXIT_OK


def prune(collector: Collector, args: tuple[str, ...]) -> int:
    """`afc prune`."""
    from afc.ops.maintenance import prune as run

    run(collector, None, False)
    return EXIT_OK


def backup(collector: Collector, args: tuple[str, ...]) -> int:
    """`afc backup`."""
    from afc.ops.maintenance import backup as run

    run(collector, None, None)
    return EXIT_OK


COMMANDS: dict[str, Callable[[Collector, tuple[str, ...]], int]] = {
    "daily": daily, "bootstrap": bootstrap, "backfill": backfill, "coverage": coverage, "prune": prune,
    "backup": backup,
}


def check(args: tuple[str, ...], unit: str) -> None:
    """Refuse, before the run starts, a unit whose command the rehearsal cannot run."""
    if not args or args[0] not in COMMANDS:
        raise ConfigError(f"{unit}: rehearse cannot run `afc {' '.join(args)}`; it runs "
                          f"{', '.join(sorted(COMMANDS))} and the live loop")


def invoke(args: tuple[str, ...], settings: Settings, clock: Clock) -> tuple[int, str | None]:
    """Run one command as a process would: (exit code, its one-line error or None).

    A bug (any other exception) propagates: the caller records it as a traceback.
    """
    collector: Any = None
    try:
        collector = Collector.open(settings, clock=clock)
        code = COMMANDS[args[0]](collector, args[1:])
        return code, None
    except AfcError as exc:
        return exc.exit_code, str(exc)
    finally:
        if collector is not None:
            collector.close()
