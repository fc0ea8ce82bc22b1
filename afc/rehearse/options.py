"""What `afc rehearse` was asked for, checked before anything runs (bad input: one line, exit 2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from afc.config.ops import parse_duration
from afc.config.settings import PLANS
from afc.errors import ConfigError
from afc.rehearse.faults import PROFILES
from afc.sandbox.catalog import LEAGUE_BY_ID

DEFAULT_START = datetime(2026, 8, 15, tzinfo=UTC)
MAX_DAYS = 366
MAX_HOSTS = 8


@dataclass(frozen=True)
class Options:
    """A rehearsal: how long, which plan, jobs and leagues, from when, with which faults, on how many hosts."""

    days: int = 7
    plan: str = "pro"
    jobs_dir: Path | None = None
    leagues: tuple[int, ...] | None = None
    start: datetime = DEFAULT_START
    faults: str = "none"
    skew: float = 0.0
    hosts: int = 1
    db_url: str | None = None
    target: float = 95.0
    seed: int = 42

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)


def parse_start(text: str) -> datetime:
    """`2026-08-15T00:00Z` (or a date) as an aware UTC datetime."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--start: not an ISO time, got {text!r}; use e.g. 2026-08-15T00:00Z") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def parse_leagues(text: str | None) -> tuple[int, ...] | None:
    """`39,140` as league ids the sandbox knows, or a one-line error naming the unknown one."""
    if text is None:
        return None
    leagues = []
    for word in (w.strip() for w in text.split(",") if w.strip()):
        if not word.isdigit() or int(word) not in LEAGUE_BY_ID:
            known = ", ".join(str(i) for i in sorted(LEAGUE_BY_ID))
            raise ConfigError(f"--leagues: unknown league {word!r}; the sandbox has {known}")
        leagues.append(int(word))
    if not leagues:
        raise ConfigError("--leagues: give league ids such as 39,140")
    return tuple(dict.fromkeys(leagues))


def parse_skew(text: str) -> float:
    """`30s`, `-2m` as seconds."""
    negative = text.strip().startswith("-")
    try:
        seconds = parse_duration(text.strip().lstrip("-+"))
    except ValueError as exc:
        raise ConfigError(f"--skew: {exc}") from None
    return -float(seconds) if negative else float(seconds)


def check(options: Options) -> Options:
    """Raise ConfigError naming the first bad option; return the options when all are good."""
    if not 1 <= options.days <= MAX_DAYS:
        raise ConfigError(f"--days: must be between 1 and {MAX_DAYS}, got {options.days}")
    if options.plan not in PLANS:
        raise ConfigError(f"--plan: must be one of {', '.join(PLANS)}, got {options.plan!r}")
    if options.faults not in PROFILES:
        raise ConfigError(f"--faults: must be one of {', '.join(PROFILES)}, got {options.faults!r}")
    if not 1 <= options.hosts <= MAX_HOSTS:
        raise ConfigError(f"--hosts: must be between 1 and {MAX_HOSTS}, got {options.hosts}")
    if abs(options.skew) > 3600:
        raise ConfigError(f"--skew: at most one hour either way, got {options.skew:g}s")
    if options.jobs_dir is not None and not options.jobs_dir.is_dir():
        raise ConfigError(f"--jobs: {options.jobs_dir}: no such directory")
    _check_window(options.start, options.end)
    return options


def _check_window(start: datetime, end: datetime) -> None:
    """The sandbox serves one season (July to June): the rehearsal must stay inside it."""
    if not 2000 <= start.year <= 2099:
        raise ConfigError(f"--start: the sandbox serves seasons from 2000 to 2099, got {start:%Y-%m-%d}")
    season = start.year if start.month >= 7 else start.year - 1
    boundary = datetime(season + 1, 7, 1, tzinfo=UTC)
    if end > boundary:
        raise ConfigError(f"--start {start:%Y-%m-%d} with --days {(end - start).days}: the run would cross "
                          f"{boundary:%Y-%m-%d}, where the sandbox's season {season} ends; start earlier or "
                          "rehearse fewer days")
