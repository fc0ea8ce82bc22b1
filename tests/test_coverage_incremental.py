"""Issue #16: a response re-measures only the coverage it can change, and the mart stays exactly what a full
recompute gives. A live afternoon against the sandbox (live ticks, fixtures by date, gaps filled with
details, standings and the rest), then every mart row is compared with a full recompute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from afc.api.client import Request
from afc.collect.step import collect
from afc.db import as_datetime, load_json
from afc.marts.coverage import compute, report, saved_settings
from afc.marts.coverage.model import Coverage
from tests import coverage_data as data

AT = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)  # a Saturday: matches from midday into the evening
FIGURES = ("held", "expected", "count_pct", "lag_minutes", "freshness_pct", "pipeline_pct", "overall_pct", "status")


@pytest.fixture
def sandbox():
    with data.sandbox_at(AT) as sb:
        yield sb


@pytest.fixture
def collector(sandbox, db_url, tmp_path):
    with data.sandbox_collector(sandbox, db_url, tmp_path) as opened:
        yield opened


def stored(db: Any) -> dict[tuple[int, int, str], dict[str, Any]]:
    """The mart's rows by key."""
    return {(int(r["league_id"]), int(r["season"]), r["endpoint"]): r
            for r in db.fetch_dicts("SELECT * FROM mart.coverage_status")}


def figures(row: dict[str, Any] | Coverage) -> tuple[Any, ...]:
    """A row's figures and detail, the same whether read from the mart or computed."""
    values = row if isinstance(row, dict) else row.__dict__
    out = []
    for name in FIGURES:
        value = values[name]
        out.append(value if value is None or name == "status" else float(value))
    detail = values["detail"]
    return (*out, load_json(detail) if isinstance(detail, str) else detail)


def test_a_live_day_keeps_the_mart_exactly_what_a_full_recompute_gives(collector, sandbox):
    db, config = collector.db, collector.config
    data.fill_gaps(collector)
    report(db, config, AT)
    live = collector.context("live", "test", "CRITICAL")
    now = AT
    for tick in range(1, 12 * 12 + 1):  # every 5 minutes for 12 hours
        now = AT + timedelta(minutes=5 * tick)
        sandbox.clock.set(now)
        list(collect(live, Request.of("fixtures", {"live": "all"})))
        if tick % 12 == 0:  # every hour: the day's fixtures by date, then whatever is missing
            list(collect(live, Request.of("fixtures", {"date": now.date().isoformat()})))
            data.fill_gaps(collector)
    in_play = db.fetchone("SELECT count(*) FROM raw.responses WHERE params->>'live' = 'all' AND results > 0")[0]
    assert in_play > 20  # matches were in play through the afternoon

    rows = stored(db)
    settings = saved_settings(db)
    times = {as_datetime(r["computed_at"]) for r in rows.values()}
    assert len(times) > 1  # some rows were left as they were: the refresh is incremental
    for (league, season, endpoint), row in rows.items():
        at = as_datetime(row["computed_at"])
        assert at is not None
        again = {c.endpoint: c for c in compute(db, settings, [(league, season)], at)}[endpoint]
        assert figures(row) == figures(again), (league, season, endpoint, at)

    # and `afc coverage report` now: the rows a response rewrote last agree in full, the others in every
    # figure that does not age with the clock
    full = {(r.league_id, r.season, r.endpoint): r for r in report(db, config, now).rows}
    assert set(full) == set(rows)
    for key, row in rows.items():
        if as_datetime(row["computed_at"]) == now:
            assert figures(row) == figures(full[key]), key
        else:
            timeless = ("held", "expected", "count_pct", "pipeline_pct")
            assert [row[k] if row[k] is None else float(row[k]) for k in timeless] == [
                getattr(full[key], k) if getattr(full[key], k) is None else float(getattr(full[key], k))
                for k in timeless], key


def test_a_match_in_play_re_measures_its_seasons_teams_only_when_a_side_is_new_to_it(db):
    """A fixture in play whose sides play elsewhere in the season (stored before, by the daily calls) cannot
    change the season's teams nor the players expected of them; one first seen in play with a new side can."""
    from afc.marts.coverage import BY_FIXTURE, BY_KNOWN_LIVE_FIXTURE, BY_LIVE_FIXTURE, fixture_endpoints

    rows = [(1, 39, 2026, 10, 11, "finished"), (2, 39, 2026, 11, 10, "live"),  # 10 and 11 met before
            (3, 140, 2026, 20, 21, "scheduled"), (4, 140, 2026, 21, 22, "live"),  # 22 plays nowhere else
            (5, 135, 2026, 30, None, "live")]  # an unknown side names no team
    with db.transaction():
        for row in rows:
            db.execute("INSERT INTO core.fixtures (id, league_id, season, home_team_id, away_team_id, status_group, "
                       "updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s)", (*row, AT))
    reached = fixture_endpoints(db, {1, 2, 3, 4, 5}, {2, 4, 5})
    assert {"teams", "players"} & BY_KNOWN_LIVE_FIXTURE == set()
    assert reached[(39, 2026)] == BY_FIXTURE  # its finished fixture re-measures everything
    assert reached[(140, 2026)] == BY_FIXTURE  # the scheduled one too; the live one adds teams and players
    assert fixture_endpoints(db, {4}, {4}) == {(140, 2026): BY_LIVE_FIXTURE}
    assert fixture_endpoints(db, {2}, {2}) == {(39, 2026): BY_KNOWN_LIVE_FIXTURE}
    assert fixture_endpoints(db, {5}, {5}) == {(135, 2026): BY_LIVE_FIXTURE}  # team 30 plays nowhere else
