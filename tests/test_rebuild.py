"""afc rebuild: core and marts re-derived from the raw archive, without the API."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from typer.testing import CliRunner

from afc.api.body import parse
from afc.api.client import ApiClient, Request
from afc.cli import app
from afc.clock import SimClock
from afc.collect import rebuild
from afc.collect import step as pipeline
from afc.collect.collector import Collector
from afc.collect.step import write_batch
from afc.config.settings import load_settings
from afc.db import Database, as_datetime
from afc.errors import ConfigError, DatabaseUnavailable, ItemInvalid
from afc.sandbox import Sandbox, SandboxConfig, start_sandbox
from afc.transform import standings as standings_transform
from tests.conftest import scalar
from tests.fakeapi import KEY, Answer, FakeApi, envelope, recorded

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # the sandbox's 2025 season is over
LEAGUE = 39
DETAILS = 40  # fixtures fetched with details (two ids= calls)


@dataclass
class Collected:
    """A database filled by collecting from the sandbox, and what was collected."""

    collector: Collector
    sandbox: Sandbox
    season: int
    responses: int

    @property
    def db(self) -> Database:
        return self.collector.db


def collect_season(collector: Collector, sandbox: Sandbox, season: int) -> int:
    """Fixtures of a season, details of the first DETAILS, the table; one simulated minute apart."""
    ctx = collector.context("test", "test", "HIGH")
    requests = [Request.of("fixtures", {"league": LEAGUE, "season": season})]
    ids = [f.id for f in sandbox.world.fixtures(LEAGUE, season)][:DETAILS]
    requests += [Request.of("fixtures", {"ids": ids[i : i + 20]}) for i in range(0, DETAILS, 20)]
    requests.append(Request.of("standings", {"league": LEAGUE, "season": season}))
    assert isinstance(sandbox.clock, SimClock)
    for request in requests:
        pipeline.step(ctx, request)
        sandbox.clock.advance(60)  # every response has its own fetched_at, so meta columns are telling
    return len(requests)


@pytest.fixture
def collected(db_url: str) -> Iterator[Collected]:
    clock = SimClock(START, speed=0)
    with start_sandbox(SandboxConfig(seed=42, plan="mega", rate_limit=False), clock=clock) as sandbox:
        settings = load_settings({}, api_key=sandbox.key, api_base_url=sandbox.url, database_url=db_url)
        collector = Collector.open(settings, clock=clock)
        season = sandbox.world.current_season(LEAGUE, START)
        responses = collect_season(collector, sandbox, season)
        yield Collected(collector, sandbox, season, responses)
        collector.close()


def tables(db: Database) -> list[str]:
    """Every core and mart table, by its logical name."""
    if db.backend == "sqlite":
        rows = db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                           "(name LIKE 'core\\_%' ESCAPE '\\' OR name LIKE 'mart\\_%' ESCAPE '\\')")
        return sorted(name.replace("_", ".", 1) for (name,) in rows)
    rows = db.fetchall("SELECT table_schema || '.' || table_name FROM information_schema.tables "
                       "WHERE table_schema IN ('core', 'mart') AND table_type = 'BASE TABLE'")
    return sorted(name for (name,) in rows)


def snapshot(db: Database) -> dict[str, list[str]]:
    """Every row of every core and mart table, all columns (updated_at and raw_id included)."""
    return {table: sorted(repr(sorted(row.items())) for row in db.fetch_dicts(f"SELECT * FROM {table}"))
            for table in tables(db)}


def wipe(db: Database) -> None:
    """Delete every core and mart row; raw stays."""
    names = tables(db)
    with db.transaction():
        if db.backend == "postgres":
            db.execute(f"TRUNCATE {', '.join(names)}")
        else:
            db.execute("PRAGMA defer_foreign_keys = ON")  # children and parents go in one transaction
            for table in names:
                db.execute(f"DELETE FROM {table}")


def count(db: Database, table: str) -> int:
    return scalar(db, f"SELECT count(*) FROM {table}")


def test_rebuild_equals_collect(collected: Collected) -> None:
    db, sandbox = collected.db, collected.sandbox
    before = snapshot(db)
    assert len(before["core.fixtures"]) == 380 and len(before["core.fixture_details"]) == DETAILS
    assert len(before["core.standings"]) == 20 and len(before["mart.daily_fixtures"]) == 380
    calls = sandbox.total_calls
    wipe(db)
    assert count(db, "core.fixtures") == 0 and count(db, "mart.daily_fixtures") == 0

    report = rebuild.rebuild(db, collected.collector.clock, batch_size=2)

    assert snapshot(db) == before
    assert sandbox.total_calls == calls  # no API call
    assert report.responses == collected.responses and report.batches == 2
    assert report.counts.inserted == sum(len(rows) for name, rows in before.items() if name.startswith("core."))
    assert report.counts.updated == 0 and report.quarantined == 0 and report.resolved == 0


def test_rebuild_over_collected_data_changes_nothing(collected: Collected) -> None:
    before = snapshot(collected.db)
    report = rebuild.rebuild(collected.db, collected.collector.clock)
    assert snapshot(collected.db) == before
    assert report.counts.inserted == 0 and report.counts.updated == 0 and report.counts.deleted == 0
    assert report.counts.unchanged > 400 and report.rows_per_second > 0


def test_a_transform_fix_corrects_only_the_affected_rows(collected: Collected,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    db = collected.db
    before = snapshot(db)
    original = standings_transform.standing_row

    def fixed(league_id: int, season: int, standing: dict, league: dict, batch: Any) -> dict:
        row = original(league_id, season, standing, league, batch)
        return row | {"description": "Champions"} if row["rank"] == 1 else row

    monkeypatch.setattr(standings_transform, "standing_row", fixed)
    report = rebuild.rebuild(db, collected.collector.clock)

    after = snapshot(db)
    changed = {t for t in before if before[t] != after[t]}
    assert changed == {"core.standings"}
    assert report.counts.updated == 1 and report.counts.inserted == 0 and report.counts.deleted == 0
    leader = db.fetch_dicts("SELECT description, raw_id FROM core.standings WHERE rank = 1")
    last_raw = scalar(db, "SELECT max(id) FROM raw.responses")
    assert leader == [{"description": "Champions", "raw_id": last_raw}]


def test_dry_run_counts_and_writes_nothing(collected: Collected) -> None:
    db = collected.db
    wipe(db)
    runs_before = count(db, "ops.job_runs")
    report = rebuild.rebuild(db, collected.collector.clock, dry_run=True)
    assert report.dry_run and report.responses == collected.responses
    assert report.counts.inserted > 380
    assert count(db, "core.fixtures") == 0 and count(db, "mart.daily_fixtures") == 0
    assert count(db, "ops.job_runs") == runs_before


def test_dry_runs_in_many_batches_then_a_rebuild_on_the_same_connection(collected: Collected) -> None:
    """Each dry batch rolls back, after which PostgreSQL's driver forgets the statements it prepared (a rebuild
    prepares them at their first run): the next batches, and a rebuild after, prepare them again and count alike."""
    db, clock = collected.db, collected.collector.clock
    wipe(db)
    dry = [rebuild.rebuild(db, clock, batch_size=2, dry_run=True) for _ in range(2)]
    done = rebuild.rebuild(db, clock, batch_size=2)
    wipe(db)
    again = rebuild.rebuild(db, clock, batch_size=2)
    assert dry[0].counts == dry[1].counts and dry[0].counts.inserted > 380
    assert done.counts == again.counts and done.counts.inserted > 380


def test_scope_filters(collected: Collected) -> None:
    db, clock, season = collected.db, collected.collector.clock, collected.season

    def run(scope: rebuild.Scope) -> int:
        return rebuild.rebuild(db, clock, scope, dry_run=True).responses

    assert run(rebuild.Scope(endpoint="standings")) == 1
    assert run(rebuild.Scope(endpoint="/fixtures")) == 3
    # ids= requests belong to the season through the fixtures they name
    assert run(rebuild.Scope(league=LEAGUE, season=season)) == collected.responses
    assert run(rebuild.Scope(league=LEAGUE, season=season - 1)) == 0
    assert run(rebuild.Scope(league=140)) == 0
    assert run(rebuild.Scope(since=date(2026, 6, 1))) == collected.responses
    assert run(rebuild.Scope(since=date(2026, 6, 2))) == 0


def test_a_league_season_rebuilds_from_scratch_with_its_details(collected: Collected) -> None:
    db = collected.db
    before = snapshot(db)
    wipe(db)  # core no longer knows the season's fixtures: the archived list names them
    report = rebuild.rebuild(db, collected.collector.clock, rebuild.Scope(league=LEAGUE, season=collected.season))
    assert report.responses == collected.responses
    assert snapshot(db) == before


def test_a_league_season_parses_each_body_once(collected: Collected, monkeypatch: pytest.MonkeyPatch) -> None:
    db = collected.db
    before = snapshot(db)
    wipe(db)
    parsed: list[int] = []

    def counted(text: str | bytes) -> Any:
        parsed.append(len(text))
        return parse(text)

    monkeypatch.setattr(rebuild, "parse", counted)
    report = rebuild.rebuild(db, collected.collector.clock, rebuild.Scope(league=LEAGUE, season=collected.season))
    # the season's list is parsed to find the fixtures its ids= answers name, and that parse is the one replayed
    assert report.responses == collected.responses and len(parsed) == collected.responses
    assert snapshot(db) == before


def test_no_garbage_collection_runs_while_a_response_is_written(collected: Collected,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    writing: list[bool] = []
    during: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and writing:
            during.append(info["generation"])

    def tracked(*args: Any, **kwargs: Any) -> Any:
        writing.append(True)
        try:
            return write_batch(*args, **kwargs)
        finally:
            writing.pop()

    monkeypatch.setattr(rebuild, "write_batch", tracked)
    wipe(collected.db)
    gc.callbacks.append(seen)
    try:
        rebuild.rebuild(collected.db, collected.collector.clock)
        assert gc.isenabled()
        gc.disable()  # a caller that paused the collector finds it paused still
        rebuild.rebuild(collected.db, collected.collector.clock)
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.callbacks.remove(seen)
    assert during == []


def test_rebuild_records_a_job_run(collected: Collected) -> None:
    report = rebuild.rebuild(collected.db, collected.collector.clock)
    run = collected.db.fetch_dicts("SELECT job_id, status, calls, rows_unchanged FROM ops.job_runs "
                                   "ORDER BY id DESC LIMIT 1")[0]
    assert run == {"job_id": "rebuild", "status": "ok", "calls": 0, "rows_unchanged": report.counts.unchanged}



def test_a_rebuild_stopped_mid_way_keeps_whole_batches_and_a_rerun_completes_it(collected: Collected,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    db = collected.db
    before = snapshot(db)
    wipe(db)
    written: list[Any] = []

    def failing_third(*args: Any, **kwargs: Any) -> Any:
        if len(written) == 2:  # the first response of the second batch: the database goes away
            raise DatabaseUnavailable("postgresql: server closed the connection unexpectedly")
        written.append(args[1])
        return write_batch(*args, **kwargs)

    monkeypatch.setattr(rebuild, "write_batch", failing_third)
    with pytest.raises(DatabaseUnavailable):
        rebuild.rebuild(db, collected.collector.clock, batch_size=2)

    # The first batch (the season's fixtures, the first 20 with details) is in, whole; nothing of the second.
    assert count(db, "core.fixtures") == 380 and count(db, "mart.daily_fixtures") == 380
    assert count(db, "core.fixture_details") == 20 and count(db, "core.standings") == 0
    run = db.fetch_dicts("SELECT status, error FROM ops.job_runs ORDER BY id DESC LIMIT 1")[0]
    assert run["status"] == "failed" and "server closed the connection" in run["error"]

    monkeypatch.setattr(rebuild, "write_batch", write_batch)
    report = rebuild.rebuild(db, collected.collector.clock, batch_size=2)  # rerunning is resuming
    assert snapshot(db) == before
    assert report.counts.inserted > 0 and report.counts.updated == 0

def test_batch_size_must_be_positive(db: Database, clock: SimClock) -> None:
    with pytest.raises(ConfigError, match="at least 1"):
        rebuild.rebuild(db, clock, batch_size=0)


# --- quarantine and failed answers, with scripted responses ----------------------------------

TEAMS = [{"team": {"id": i, "name": f"Team {i}", "code": None, "country": "England", "founded": 1900,
                   "national": False, "logo": None},
          "venue": {"id": None, "name": None, "address": None, "city": None, "capacity": None,
                    "surface": None, "image": None}} for i in (1, 2, 3)]


@pytest.fixture
def scripted(db_url: str, clock: SimClock) -> Iterator[Collector]:
    api = FakeApi({"teams": [Answer(200, envelope("teams", TEAMS)),
                             Answer(200, envelope("teams", [], errors={"search": "at least 3 characters"}))]})
    settings = load_settings({}, api_key=KEY, database_url=db_url)
    collector = Collector.open(settings, clock=clock, client=ApiClient("http://api.test", KEY, clock,
                                                                       transport=api.transport()))
    yield collector
    collector.close()


def test_quarantined_items_land_once_the_transform_is_fixed(scripted: Collector, clock: SimClock,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from afc import transform
    from afc.transform import reference

    db, ctx = scripted.db, scripted.context("test", "test", "LOW")
    original = reference.team

    def buggy(entry: Any, params: Any, batch: Any) -> None:
        if entry["team"]["id"] == 2:
            raise ItemInvalid("team 2: a bug")
        original(entry, params, batch)

    monkeypatch.setitem(transform.REGISTRY, "teams", transform.Transform(buggy, whole=False))
    pipeline.step(ctx, Request.of("teams", {"league": 39, "season": 2025}))
    assert count(db, "core.teams") == 2 and count(db, "ops.quarantine") == 1

    monkeypatch.setitem(transform.REGISTRY, "teams", transform.Transform(original, whole=False))
    clock.advance(3600)  # the collector's clock (the same fixture)
    report = rebuild.rebuild(db, scripted.clock)

    assert report.resolved == 1 and report.quarantined == 0 and report.counts.inserted == 2  # team + membership
    assert count(db, "core.teams") == 3
    row = db.fetch_dicts("SELECT item_index, resolved_at FROM ops.quarantine")[0]
    assert row["item_index"] == 1 and as_datetime(row["resolved_at"]) == datetime(2026, 11, 28, 13, 0, tzinfo=UTC)
    assert rebuild.rebuild(db, scripted.clock).resolved == 0  # resolved once


def test_an_item_that_fails_again_is_quarantined_without_duplicates(scripted: Collector,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from afc import transform
    from afc.transform import reference

    db = scripted.db
    pipeline.step(scripted.context("test", "test", "LOW"), Request.of("teams", {"league": 39, "season": 2025}))

    def broken(entry: Any, params: Any, batch: Any) -> None:
        if entry["team"]["id"] == 3:
            raise ItemInvalid("team 3: stricter now")
        reference.team(entry, params, batch)

    monkeypatch.setitem(transform.REGISTRY, "teams", transform.Transform(broken, whole=False))
    for _ in range(2):
        report = rebuild.rebuild(db, scripted.clock)
        assert report.quarantined == 1
    rows = db.fetch_dicts("SELECT item_index, reason, resolved_at FROM ops.quarantine")
    assert rows == [{"item_index": 2, "reason": "team 3: stricter now", "resolved_at": None}]
    assert count(db, "core.teams") == 3  # a quarantined item removes nothing already stored


def test_failed_answers_are_not_replayed(scripted: Collector) -> None:
    from afc.errors import ParameterError

    ctx = scripted.context("test", "test", "LOW")
    pipeline.step(ctx, Request.of("teams", {"league": 39, "season": 2025}))
    with pytest.raises(ParameterError):
        pipeline.step(ctx, Request.of("teams", {"search": "ab"}))
    assert count(scripted.db, "raw.responses") == 2
    report = rebuild.rebuild(scripted.db, scripted.clock, dry_run=True)
    assert report.responses == 1 and report.items == 3


def test_a_body_kept_as_text_is_replayed(db_url: str, clock: SimClock) -> None:
    teams = [TEAMS[0] | {"note": "nul \u0000 inside"}]  # PostgreSQL's jsonb cannot hold it: archived as text
    api = FakeApi({"teams": [Answer(200, envelope("teams", teams))]})
    collector = Collector.open(load_settings({}, api_key=KEY, database_url=db_url), clock=clock,
                               client=ApiClient("http://api.test", KEY, clock, transport=api.transport()))
    try:
        pipeline.step(collector.context("test", "test", "LOW"), Request.of("teams", {"id": 1}))
        kept_as_text = scalar(collector.db, "SELECT body IS NULL FROM raw.responses")
        assert bool(kept_as_text) == (collector.db.backend == "postgres")
        wipe(collector.db)
        report = rebuild.rebuild(collector.db, clock)
        assert report.responses == 1 and report.counts.inserted == 1
        assert scalar(collector.db, "SELECT name FROM core.teams") == "Team 1"
    finally:
        collector.close()



def test_detail_parts_are_written_as_collection_wrote_them(db_url: str, clock: SimClock) -> None:
    """PostgreSQL picks the parts from the archived jsonb, in collection and rebuild alike: a number the archive
    keeps as written (20.50; Python reads 20.5) stays so, and the stored text is the same byte for byte."""
    text = recorded("fixtures_id/footballay__fixtureByFixtureid.json")
    events = text.index('"events"')
    at = text.index('"elapsed": 20', events)
    text = text[:at] + '"elapsed": 20.50' + text[at + len('"elapsed": 20'):]
    api = FakeApi({"fixtures": [Answer(200, text)]})
    collector = Collector.open(load_settings({}, api_key=KEY, database_url=db_url), clock=clock,
                               client=ApiClient("http://api.test", KEY, clock, transport=api.transport()))
    parts = ("SELECT CAST(events AS text), CAST(lineups AS text), CAST(statistics AS text), CAST(players AS text), "
             "raw_id FROM core.fixture_details")
    try:
        pipeline.step(collector.context("test", "test", "LOW"), Request.of("fixtures", {"id": 1208397}))
        collected = collector.db.fetchall(parts)
        assert len(collected) == 1 and ('"elapsed": 20.50' if collector.db.backend == "postgres"
                                        else '"elapsed":20.5') in collected[0][0]
        wipe(collector.db)
        report = rebuild.rebuild(collector.db, clock)
        assert report.responses == 1 and report.counts.inserted > 0
        assert collector.db.fetchall(parts) == collected
    finally:
        collector.close()

def test_detailed_answers_are_read_slim_and_replay_as_collected(db_url: str, clock: SimClock,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL reads an ids= answer's players and events as markers ([] or [0]) and two-sided lineups as whether
    each side has a starting eleven; the rebuild still equals collection for parts that are full, empty or not lists
    (lineups of every shape among them), and a quarantined item is kept whole (its answer is read again in full)."""
    base = json.loads(recorded("fixtures_id/footballay__fixtureByFixtureid.json"))["response"][0]
    player = base["players"][0]["players"][0]["player"]["name"] = "Marker Player"  # ASCII: escaped alike anywhere
    starter = base["lineups"][0]["startXI"][0]["player"]["name"] = "Marker Starter"

    def item(fixture_id: int | None, **parts: Any) -> dict[str, Any]:
        entry = json.loads(json.dumps(base)) | parts
        entry["fixture"]["id"] = fixture_id
        return entry

    home, away = base["lineups"]
    slim = [item(1, events=base["events"]), item(2, players=[], events=[], lineups=[]),
            item(3, players=None, events={"not": "a list"}, lineups=[home, away | {"startXI": []}]),
            item(4, players="text", lineups=[home, "not a side"]),
            item(5, lineups=[{"coach": None}, away | {"startXI": {}}]), item(6, lineups=[home]),
            item(7, lineups=[home | {"startXI": "yes"}, away | {"startXI": 1}]),
            item(8, lineups=[home | {"startXI": 0}, away | {"startXI": {"a": 1}}]), item(9, lineups={"not": "a list"}),
            *(item(10 + n, lineups=[home | {"startXI": no}, away]) for n, no in enumerate((None, False, "", 0.0))),
            item(14, lineups=[home | {"startXI": True}, away | {"startXI": [0]}])]
    bad = [item(None)]  # no fixture id: quarantined, and kept whole
    api = FakeApi({"fixtures": [Answer(200, envelope("fixtures", slim)), Answer(200, envelope("fixtures", bad))]})
    collector = Collector.open(load_settings({}, api_key=KEY, database_url=db_url), clock=clock,
                               client=ApiClient("http://api.test", KEY, clock, transport=api.transport()))
    quarantine = "SELECT raw_id, item_index, CAST(item AS text), reason FROM ops.quarantine"
    try:
        ctx = collector.context("test", "test", "LOW")
        pipeline.step(ctx, Request.of("fixtures", {"ids": "-".join(map(str, range(1, 15)))}))
        clock.advance(60)
        pipeline.step(ctx, Request.of("fixtures", {"id": 5}))
        db = collector.db
        before, kept = snapshot(db), db.fetchall(quarantine)
        assert len(before["core.fixture_details"]) == 14 and len(before["mart.coverage_empty_details"]) == 1
        seen = db.fetchall("SELECT fixture_id FROM core.fixture_details WHERE lineups_seen_at IS NOT NULL")
        assert sorted(seen) == [(1,), (7,), (14,)]  # both sides with a true startXI
        assert len(kept) == 1 and player in kept[0][2]
        wipe(db)
        with db.transaction():
            db.execute("DELETE FROM ops.quarantine")  # rebuilt from the replayed item, not kept from collection
        parsed: list[bytes | str] = []

        def spy(text: bytes | str) -> Any:
            parsed.append(text)
            return parse(text)

        monkeypatch.setattr(rebuild, "parse", spy)

        report = rebuild.rebuild(db, clock)

        assert snapshot(db) == before and db.fetchall(quarantine) == kept
        assert report.responses == 2 and report.quarantined == 1
        texts = [t.decode() if isinstance(t, bytes) else t for t in parsed]
        read_slim = db.backend == "postgres"
        assert [player in t for t in texts] == ([False, False, True] if read_slim else [True, True])
        # home's lineup is in items 1, 3, 4 and 6; read slim, only item 6's (one side: not two) is read whole
        assert texts[0].count(starter) == (1 if read_slim else 4)
    finally:
        collector.close()


# --- the command line ------------------------------------------------------------------------


def test_cli_rebuild_needs_no_key(collected: Collected, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("API_FOOTBALL_KEY", raising=False)
    url = collected.db.url if collected.db.backend == "sqlite" else collected.collector.settings.db_url
    result = CliRunner().invoke(app, ["rebuild", "--db", url, "--endpoint", "standings"])
    assert result.exit_code == 0, result.output
    assert "rebuild: 1 responses, 1 items; rows 0 inserted, 0 updated" in result.stdout

    result = CliRunner().invoke(app, ["rebuild", "--db", url, "--json", "--dry-run", "--since", "2026-06-01"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["dry_run"] is True and data["responses"] == collected.responses and data["inserted"] == 0


def test_cli_rebuild_rejects_a_bad_date(sqlite_url: str) -> None:
    result = CliRunner().invoke(app, ["rebuild", "--db", sqlite_url, "--since", "01/06/2026"])
    assert result.exit_code == 2
    assert "Invalid value for '--since'" in result.output
