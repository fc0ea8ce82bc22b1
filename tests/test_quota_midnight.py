"""The ledger's truth around 00:00 UTC and after plan changes: the midnight rule, skewed hosts,
limits from headers in both directions, refused connections, the current season, quota messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from typer.testing import CliRunner

from afc.api.client import ApiClient, Request
from afc.cli import app
from afc.clock import SimClock, resume_after_midnight
from afc.collect import step as pipeline
from afc.collect.collector import Collector
from afc.collect.ledger import Ledger, Reservation
from afc.config.jobs import load
from afc.config.seasons import tracked_seasons
from afc.config.settings import Floors, Priority, load_settings
from afc.coverage import CoverageConfig
from afc.db import as_datetime
from afc.errors import NetworkError, QuotaExhausted
from afc.marts.coverage.measure import open_season
from afc.sandbox import SandboxConfig, start_sandbox
from afc.words import count_calls, plural
from tests.fakeapi import KEY

NO_FLOORS = Floors(CRITICAL=0, HIGH=0, MEDIUM=0, LOW=0)
OLD_DAY, NEW_DAY = datetime(2026, 11, 28, tzinfo=UTC), datetime(2026, 11, 29, tzinfo=UTC)
DAY_ROW = "SELECT used, exhausted_at, parked_until FROM ops.quota_days WHERE day = %(day)s"


def ledger(db, clock, daily=7500, floors=NO_FLOORS, **kw) -> Ledger:
    return Ledger(db, clock, account="acct", daily_limit=daily, minute_limit=1000, floors=floors, **kw)


def granted(book: Ledger, priority: Priority) -> Reservation:
    """A call the ledger grants (the tests never fill a minute)."""
    taken = book.reserve(priority)
    assert isinstance(taken, Reservation), taken
    return taken


def resumes(error: QuotaExhausted) -> datetime:
    """When a quota refusal says work resumes."""
    assert error.resume_at is not None
    return error.resume_at


def at(moment: datetime) -> SimClock:
    return SimClock(moment, speed=0)


def day_row(db, day: datetime) -> tuple:
    row = db.fetchone(DAY_ROW, {"day": day.date()})
    return (row[0], as_datetime(row[1]), as_datetime(row[2])) if row else (None, None, None)


# --- the example of issue #14 item 1, end to end over HTTP, both exhaustion forms, both backends ---

@pytest.mark.parametrize("quota_429", [False, True])
def test_an_exhaustion_just_after_midnight_parks_for_minutes_not_the_day(db_url, quota_429):
    api_clock = at(OLD_DAY + timedelta(hours=23, minutes=59, seconds=50))  # the API's day has not rolled over
    with start_sandbox(SandboxConfig(quota_429=quota_429), clock=api_clock) as sb:
        sb.set_quota_used(7500)
        env = {"AFC_DATABASE_URL": db_url, "API_FOOTBALL_KEY": sb.key, "AFC_API_BASE_URL": sb.url}

        def bootstrap(afc_now: str):
            return CliRunner().invoke(app, ["bootstrap", "timezone"], env=env | {"AFC_CLOCK": f"{afc_now}@0"})

        spent = bootstrap("2026-11-29T00:00:05Z")
        assert spent.exit_code == 75, spent.output
        assert "asking again at 00:02:05 UTC" in spent.stderr and "2026-11-30" not in spent.stderr
        assert sb.total_calls == 0  # the refusal was the only answer
        from afc.db import connect

        db = connect(db_url)
        try:
            used, exhausted, parked = day_row(db, NEW_DAY)
            assert (used, exhausted, parked) == (0, None, NEW_DAY + timedelta(minutes=2, seconds=5))

            still = bootstrap("2026-11-29T00:01:00Z")  # parked: our ledger refuses without asking
            assert still.exit_code == 75 and "asking again at 00:02:05 UTC" in still.stderr
            assert sb.total_calls == 0

            api_clock.set(NEW_DAY + timedelta(minutes=20))  # a fresh API day
            fresh = bootstrap("2026-11-29T00:20:00Z")
            assert fresh.exit_code == 0, fresh.output
            assert sb.total_calls == 1
            assert day_row(db, NEW_DAY)[:2] == (1, None)  # the old day's 7500 never landed in the new day
        finally:
            db.close()


# --- the ledger around midnight ---

def test_settle_near_midnight_does_not_carry_the_old_days_usage(db):
    clock = at(NEW_DAY + timedelta(seconds=5))
    book = ledger(db, clock)
    first = granted(book, "LOW")
    with db.transaction():  # the API still answers for the old day: 5000 used there
        book.settle(first, {"x-ratelimit-requests-limit": "7500", "x-ratelimit-requests-remaining": "2500"})
    status = book.status()
    assert (status.used_today, status.remaining_today, status.api_remaining) == (1, 7499, None)
    clock.set(NEW_DAY + timedelta(minutes=20))  # past the grace: the headers are the truth again
    later = granted(book, "LOW")
    with db.transaction():
        book.settle(later, {"x-ratelimit-requests-limit": "7500", "x-ratelimit-requests-remaining": "7490"})
    assert (book.status().used_today, book.status().api_remaining) == (10, 7490)


def test_a_call_reserved_before_midnight_settles_on_its_own_day(db):
    clock = at(NEW_DAY - timedelta(seconds=1))
    book = ledger(db, clock)
    late = granted(book, "LOW")
    clock.set(NEW_DAY + timedelta(seconds=1))
    with db.transaction():
        book.settle(late, {"x-ratelimit-requests-limit": "7500", "x-ratelimit-requests-remaining": "100"})
    assert day_row(db, OLD_DAY)[0] == 7400 and day_row(db, NEW_DAY)[0] is None
    assert book.status().used_today == 0


def test_skewed_hosts_sharing_one_ledger_do_not_poison_each_others_day(db):
    real = OLD_DAY + timedelta(hours=23, minutes=59, seconds=40)
    fast, slow = at(real + timedelta(seconds=30)), at(real - timedelta(seconds=30))
    fast_book, slow_book = ledger(db, fast), ledger(db, slow)

    spent_new = fast_book.exhaust(granted(fast_book, "CRITICAL"), "/status")  # 00:00:10 on the fast host
    assert resumes(spent_new) == NEW_DAY + timedelta(minutes=2, seconds=10)
    assert "asking again at 00:02:10 UTC" in str(spent_new)
    spent_old = slow_book.exhaust(granted(slow_book, "CRITICAL"), "/status")  # 23:59:10 on the slow host
    assert NEW_DAY + timedelta(seconds=30) <= resumes(spent_old) <= NEW_DAY + timedelta(seconds=60)

    assert day_row(db, NEW_DAY) == (0, None, NEW_DAY + timedelta(minutes=2, seconds=10))  # parked, not spent
    assert day_row(db, OLD_DAY)[1] is not None  # the old day is the one spent

    slow.set(NEW_DAY + timedelta(minutes=1))  # the slow host's midnight: the ledger says minutes, not the day
    with pytest.raises(QuotaExhausted, match="asking again at 00:02:10 UTC") as denied:
        granted(slow_book, "CRITICAL")
    assert resumes(denied.value) == NEW_DAY + timedelta(minutes=2, seconds=10)
    assert slow_book.status().parked_until == NEW_DAY + timedelta(minutes=2, seconds=10)
    slow.advance(70)
    fast.advance(180)
    assert isinstance(granted(slow_book, "CRITICAL"), Reservation)
    assert isinstance(granted(fast_book, "CRITICAL"), Reservation)
    assert slow_book.status().used_today == 2 and not slow_book.status().exhausted


def test_an_exhaustion_past_the_grace_parks_until_just_after_midnight(db):
    clock = at(NEW_DAY + timedelta(minutes=20))
    book = ledger(db, clock)
    spent = book.exhaust(granted(book, "LOW"), "/status")
    after = NEW_DAY + timedelta(days=1)
    assert after + timedelta(seconds=30) <= resumes(spent) <= after + timedelta(seconds=60)
    with pytest.raises(QuotaExhausted, match="the API says the daily quota is spent") as denied:
        granted(book, "CRITICAL")
    assert after < resumes(denied.value) <= after + timedelta(seconds=60)
    assert book.status().exhausted


def test_the_grace_is_configurable_and_zero_turns_it_off(db):
    clock = at(NEW_DAY + timedelta(seconds=5))
    book = ledger(db, clock, grace=timedelta(0))
    spent = book.exhaust(granted(book, "LOW"), "/status")
    assert resumes(spent) > NEW_DAY + timedelta(days=1) and book.status().exhausted
    assert load_settings({"AFC_MIDNIGHT_GRACE": "300"}).midnight_grace == 300


def test_resuming_after_midnight_has_a_margin_and_a_spread():
    wakes = {resume_after_midnight(OLD_DAY + timedelta(hours=23)) for _ in range(20)}
    assert all(NEW_DAY + timedelta(seconds=30) <= w <= NEW_DAY + timedelta(seconds=60) for w in wakes)
    assert len(wakes) > 1


# --- item 11: the limit follows the headers both ways; refused connections are not calls ---

def test_the_limit_rises_with_the_headers_after_an_upgrade(db, clock):
    book = ledger(db, clock, daily=7500)
    with db.transaction():  # on the Free plan until now
        book.settle(granted(book, "LOW"), {"x-ratelimit-requests-limit": "100", "x-ratelimit-requests-remaining": "60"})
    assert (book.status().daily_limit, book.status().remaining_today) == (100, 60)
    with db.transaction():  # upgraded: the API reports thousands left
        book.settle(granted(book, "LOW"), {"x-ratelimit-requests-limit": "75000",
                                          "x-ratelimit-requests-remaining": "74958"})
    status = book.status()
    assert (status.daily_limit, status.used_today, status.remaining_today) == (75000, 42, 74958)


def test_an_explicit_daily_limit_still_caps_what_afc_spends(db, clock):
    book = ledger(db, clock, daily=1000, daily_cap=1000)
    with db.transaction():
        book.settle(granted(book, "LOW"),
                    {"x-ratelimit-requests-limit": "7500", "x-ratelimit-requests-remaining": "7499"})
    assert (book.status().daily_limit, book.status().used_today) == (1000, 1)


@pytest.fixture
def collector_with(db_url, clock):
    opened = []

    def build(transport: httpx.BaseTransport | None, base_url: str = "http://api.test") -> Collector:
        conf = load_settings({}, api_key=KEY, database_url=db_url)
        collector = Collector.open(conf, clock=clock, client=ApiClient(base_url, KEY, clock, transport=transport))
        opened.append(collector)
        return collector

    yield build
    for c in opened:
        c.close()


def test_a_refused_connection_gives_its_quota_back(collector_with):
    collector = collector_with(None, "http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(NetworkError) as caught:
        pipeline.step(collector.context("test", "test", "LOW"), Request.of("countries"))
    assert caught.value.sent is False
    status = collector.ledger.status()
    assert (status.used_today, status.used_this_minute) == (0, 0)


def test_a_timeout_after_sending_stays_counted(collector_with):
    def late(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    collector = collector_with(httpx.MockTransport(late))
    with pytest.raises(NetworkError) as caught:
        pipeline.step(collector.context("test", "test", "LOW"), Request.of("countries"))
    assert caught.value.sent is True
    assert collector.ledger.status().used_today == 5  # every attempt may have been counted by the API


# --- item 12: the newest current season; messages that count right ---

def test_the_newest_current_season_is_tracked(db, tmp_path, clock):
    (tmp_path / "leagues.yaml").write_text("tracked:\n  - {league: 39, seasons: [current]}\n")
    (tmp_path / "jobs.yaml").write_text("jobs: []\n")
    now = clock.now()
    with db.transaction():
        db.execute("INSERT INTO core.leagues (id, name, updated_at) VALUES (39, 'Premier League', %s)", (now,))
        for season in (2026, 2024, 2025, 2023):  # the API left the flag on older seasons
            db.execute("INSERT INTO core.league_seasons (league_id, season, current, updated_at) "
                       "VALUES (39, %s, %s, %s)", (season, season != 2023, now))
    assert [(s.league, s.season) for s in tracked_seasons(load(tmp_path), db, now)] == [(39, 2026)]
    config = CoverageConfig()  # coverage calls only the newest one current too
    assert open_season(db, 39, 2026, now, config).current is True
    assert open_season(db, 39, 2025, now, config).current is False


def test_quota_messages_count_what_is_really_left(db, clock):
    book = ledger(db, clock, daily=10, floors=Floors(CRITICAL=0, HIGH=0, MEDIUM=0, LOW=1))
    for _ in range(9):
        granted(book, "LOW")
    with pytest.raises(QuotaExhausted, match="LOW work stops with 1 call left for higher priorities"):
        granted(book, "LOW")
    with db.transaction():  # the API says nothing is left: the floor is not what is left
        book.settle(granted(book, "CRITICAL"), {"x-ratelimit-requests-limit": "10",
                                               "x-ratelimit-requests-remaining": "0"})
    with pytest.raises(QuotaExhausted, match="quota: all 10 calls of today are spent"):
        granted(book, "LOW")


def test_a_one_call_plan_says_call_not_calls(db, clock):
    book = ledger(db, clock, daily=1)
    granted(book, "LOW")
    with pytest.raises(QuotaExhausted, match="quota: the 1 call of today is spent"):
        granted(book, "LOW")


def test_counted_nouns():
    assert [count_calls(n) for n in (0, 1, 2)] == ["0 calls", "1 call", "2 calls"]
    assert plural(1, "gap") == "1 gap" and plural(3, "gap") == "3 gaps"


def test_the_live_loop_parks_until_the_errors_resume_at_and_never_at_midnight_sharp(tmp_path):
    from afc.config.live import LiveConfig
    from afc.live.loop import LiveLoop

    clock = at(OLD_DAY + timedelta(hours=23, minutes=50))
    settings = load_settings({}, api_key=KEY, database_url=f"sqlite:///{tmp_path / 'afc.db'}", data_dir=tmp_path)
    loop = LiveLoop(settings, LiveConfig(), None, clock=clock)
    short = NEW_DAY + timedelta(minutes=2, seconds=5)
    loop._park(QuotaExhausted("a spent answer just after midnight", resume_at=short))
    assert loop.parked_until == short
    loop._park(QuotaExhausted("no resume time given"))
    assert NEW_DAY + timedelta(seconds=30) <= loop.parked_until <= NEW_DAY + timedelta(seconds=60)
