"""What `afc sandbox` needs besides the server: reading fault flags, the clock, the ready line."""

from __future__ import annotations

from datetime import UTC, datetime

from afc.clock import SimClock, SystemClock
from afc.errors import ConfigError
from afc.sandbox.faults import check_rates
from afc.sandbox.server import Sandbox


def parse_faults(flags: list[str]) -> dict[str, float]:
    """`["503=0.05", "timeout=0.01"]` → `{"503": 0.05, "timeout": 0.01}`; ConfigError on a bad flag."""
    rates: dict[str, float] = {}
    for flag in flags:
        kind, sep, rate = flag.partition("=")
        try:
            rates[kind.strip()] = float(rate)
        except ValueError:
            sep = ""
        if not sep:
            raise ConfigError(f"--fault {flag!r}: expected KIND=RATE such as 503=0.05") from None
    check_rates(rates)
    return rates


def make_clock(now: str | None, speed: float) -> SystemClock | SimClock:
    """The real clock, or a simulated one starting at `now` (ISO) running `speed` times real time."""
    if now is None and speed == 1:
        return SystemClock()
    start = datetime.now(UTC)
    if now is not None:
        try:
            start = datetime.fromisoformat(now.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(f"--now {now!r}: not an ISO time; use e.g. 2026-11-28T12:00:00Z") from None
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
    if not 0 <= speed <= 1_000_000:  # NaN and infinity fail too
        raise ConfigError(f"--clock-speed must be >= 0 and at most 1000000, got {speed:g}")
    return SimClock(start, speed)


def ready_line(sb: Sandbox) -> str:
    """One shell line that points afc at this sandbox, with a comment saying what it serves."""
    cfg = sb.api.cfg
    return (f"export AFC_API_BASE_URL={sb.url} API_FOOTBALL_KEY={sb.key} AFC_PLAN={cfg.plan} "
            f"AFC_CLOCK={sb.clock.spec()}  # afc sandbox: plan {cfg.plan} ({cfg.daily}/day, {cfg.per_minute}/min), "
            f"seed {cfg.seed}, season {sb.world.year}, now {sb.clock.now():%Y-%m-%d %H:%M} UTC")
