"""`afc sandbox`: serve the local API-Football simulator."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from afc.cli.app import app, within

FAULT_HELP = ("KIND=RATE, repeatable, e.g. --fault 503=0.05; kinds: 500 502 503 499 timeout slow malformed truncated "
              "bug 429 drop.")


@app.command()
def sandbox(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(callback=within(0, 65535),
                                      help="Port to listen on (0: any free port).")] = 8099,
    plan: Annotated[str, typer.Option(help="free, pro, ultra or mega: the daily and per-minute limits.")] = "pro",
    seed: Annotated[int, typer.Option(callback=within(0, 2**63 - 1),
                                      help="World seed: the same seed gives the same world.")] = 42,
    now: Annotated[str | None, typer.Option(help="Start the sandbox clock at this ISO time [default: now].")] = None,
    clock_speed: Annotated[float, typer.Option(help="Sandbox seconds per real second (0: frozen).")] = 1.0,
    key: Annotated[str, typer.Option(help="The API key the sandbox accepts.")] = "sandbox",
    daily_limit: Annotated[int | None, typer.Option(help="Override the plan's requests per day.")] = None,
    minute_limit: Annotated[int | None, typer.Option(help="Override the plan's requests per minute.")] = None,
    no_rate_limit: Annotated[bool, typer.Option("--no-rate-limit", help="Do not enforce the minute limit.")] = False,
    quota_429: Annotated[bool, typer.Option("--quota-429", help="Daily exhaustion as 429 without headers.")] = False,
    fault: Annotated[list[str] | None, typer.Option(help=FAULT_HELP)] = None,
    fault_seed: Annotated[int, typer.Option(callback=within(0, 2**63 - 1),
                                            help="Seed of the fault generator.")] = 0,
    extra_leagues: Annotated[int, typer.Option(help="Also serve this many synthetic domestic leagues "
                                                    "(ids 9001..; for measuring many tracked leagues).")] = 0,
) -> None:
    """Serve the local API-Football simulator: a seeded world with the real contract, plans and faults."""
    from afc.sandbox import SandboxConfig, serve
    from afc.sandbox.launch import make_clock, parse_faults, ready_line

    cfg = SandboxConfig(seed=seed, plan=plan.lower(), key=key, daily_limit=daily_limit, minute_limit=minute_limit,
                        rate_limit=not no_rate_limit, quota_429=quota_429, faults=parse_faults(fault or []),
                        fault_seed=fault_seed, extra_leagues=extra_leagues).validate()
    clock = make_clock(now, clock_speed)
    serve(cfg, clock, host, port, on_ready=lambda sb: print(ready_line(sb), file=sys.stderr, flush=True))
