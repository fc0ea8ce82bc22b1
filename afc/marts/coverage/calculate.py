"""Scoring: count, freshness and pipeline per league season and endpoint, weighted into one status."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime

from afc.config.coverage import CoverageConfig, Expectation
from afc.config.jobs import JobConfig
from afc.config.seasons import LeagueSeason, tracked_seasons
from afc.db import Database
from afc.errors import ConfigError
from afc.marts.coverage.measure import measure, open_season
from afc.marts.coverage.model import Coverage, Measure


def count_pct(held: int, expected: int | None, target: Expectation | None) -> float:
    """Held as a share of what is expected (or of the share a target asks for); unknown counts 0."""
    if expected is None:
        return 0.0
    required = math.ceil(expected * target.percent / 100) if target and target.percent is not None else expected
    return 100.0 if required <= 0 else min(100.0, 100.0 * held / required)


def freshness_pct(lag: float | None, max_lag: int) -> float:
    """100 within `max_lag`; beyond it the share `max_lag / lag` (twice too old scores 50)."""
    if lag is None:
        return 0.0
    return 100.0 if lag <= max_lag else 100.0 * max_lag / lag


def pipeline_pct(items: int, quarantined: int) -> float:
    """Raw items that reached core (those quarantined did not)."""
    return 100.0 if items <= 0 else 100.0 * (items - quarantined) / items


def overall_pct(parts: dict[str, float | None], config: CoverageConfig) -> float:
    """The weighted mean of the parts that were measured (an unmeasured part gives its weight away)."""
    weights = config.weights.model_dump()
    used = {name: value for name, value in parts.items() if value is not None and weights[name] > 0}
    total = sum(weights[name] for name in used)
    return sum(weights[name] * value for name, value in used.items()) / total if total else 0.0


def status_of(overall: float, config: CoverageConfig) -> str:
    """`critical` below the critical threshold, `warning` below the warning one, else `ok`."""
    if overall < config.thresholds.critical:
        return "critical"
    return "warning" if overall < config.thresholds.warning else "ok"


def score(m: Measure, league: int, season: int, config: CoverageConfig, now: datetime) -> Coverage:
    """One endpoint's figures turned into percentages, an overall score and a status."""
    max_lag = config.max_lag(m.endpoint)
    detail = m.detail | {"max_lag_minutes": max_lag}
    if m.not_applicable:
        return Coverage(league, season, m.endpoint, m.held, m.expected, None, None, None, None,
                        None, "not_applicable", now, detail | {"reason": m.not_applicable})
    target = config.target(league, season, m.endpoint)
    expected = target.expected if target and target.expected is not None else m.expected
    if target:
        detail["target"] = target.model_dump(exclude_none=True)
    if m.run:
        detail |= {"raw_items": m.run.items, "quarantined": m.run.quarantined}
    parts = {"count": _round(count_pct(m.held, expected, target)),
             "freshness": _round(freshness_pct(m.lag_minutes, max_lag)) if m.timed else None,
             "pipeline": _round(pipeline_pct(m.run.items, m.run.quarantined)) if m.run else None}
    overall = round(overall_pct(parts, config), 1)
    return Coverage(league, season, m.endpoint, m.held, expected, parts["count"], _round(m.lag_minutes),
                    parts["freshness"], parts["pipeline"], overall, status_of(overall, config), now, detail)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def compute(db: Database, config: CoverageConfig, seasons: Iterable[LeagueSeason | tuple[int, int]],
            now: datetime, only: Mapping[tuple[int, int], Collection[str]] | None = None) -> list[Coverage]:
    """Coverage of every configured endpoint of `seasons` (of a season in `only`, just the endpoints it
    names), worst first. Each row is what a full recompute at `now` gives: endpoints are measured apart."""
    rows = []
    for item in seasons:
        league, season = (item.league, item.season) if isinstance(item, LeagueSeason) else item
        found = measure(open_season(db, league, season, now, config), (only or {}).get((league, season)))
        rows += [score(m, league, season, config, now) for m in found]
    return sorted(rows, key=lambda r: r.sort_key)


def select(config: JobConfig, db: Database, now: datetime, league: int | None = None,
           season: int | None = None) -> list[LeagueSeason]:
    """The tracked league seasons, narrowed to `league`/`season`; an untracked pair is measured as asked."""
    tracked = tracked_seasons(config, db, now)
    chosen = [ls for ls in tracked if league in (None, ls.league) and season in (None, ls.season)]
    if chosen or league is None:
        return chosen
    if season is not None:
        return [LeagueSeason(league, season)]
    raise ConfigError(f"league {league} is not tracked (see the tracked: list in {config.directory}); "
                      f"pass --season to measure one of its seasons anyway")
