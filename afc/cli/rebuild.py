"""`afc rebuild` and `afc drift`: re-derive core from the raw archive; fields the API changed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from afc.cli.app import DbOption, JsonOption, app, console, settings, within, write_json
from afc.config.bounds import FIRST_SEASON, LAST_SEASON, MAX_ID
from afc.errors import ConfigError

drift_app = typer.Typer(invoke_without_command=True, help="Fields the API added, dropped or retyped.")
app.add_typer(drift_app, name="drift")


def _open(db: str | None) -> tuple[Any, Any]:
    """The database (migrated; never created: a missing one has nothing to replay) and the clock; no API key is
    needed."""
    from afc.clock import parse_clock
    from afc.db import connect
    from afc.db.migrate import migrate

    conf = settings(db)
    database = connect(conf.db_url, display_tz=conf.display_tz, create=False)
    migrate(database)
    return database, parse_clock(conf.clock)


@app.command("rebuild")
def rebuild_cmd(
    endpoint: Annotated[str | None, typer.Option(help="Only responses of this endpoint, e.g. fixtures.")] = None,
    league: Annotated[int | None, typer.Option(callback=within(1, MAX_ID),
                                               help="Only this league (by params, or the fixtures named).")] = None,
    season: Annotated[int | None, typer.Option(callback=within(FIRST_SEASON, LAST_SEASON),
                                               help="Only this season, e.g. 2024.")] = None,
    since: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Only responses fetched on or "
                                                   "after this UTC day (YYYY-MM-DD).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Transform and count, write nothing.")] = False,
    check_drift: Annotated[bool, typer.Option("--check-drift", help="Compare the archive with the known "
                                              "shapes again, recording schema drift.")] = False,
    batch_size: Annotated[int, typer.Option(callback=within(1, 10_000), help="Responses per transaction.")] = 20,
    db: DbOption = None, as_json: JsonOption = False,
) -> None:
    """Re-derive core and marts from the raw archive, in fetch order, without calling the API."""
    from afc.collect.rebuild import Scope, rebuild

    database, clock = _open(db)
    scope = Scope(endpoint, league, season, since.date() if since else None)
    report = rebuild(database, clock, scope, batch_size=batch_size, dry_run=dry_run, check_drift=check_drift)
    if as_json:
        write_json(report.as_dict())
        return
    console().print(_summary(report.as_dict()), markup=False, highlight=False)


def _summary(r: dict[str, Any]) -> str:
    head = "rebuild (dry run, nothing written)" if r["dry_run"] else "rebuild"
    return (f"{head}: {r['responses']} responses, {r['items']} items; rows {r['inserted']} inserted, "
            f"{r['updated']} updated, {r['unchanged']} unchanged, {r['deleted']} deleted; "
            f"{r['quarantined']} quarantined, {r['resolved']} resolved from quarantine; "
            + (f"{r['drift']} schema differences; " if r["check_drift"] else "")
            + f"{r['seconds']:.1f}s, {r['rows_per_second']:,.0f} rows/s")


@drift_app.callback()
def drift_list(
    ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False,
    unacknowledged: Annotated[bool, typer.Option("--unacknowledged", help="Only what nobody acknowledged.")] = False,
) -> None:
    """List schema drift: fields the API added or dropped, and values whose type changed."""
    if ctx.invoked_subcommand is not None:
        return
    from afc.collect import drift

    database, _ = _open(db)
    records = drift.listing(database, include_acknowledged=not unacknowledged)
    if as_json:
        write_json([r.__dict__ for r in records])
        return
    _drift_table(records, unacknowledged)


def _drift_table(records: list[Any], unacknowledged: bool) -> None:
    if not records:
        console(stderr=True).print("no unacknowledged schema drift" if unacknowledged else "no schema drift recorded")
        return
    from rich.table import Column, Table

    table = Table("id", Column("field", overflow="fold", ratio=3), Column("change", ratio=2),
                  Column("seen", ratio=2), "count", "ack")
    for r in records:
        first, last = f"{r.first_seen_at:%Y-%m-%d}", f"{r.last_seen_at:%Y-%m-%d}"
        table.add_row(str(r.id), f"/{r.endpoint} {r.path}", _change(r), first if first == last else f"{first} … {last}",
                      str(r.count), "yes" if r.acknowledged_at else "no")
    console().print(table)


def _change(r: Any) -> str:
    if r.kind == "added":
        return f"added ({r.seen_type})"
    if r.kind == "missing":
        return f"missing (was {r.expected_type})"
    return f"{r.expected_type} → {r.seen_type}"


@drift_app.command("ack")
def drift_ack(
    ids: Annotated[list[int] | None, typer.Argument(help="Drift ids from `afc drift`.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Acknowledge every open drift record.")] = False,
    db: DbOption = None,
) -> None:
    """Acknowledge drift, so `afc health` stops mentioning it until something new shows up."""
    from afc.collect import drift

    if bool(ids) == all_:
        raise ConfigError("drift ack: name drift ids (see `afc drift`) or pass --all, not both")
    database, clock = _open(db)
    unknown = drift.unknown_ids(database, ids or [])
    if unknown:
        raise ConfigError(f"drift ack: no drift record with id {', '.join(map(str, unknown))}; see `afc drift`")
    done = drift.acknowledge(database, None if all_ else ids, clock.now())
    console(stderr=True).print(f"acknowledged {done} drift record{'s' if done != 1 else ''}")
