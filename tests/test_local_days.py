"""Local-time days (AFC_DISPLAY_TZ): mart.daily_fixtures.local_date next to the UTC match date, the MCP
templates' `tz`, CLI times. Around the DST changes of Europe/London (March, October) and
America/Sao_Paulo (2018, when midnight did not exist), and for a fixture at 23:30 UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from mcp import Client
from typer.testing import CliRunner

from afc.cli import app
from afc.cli.app import shown_at
from afc.clock import SimClock
from afc.config.settings import load_settings
from afc.db import Database, as_date, connect
from afc.marts.daily import refresh_daily_fixtures
from afc.mcp.server import build_server
from afc.mcp.templates import TEMPLATES, bind
from tests.mcp_support import restricted_target, text_of

LONDON, SAO_PAULO = "Europe/London", "America/Sao_Paulo"
# fixture id, kickoff (UTC), zone, local date there
CASES = [
    (1, datetime(2026, 11, 28, 23, 30, tzinfo=UTC), "UTC", date(2026, 11, 28)),
    (2, datetime(2026, 11, 28, 23, 30, tzinfo=UTC), LONDON, date(2026, 11, 28)),      # GMT = UTC
    (3, datetime(2026, 7, 11, 23, 30, tzinfo=UTC), LONDON, date(2026, 7, 12)),        # BST: 00:30 next day
    (4, datetime(2026, 3, 28, 23, 30, tzinfo=UTC), LONDON, date(2026, 3, 28)),        # the night before the change
    (5, datetime(2026, 3, 29, 0, 30, tzinfo=UTC), LONDON, date(2026, 3, 29)),         # 00:30 GMT
    (6, datetime(2026, 3, 29, 1, 30, tzinfo=UTC), LONDON, date(2026, 3, 29)),         # 02:30 BST
    (7, datetime(2026, 3, 29, 23, 30, tzinfo=UTC), LONDON, date(2026, 3, 30)),        # 00:30 BST
    (8, datetime(2026, 10, 24, 23, 30, tzinfo=UTC), LONDON, date(2026, 10, 25)),      # 00:30 BST
    (9, datetime(2026, 10, 25, 0, 30, tzinfo=UTC), LONDON, date(2026, 10, 25)),       # 01:30 BST, the first one
    (10, datetime(2026, 10, 25, 1, 30, tzinfo=UTC), LONDON, date(2026, 10, 25)),      # 01:30 GMT, the second
    (11, datetime(2026, 10, 25, 23, 30, tzinfo=UTC), LONDON, date(2026, 10, 25)),     # 23:30 GMT
    (12, datetime(2026, 11, 28, 23, 30, tzinfo=UTC), SAO_PAULO, date(2026, 11, 28)),  # 20:30 -03
    (13, datetime(2026, 11, 29, 1, 30, tzinfo=UTC), SAO_PAULO, date(2026, 11, 28)),   # 22:30 -03, UTC's next day
    (14, datetime(2018, 11, 4, 2, 30, tzinfo=UTC), SAO_PAULO, date(2018, 11, 3)),     # 23:30 -03
    (15, datetime(2018, 11, 4, 3, 30, tzinfo=UTC), SAO_PAULO, date(2018, 11, 4)),     # 01:30 -02 (00:00 skipped)
    (16, datetime(2019, 2, 17, 1, 30, tzinfo=UTC), SAO_PAULO, date(2019, 2, 16)),     # 23:30 -02
    (17, datetime(2019, 2, 17, 2, 30, tzinfo=UTC), SAO_PAULO, date(2019, 2, 16)),     # 23:30 -03, the hour again
]
AT = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def add_fixtures(db: Database, fixtures: list[tuple[int, datetime]]) -> None:
    with db.transaction():
        db.execute("INSERT INTO core.leagues (id, name, type, updated_at) VALUES (39, 'Premier League', 'League', %s) "
                   "ON CONFLICT (id) DO NOTHING", (AT,))
        for fixture_id, kickoff in fixtures:
            db.execute("INSERT INTO core.fixtures (id, league_id, season, kickoff_at, status_short, status_group, "
                       "updated_at) VALUES (%s, 39, 2026, %s, 'NS', 'scheduled', %s)", (fixture_id, kickoff, AT))


def mart_rows(db: Database) -> dict[int, tuple[date | None, date | None, str]]:
    rows = db.fetchall("SELECT fixture_id, match_date, local_date, local_tz FROM mart.daily_fixtures")
    return {r[0]: (as_date(r[1]), as_date(r[2]), r[3]) for r in rows}


def test_the_mart_holds_the_local_date_next_to_the_utc_one(db_url: str) -> None:
    for fixture_id, kickoff, zone, local in CASES:
        db = connect(db_url, display_tz=zone)
        try:
            add_fixtures(db, [(fixture_id, kickoff)])
            with db.transaction():
                assert refresh_daily_fixtures(db, {fixture_id}, AT) == 1
            assert mart_rows(db)[fixture_id] == (kickoff.date(), local, zone), (fixture_id, zone)
        finally:
            db.close()


def test_a_new_display_zone_re_derives_touched_rows_and_unchanged_ones_write_nothing(db_url: str) -> None:
    kickoff = datetime(2026, 7, 11, 23, 30, tzinfo=UTC)
    utc = connect(db_url)
    add_fixtures(utc, [(1, kickoff)])
    with utc.transaction():
        assert refresh_daily_fixtures(utc, {1}, AT) == 1
        assert refresh_daily_fixtures(utc, {1}, AT) == 0
    utc.close()
    london = connect(db_url, display_tz=LONDON)
    with london.transaction():
        assert refresh_daily_fixtures(london, {1}, AT) == 1
    assert mart_rows(london)[1] == (date(2026, 7, 11), date(2026, 7, 12), LONDON)
    london.close()


@pytest.mark.parametrize(("zone", "day", "start", "end"), [
    (LONDON, date(2026, 3, 29), datetime(2026, 3, 29, 0, tzinfo=UTC), datetime(2026, 3, 29, 23, tzinfo=UTC)),
    (LONDON, date(2026, 10, 25), datetime(2026, 10, 24, 23, tzinfo=UTC), datetime(2026, 10, 26, 0, tzinfo=UTC)),
    (LONDON, date(2026, 7, 12), datetime(2026, 7, 11, 23, tzinfo=UTC), datetime(2026, 7, 12, 23, tzinfo=UTC)),
    (SAO_PAULO, date(2018, 11, 4), datetime(2018, 11, 4, 3, tzinfo=UTC), datetime(2018, 11, 5, 2, tzinfo=UTC)),
    (SAO_PAULO, date(2019, 2, 16), datetime(2019, 2, 16, 2, tzinfo=UTC), datetime(2019, 2, 17, 3, tzinfo=UTC)),
], ids=["london_23h", "london_25h", "london_summer", "sao_paulo_no_midnight", "sao_paulo_25h"])
def test_a_local_day_is_23_or_25_hours_on_a_dst_change(zone: str, day: date, start: datetime, end: datetime) -> None:
    values = bind(TEMPLATES["todays_fixtures"], {"day": day.isoformat(), "tz": zone}, AT)
    assert (values["start"], values["end"]) == (start, end)
    assert values["first_utc_day"] <= day <= values["last_utc_day"]


def test_today_is_today_in_the_zone_and_defaults_to_the_display_zone() -> None:
    late = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)  # still the 28th in São Paulo
    assert bind(TEMPLATES["todays_fixtures"], {}, late)["day"] == date(2026, 11, 29)
    assert bind(TEMPLATES["todays_fixtures"], {}, late, SAO_PAULO)["day"] == date(2026, 11, 28)
    assert bind(TEMPLATES["todays_fixtures"], {"tz": "UTC"}, late, SAO_PAULO)["day"] == date(2026, 11, 29)


@pytest.fixture
def fixtures_url(db_url: str, ai_role: str) -> str:
    """Fixtures around 23:30 UTC in the mart (derived in UTC), served to the assistant's role."""
    db = connect(db_url)
    kickoffs = [(1, datetime(2026, 7, 11, 22, 0, tzinfo=UTC)), (2, datetime(2026, 7, 11, 23, 30, tzinfo=UTC)),
                (3, datetime(2026, 7, 12, 22, 30, tzinfo=UTC)), (4, datetime(2026, 7, 12, 23, 0, tzinfo=UTC))]
    add_fixtures(db, kickoffs)
    with db.transaction():
        refresh_daily_fixtures(db, {f for f, _ in kickoffs}, AT)
    db.close()
    if db_url.startswith("postgres"):
        restricted_target(db_url, ai_role)
    return db_url


