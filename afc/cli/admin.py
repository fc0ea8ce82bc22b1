"""`afc health`, `afc prune`, `afc backup`, `afc restore`, `afc systemd render`: running afc unattended."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from afc.cli.app import DbOption, JsonOption, app, open_collector, settings, within, write_json
from afc.errors import EXIT_FAILURE, ConfigError
from afc.words import plural

if TYPE_CHECKING:
    from afc.ops.retention import PruneResult

systemd_app = typer.Typer(no_args_is_help=True, help="systemd units and the crontab, rendered from jobs/*.yaml.")
app.add_typer(systemd_app, name="systemd")


@app.command()
def health(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Check what needs a person; exit 1 with the reasons when something does."""
    from afc.collect.collector import Collector
    from afc.errors import DatabaseError, DatabaseMissing
    from afc.ops.health import check, unreachable

    conf = settings(db)
    try:
        collector = Collector.open(conf, auto_migrate=False, create=False)  # pending migrations are a finding
        report = check(collector.db, collector.now(), collector.config, collector.ledger.status)
    except (DatabaseError, DatabaseMissing) as exc:
        if not as_json:
            raise
        report = unreachable(exc)  # a monitor parsing --json gets a finding, not an empty stdout
        if isinstance(exc, DatabaseMissing):  # the finding, then the line and exit 2 of a configuration error
            write_json(report.as_dict())
            raise
    if as_json:
        write_json(report.as_dict())
    else:
        for problem in report.problems:
            typer.echo(f"{problem.check}: {problem.reason}")
        if report.ok:
            typer.echo(f"ok: {len(report.ran)} checks passed" + "".join(
                f"; {name} skipped ({why})" for name, why in report.skipped.items()))
    if not report.ok:
        raise typer.Exit(EXIT_FAILURE)


@app.command()
def prune(
    raw_older_than: Annotated[str | None, typer.Option(
        help="Age in days, e.g. 90d [default: ops.raw_retention_days].")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would go; delete nothing.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete archived raw responses older than the retention; core and marts are never touched."""
    from afc.ops.maintenance import prune as run
    from afc.ops.retention import parse_age

    age = parse_age(raw_older_than) if raw_older_than else None  # before the database is opened
    result = run(open_collector(db), age, dry_run)
    if as_json:
        write_json({"cutoff": result.cutoff.isoformat(), "partitions_dropped": result.partitions_dropped,
                    "rows_deleted": result.rows_deleted, "dry_run": result.dry_run})
        return
    typer.echo(f"raw before {result.cutoff:%Y-%m-%d %H:%M} UTC: {prune_summary(result)}")


def prune_summary(result: PruneResult) -> str:
    """What a prune did or would do, naming partitions only where the backend has them (PostgreSQL)."""
    responses = plural(result.rows_deleted, "response")
    if not result.partitioned:
        return f"{'would delete' if result.dry_run else 'deleted'} {responses}"
    names = f" ({', '.join(result.partitions_dropped)})" if result.partitions_dropped else ""
    partitions = plural(len(result.partitions_dropped), "monthly partition") + names
    if result.dry_run:
        return f"would drop {partitions} and delete {responses}"
    return f"dropped {partitions} and deleted {responses}"


@app.command()
def backup(
    directory: Annotated[Path | None, typer.Option(
        "--dir", help="Backup directory [default: <data dir>/backups].")] = None,
    keep: Annotated[int | None, typer.Option(callback=within(1, 1000),
                                             help="Backups to keep [default: ops.backup_keep].")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Back up the database (SQLite online backup, PostgreSQL pg_dump) and rotate old backups."""
    from afc.ops.maintenance import backup as run

    result = run(open_collector(db), directory, keep)
    if as_json:
        write_json({"path": str(result.path), "bytes": result.size, "removed": [str(p) for p in result.removed]})
        return
    removed = f"; removed {len(result.removed)} older" if result.removed else ""
    typer.echo(f"{result.path} ({result.size} bytes){removed}")


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="A file written by `afc backup`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: everything in the database is replaced.")] = False,
    db: DbOption = None,
) -> None:
    """Replace the database with a backup (stop the timers and the live loop first)."""
    from afc.ops.maintenance import restore as run

    if not yes:
        raise ConfigError(f"restore replaces everything in the database with {file}; add --yes to go ahead")
    from afc.clock import parse_clock

    conf = settings(db)
    url = run(conf, file, parse_clock(conf.clock).now())
    typer.echo(f"restored {file} into {url}", err=True)


@systemd_app.command("render")
def systemd_render(
    root: Annotated[Path, typer.Option(help="Write systemd/ and cron/ under this directory.")] = Path("."),
    executable: Annotated[str, typer.Option(
        "--exec", help="Absolute path of afc in ExecStart=.")] = "/usr/local/bin/afc",
    check: Annotated[bool, typer.Option("--check", help="Change nothing; exit 1 if the files differ.")] = False,
    jobs_dir: Annotated[Path | None, typer.Option(help="Jobs directory; default AFC_JOBS_DIR.")] = None,
) -> None:
    """Render the systemd units and the crontab from the jobs (the checked-in files are its output)."""
    from afc.config.jobs import load
    from afc.ops.systemd import differences, render, write

    files = render(load(settings(jobs_dir=jobs_dir).jobs_dir), executable)
    changed = differences(root, files) if check else write(root, files)
    for path in changed:
        typer.echo(f"{'differs' if check else 'wrote'}: {root / path}", err=True)
    if check and changed:
        raise typer.Exit(EXIT_FAILURE)
