"""Sandbox settings: plan, key, limits, faults. Built once at the edge (CLI or test) and validated."""

from __future__ import annotations

from dataclasses import dataclass, field

from afc.errors import ConfigError
from afc.sandbox.catalog import MAX_EXTRA_LEAGUES
from afc.sandbox.faults import check_rates
from afc.sandbox.tiers import TIERS


@dataclass
class SandboxConfig:
    """How the sandbox behaves; `faults` maps a fault kind to the share of requests that get it."""

    seed: int = 42
    plan: str = "pro"
    key: str = "sandbox"
    daily_limit: int | None = None
    minute_limit: int | None = None
    rate_limit: bool = True
    quota_429: bool = False
    faults: dict[str, float] = field(default_factory=dict)
    fault_seed: int = 0
    timeout_seconds: float = 30.0  # how long a `timeout` fault holds the connection
    slow_seconds: tuple[float, float] = (1.0, 3.0)  # the delay range of a `slow` fault
    extra_leagues: int = 0  # synthetic domestic leagues served besides the real 8 (benches of many leagues)

    def validate(self) -> SandboxConfig:
        """Raise ConfigError naming the first bad setting; return self when all are good."""
        if self.plan not in TIERS:
            raise ConfigError(f"sandbox: plan must be one of {', '.join(TIERS)}, got {self.plan!r}")
        if not self.key:
            raise ConfigError("sandbox: the key must not be empty")
        for name in ("daily_limit", "minute_limit"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"sandbox: {name.replace('_', '-')} must be at least 1, got {value}")
        if self.timeout_seconds < 0 or self.slow_seconds[0] < 0 or self.slow_seconds[1] < self.slow_seconds[0]:
            raise ConfigError("sandbox: fault delays must be non-negative and slow_seconds ordered (low, high)")
        if not 0 <= self.extra_leagues <= MAX_EXTRA_LEAGUES:
            raise ConfigError(f"sandbox: extra-leagues must be 0 to {MAX_EXTRA_LEAGUES}, got {self.extra_leagues}")
        check_rates(self.faults)
        return self

    @property
    def daily(self) -> int:
        """The daily request limit in force."""
        return self.daily_limit or TIERS[self.plan].daily

    @property
    def per_minute(self) -> int:
        """The per-minute request limit in force."""
        return self.minute_limit or TIERS[self.plan].per_minute