async def todays(url: str, role: str, display_tz: str | None, **params: Any) -> list[dict[str, Any]]:
    settings = load_settings({}, database_url=url, display_tz=display_tz)
    server = build_server(settings, role=role, clock=SimClock(datetime(2026, 7, 12, 9, 0, tzinfo=UTC), speed=0))
    async with Client(server) as client:
        result = await client.call_tool("run_template", {"name": "todays_fixtures", "params": params})
    assert result.is_error is False, text_of(result)
    answer = result.structured_content
    return [dict(zip(answer["columns"], row, strict=True)) for row in answer["rows"]]


@pytest.mark.anyio
async def test_todays_fixtures_in_a_zone(fixtures_url: str, ai_role: str) -> None:
    utc = await todays(fixtures_url, ai_role, None, day="2026-07-11")
    assert [(r["fixture_id"], r["kickoff_at"]) for r in utc] == [(1, "2026-07-11T22:00:00+00:00"),
                                                                 (2, "2026-07-11T23:30:00+00:00")]
    london = await todays(fixtures_url, ai_role, None, day="2026-07-12", tz=LONDON)
    assert [(r["fixture_id"], r["kickoff_at"], str(r["utc_date"])) for r in london] == [
        (2, "2026-07-12T00:30:00+01:00", "2026-07-11"), (3, "2026-07-12T23:30:00+01:00", "2026-07-12")]
    # the server's display zone is the default; today (09:00 UTC) is the 12th there too
    assert [r["fixture_id"] for r in await todays(fixtures_url, ai_role, LONDON)] == [2, 3]
    assert [r["fixture_id"] for r in await todays(fixtures_url, ai_role, SAO_PAULO)] == [3, 4]


