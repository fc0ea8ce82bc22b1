"""`afc live-loop`: the long-running live collector (a systemd Type=notify service)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from afc.cli.app import DbOption, JsonOption, app, settings, shown_at, within, write_json
from afc.errors import ConfigError, DatabaseUnavailable
from afc.words import count_calls


@app.command("live-loop")
def live_loop(
    interval: Annotated[int | None, typer.Option("--interval", callback=within(1, 3600),
                                                 help="Seconds between live calls "
                                                 "while matches are on (default: jobs/live.yaml, 15).")] = None,
    leagues: Annotated[str | None, typer.Option("--leagues", help="League ids to follow, e.g. 39,140, or "
                                                "'all' (default: live.leagues, else the tracked leagues).")] = None,
    once: Annotated[bool, typer.Option("--once", help="One iteration (a tick if matches are on), then exit.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print a match day's expected calls per kind; "
                                          "call nothing.")] = False,
    day: Annotated[str | None, typer.Option("--date", help="The UTC day for --dry-run, YYYY-MM-DD "
                                            "(default: today).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Follow matches in play every interval; sleep, making no calls, while none are on."""
    if dry_run:
        show_plan(db, day, leagues, as_json)
        return
    import threading
    from dataclasses import asdict

    from afc.live import build
    from afc.live.stop import on_signals
    from afc.ops.lock import hold_waiting
    from afc.ops.sdnotify import Notifier

    conf, stop, notifier = settings(db), threading.Event(), Notifier()
    on_signals(stop)

    def waiting(delay: float, why: str) -> None:
        if once:  # from a shell: a database that cannot be reached is one line and exit 1, not a wait
            raise DatabaseUnavailable(why)
        notifier.extend_timeout(delay + 30, f"waiting for the database; retrying in {delay:.0f} s")

    # this host, and with PostgreSQL every host: one loop
    with hold_waiting(conf.data_dir, conf.db_url, "live", stop, waiting) as held:
        if not held:
            return
        report = build(conf, interval=interval, leagues=leagues, stop=stop, notifier=notifier).run(once=once)
    if as_json:
        write_json(asdict(report))
    elif once:
        wake = shown_at(report.next_wake, conf.display_tz, seconds=True) if report.next_wake else "-"
        made = "".join(f", {calls} {kind}" for kind, calls in report.matchday_calls.items() if calls)
        skipped = "".join(f"; skipped {calls} {kind} (quota)" for kind, calls in report.skipped.items())
        typer.echo(f"{report.state}: {report.ticks} ticks, {report.in_play} in play, "
                   f"{report.detail_calls} details calls{made}{skipped}; next look at {wake}")


def show_plan(db: str | None, day: str | None, leagues: str | None, as_json: bool) -> None:
    """`--dry-run`: the match day's calls per kind, by priority, against today's quota."""
    from dataclasses import asdict

    from afc.live import plan_day

    result = plan_day(settings(db), day=parse_day(day), leagues=leagues)
    if as_json:
        write_json(asdict(result))
        return
    typer.echo(f"match day {result.day}: {result.fixtures} tracked fixtures")
    for kind, calls in result.calls.items():
        typer.echo(f"  {kind:<12} {result.priorities[kind]:<9} ~{calls}")
    typer.echo(f"total ~{count_calls(result.total)}; {count_calls(result.available)} available today")


def parse_day(text: str | None) -> date | None:
    """`--date 2026-11-28` → a date; a one-line error on anything else."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--date: expected YYYY-MM-DD, got {text!r}") from None
