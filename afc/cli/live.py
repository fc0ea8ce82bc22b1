"""`afc live-loop`: the long-running live collector (a systemd Type=notify service)."""

from __future__ import annotations

from typing import Annotated

import typer

from afc.cli.app import DbOption, JsonOption, app, settings, shown_at, within, write_json


@app.command("live-loop")
def live_loop(
    interval: Annotated[int | None, typer.Option("--interval", callback=within(1, 3600),
                                                 help="Seconds between live calls "
                                                 "while matches are on (default: jobs/live.yaml, 15).")] = None,
    leagues: Annotated[str | None, typer.Option("--leagues", help="League ids to follow, e.g. 39,140, or "
                                                "'all' (default: live.leagues, else the tracked leagues).")] = None,
    once: Annotated[bool, typer.Option("--once", help="One iteration (a tick if matches are on), then exit.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Follow matches in play every interval; sleep, making no calls, while none are on."""
    import threading
    from dataclasses import asdict

    from afc.live import build
    from afc.live.stop import on_signals
    from afc.ops.lock import hold
    from afc.ops.sdnotify import Notifier

    conf, stop = settings(db), threading.Event()
    on_signals(stop)
    with hold(conf.data_dir, conf.db_url, "live"):  # this host, and with PostgreSQL every host: one loop
        report = build(conf, interval=interval, leagues=leagues, stop=stop, notifier=Notifier()).run(once=once)
    if as_json:
        write_json(asdict(report))
    elif once:
        wake = shown_at(report.next_wake, conf.display_tz, seconds=True) if report.next_wake else "-"
        typer.echo(f"{report.state}: {report.ticks} ticks, {report.in_play} in play, "
                   f"{report.detail_calls} details calls; next look at {wake}")