@pytest.mark.anyio
async def test_a_bad_zone_is_one_line(fixtures_url: str, ai_role: str) -> None:
    server = build_server(load_settings({}, database_url=fixtures_url), role=ai_role)
    async with Client(server) as client:
        result = await client.call_tool("run_template",
                                        {"name": "todays_fixtures", "params": {"tz": "Mars/Olympus"}})
    assert result.is_error is True
    assert text_of(result) == ("Error executing tool run_template: template todays_fixtures: parameter 'tz' must be "
                               "an IANA time zone such as UTC, Europe/London or America/Sao_Paulo, got 'Mars/Olympus'")


def test_cli_times_are_shown_in_the_display_zone(tmp_path: Any) -> None:
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert shown_at(moment, "UTC") == "2026-03-29 01:30 UTC"
    assert shown_at(moment, LONDON, seconds=True) == "2026-03-29 02:30:00 BST"
    assert shown_at(moment, SAO_PAULO) == "2026-03-28 22:30 -03"
    env = {"AFC_DATABASE_URL": f"sqlite:///{tmp_path / 'afc.db'}", "AFC_CLOCK": "2026-07-11T12:00:00Z@0",
           "AFC_JOBS_DIR": "", "AFC_METRICS_DIR": ""}
    assert CliRunner().invoke(app, ["db", "migrate"], env=env).exit_code == 0  # `quota` reads, never creates
    result = CliRunner().invoke(app, ["quota"], env={**env, "AFC_DISPLAY_TZ": LONDON})
    assert result.exit_code == 0 and "resets at 2026-07-12 01:00 BST\n" in result.stdout, result.output
    result = CliRunner().invoke(app, ["quota"], env=env)
    assert "resets at 2026-07-12 00:00 UTC\n" in result.stdout
    result = CliRunner().invoke(app, ["quota"], env={**env, "AFC_DISPLAY_TZ": "Europe/Londn"})
    assert (result.exit_code, result.stderr) == (2, "afc: AFC_DISPLAY_TZ: unknown time zone 'Europe/Londn': use an "
                                                 "IANA name such as UTC, Europe/London or America/Sao_Paulo\n")


def test_a_recorded_season_lands_with_local_dates_across_both_dst_changes(db_url: str) -> None:
    """The Premier League 2024 season (recorded, 380 fixtures, August to May) through the real write
    path: every local date is the kick-off's date in the zone, whichever side of a DST change."""
    import json
    from zoneinfo import ZoneInfo

    from tests.conftest import SAMPLES
    from tests.loading import load

    body = json.loads((SAMPLES / "fixtures" / "footballay__fixturesOfLeagueBySeason.json").read_text("utf-8-sig"))
    for zone in (LONDON, "Asia/Tokyo"):
        db = connect(db_url, display_tz=zone)
        try:
            load(db, "fixtures", {"league": "39", "season": "2024"}, body["response"])
            rows = db.fetchall("SELECT kickoff_at, match_date, local_date, local_tz FROM mart.daily_fixtures")
        finally:
            db.close()
        assert len(rows) == 380
        expected = [(datetime.fromisoformat(str(k)).astimezone(ZoneInfo(zone)).date(), zone) for k, *_ in rows]
        assert [(as_date(local), tz) for _, _, local, tz in rows] == expected
        moved = sum(as_date(local) != as_date(utc) for _, utc, local, _ in rows)
        assert moved == (0 if zone == LONDON else 228), zone  # a 15:00 UTC kick-off is 00:00 the next day in Tokyo
