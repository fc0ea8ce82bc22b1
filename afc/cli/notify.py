"""`afc notify`: push match events to webhooks and ntfy (the service, `status`, `replay`)."""

from __future__ import annotations

import threading
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from afc.cli.app import DbOption, JsonOption, app, console, open_collector, write_json
from afc.errors import ConfigError

if TYPE_CHECKING:
    from afc.collect.collector import Collector
    from afc.notify.service import Courier

notify_app = typer.Typer(help="Push match events (goals, cards, full time, ...) to webhooks and ntfy topics.")
app.add_typer(notify_app, name="notify")
METRICS_EVERY = 10.0  # seconds between rewrites of afc_notify.prom


def courier(collector: Collector) -> Courier:
    """A Courier for the configured targets, their secrets read from the credentials directory."""
    from afc.config.notify import notify_config
    from afc.db import connect
    from afc.notify.send import read_secrets
    from afc.notify.service import Courier

    conf = notify_config(collector.config)
    if not conf.targets:
        raise ConfigError(f"{collector.config.section_file('notify')}: notify: no targets; add a webhook or "
                          "an ntfy topic under notify.targets (see docs/notify.md)")
    secrets = read_secrets(conf.targets, collector.settings.credentials_dir)
    return Courier(collector.db, conf, secrets, collector.clock, reopen=lambda: connect(collector.settings.db_url))


def open_when_reachable(db: str | None, stop: threading.Event) -> Collector | None:
    """The service's collector, waiting out a database that cannot be reached yet (`afc.ops.lock.when_reachable`);
    None if stopped first."""
    from afc.ops.lock import when_reachable

    return when_reachable("notify", lambda: open_collector(db, create=True), stop)


@notify_app.callback(invoke_without_command=True)
def notify(ctx: typer.Context,
           once: Annotated[bool, typer.Option("--once", help="Deliver what is due, then exit (for cron).")] = False,
           db: DbOption = None, as_json: JsonOption = False) -> None:
    """Deliver the outbox to the targets in jobs/notify.yaml, as a service (or `--once`)."""
    if ctx.invoked_subcommand is not None:
        return
    import time

    from afc.live.stop import on_signals
    from afc.notify.service import CycleReport, drain
    from afc.ops.metrics import write_notify

    stop = threading.Event()
    if not once:
        on_signals(stop)
    collector = open_collector(db, create=True) if once else open_when_reachable(db, stop)
    if collector is None:
        return  # stopped while waiting for the database
    sender = courier(collector)
    try:
        if once:
            report = drain(sender)
            if as_json:
                write_json(asdict(report))
            else:
                typer.echo(f"notify: {report.delivered} delivered, {report.failed} failed attempts "
                           f"({report.dead} dead-lettered), {report.queued} queued")
            return
        metrics_dir, written = collector.settings.metrics_dir, [0.0]

        def on_cycle(report: CycleReport) -> None:
            if metrics_dir is not None and time.monotonic() - written[0] >= METRICS_EVERY:
                write_notify(metrics_dir, sender.db, collector.clock.now(), sender.targets)  # sender.db: reconnected
                written[0] = time.monotonic()

        sender.serve(stop, on_cycle)
    finally:
        sender.close()


@notify_app.command("status")
def status(db: DbOption = None, as_json: JsonOption = False,
           limit: Annotated[int, typer.Option("--limit", min=1, max=10000, help="Events listed.")] = 50) -> None:
    """Deliveries per target by state, then the dead-lettered and pending events."""
    from afc.notify import queue

    collector = open_collector(db)
    counts, waiting = queue.counts(collector.db), queue.waiting(collector.db, limit)
    if as_json:
        write_json({"targets": [asdict(c) for c in counts], "waiting": waiting})
        return
    out = console()
    for c in counts:
        oldest = f", oldest pending since {c.oldest_pending:%Y-%m-%d %H:%M:%S} UTC" if c.oldest_pending else ""
        out.print(f"{c.target}: {c.delivered} delivered, {c.pending} pending, {c.dead} dead-lettered, "
                  f"{c.failed_attempts} failed attempts{oldest}", markup=False)
    for w in waiting:
        out.print(f"  {w['state']:<7} {w['target']} {w['event_key']} ({w['kind']}, {w['failures']} failures)"
                  + (f": {w['last_error']}" if w["last_error"] else ""), markup=False)
    if not counts:
        out.print("no deliveries yet")


@notify_app.command("replay")
def replay(since: Annotated[str, typer.Option("--since", help="Events created since this UTC time "
                                              "(2026-11-28T15:00) or this long ago (90m, 6h, 2d).")],
           target: Annotated[str | None, typer.Option("--target", help="Only this target.")] = None,
           db: DbOption = None) -> None:
    """Send again every event since a time (delivered and dead-lettered ones too), with the same keys."""
    from afc.config.notify import notify_config
    from afc.notify import queue

    collector = open_collector(db)
    conf = notify_config(collector.config)
    if target is not None and target not in {t.name for t in conf.targets}:
        raise ConfigError(f"--target: no target {target!r}; known: {', '.join(t.name for t in conf.targets)}")
    now = collector.clock.now()
    queued = queue.replay(collector.db, conf, parse_since(since, now), now, target)
    console(stderr=True).print(f"queued {queued} deliveries again; `afc notify` sends them")


def parse_since(text: str, now: datetime) -> datetime:
    """`--since`: an ISO time (UTC when no offset) or a duration ago; a one-line error otherwise."""
    from afc.config.bounds import duration_seconds

    try:
        return now - timedelta(seconds=duration_seconds(text, minimum=1))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"--since: expected a time such as 2026-11-28T15:00 or a duration such as 6h, "
                          f"got {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
