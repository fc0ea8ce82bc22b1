"""The quota ledger: atomic across processes, per UTC day, settled from headers, priority floors."""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime, timedelta

import pytest

from afc.clock import SimClock
from afc.collect.ledger import Ledger, MinuteFull, Reservation
from afc.config.settings import Floors, Priority
from afc.db import connect
from afc.errors import QuotaExhausted

NO_FLOORS = Floors(CRITICAL=0, HIGH=0, MEDIUM=0, LOW=0)
MIDNIGHT = datetime(2026, 11, 29, tzinfo=UTC)


def ledger(db, clock, daily=10, minute=1000, floors=NO_FLOORS) -> Ledger:
    return Ledger(db, clock, account="acct", daily_limit=daily, minute_limit=minute, floors=floors)


def reserved(book: Ledger, priority: Priority = "LOW") -> Reservation:
    """One granted call (the tests that use it keep well inside the per-minute budget)."""
    result = book.reserve(priority)
    assert isinstance(result, Reservation), result
    return result


def grant_until_denied(db, book: Ledger, priority="LOW") -> int:
    granted = 0
    while True:
        try:
            result = book.reserve(priority)
        except QuotaExhausted:
            return granted
        assert isinstance(result, Reservation)
        granted += 1


def test_reserve_stops_exactly_at_the_limit(db, clock):
    book = ledger(db, clock, daily=7)
    assert grant_until_denied(db, book) == 7
    status = book.status()
    assert (status.used_today, status.remaining_today) == (7, 0)


def test_priority_floors_keep_calls_for_higher_priorities(db, clock):
    book = ledger(db, clock, daily=100, floors=Floors(CRITICAL=0, HIGH=10, MEDIUM=30, LOW=50))
    assert grant_until_denied(db, book, "LOW") == 50
    with pytest.raises(QuotaExhausted, match="LOW work stops with 50 calls left"):
        book.reserve("LOW")
    assert grant_until_denied(db, book, "MEDIUM") == 20
    assert grant_until_denied(db, book, "HIGH") == 20
    assert grant_until_denied(db, book, "CRITICAL") == 10
    assert book.available("CRITICAL") == 0


def test_a_new_utc_day_starts_fresh(db, clock):
    book = ledger(db, clock, daily=3)
    assert grant_until_denied(db, book) == 3
    clock.set(datetime(2026, 11, 28, 23, 59, 59, tzinfo=UTC))
    with pytest.raises(QuotaExhausted) as caught:
        book.reserve("LOW")
    # Just after midnight (a margin and a random spread), never exactly at 00:00:00.
    resume = caught.value.resume_at
    assert resume is not None and MIDNIGHT + timedelta(seconds=30) <= resume <= MIDNIGHT + timedelta(seconds=60)
    clock.set(datetime(2026, 11, 29, 0, 0, 1, tzinfo=UTC))
    assert grant_until_denied(db, book) == 3


def test_headers_lower_the_ledger_but_never_raise_it(db, clock):
    book = ledger(db, clock, daily=7500)
    first = reserved(book)
    with db.transaction():
        book.settle(first, {"x-ratelimit-requests-limit": "7500", "x-ratelimit-requests-remaining": "7000"})
    assert book.status().used_today == 500
    second = reserved(book)
    with db.transaction():
        book.settle(second, {"x-ratelimit-requests-limit": "7500", "x-ratelimit-requests-remaining": "7400"})
    assert book.status().used_today == 501  # our count (500 + this call) is higher: keep it
    assert book.status().api_remaining == 7400


def test_a_lower_plan_limit_in_the_headers_wins(db, clock):
    book = ledger(db, clock, daily=7500)
    first = reserved(book)
    with db.transaction():
        book.settle(first, {"x-ratelimit-requests-limit": "100", "x-ratelimit-requests-remaining": "98"})
    status = book.status()
    assert (status.daily_limit, status.used_today, status.remaining_today) == (100, 2, 98)


def test_daily_exhaustion_from_the_api_parks_everyone_until_midnight(db, clock):
    book = ledger(db, clock, daily=7500)
    book.exhaust(reserved(book).day)
    with pytest.raises(QuotaExhausted, match="the API says the daily quota is spent"):
        book.reserve("CRITICAL")
    assert book.status().exhausted is True
    clock.advance(12 * 3600)
    assert isinstance(book.reserve("LOW"), Reservation)


def test_a_full_minute_says_when_to_retry_and_keeps_the_daily_call(db, clock):
    book = ledger(db, clock, daily=100, minute=2)
    assert isinstance(book.reserve("LOW"), Reservation) and isinstance(book.reserve("LOW"), Reservation)
    full = book.reserve("LOW")
    assert isinstance(full, MinuteFull) and full.retry_at == datetime(2026, 11, 28, 12, 1, tzinfo=UTC)
    assert book.status().used_today == 2
    clock.advance(60)
    assert isinstance(book.reserve("LOW"), Reservation)


def test_a_lower_minute_limit_in_the_headers_bounds_the_rest_of_the_minute(db, clock):
    # Configured for pro (300 a minute) on a key whose plan allows 10: the ledger went on granting the 300
    # and every call past the tenth was a refused request (a 429 or errors.rateLimit) and a retry.
    book = ledger(db, clock, daily=7500, minute=300)
    first = reserved(book)
    with db.transaction():
        book.settle(first, {"x-ratelimit-limit": "10", "x-ratelimit-remaining": "9"})
    granted = 1
    while isinstance(book.reserve("LOW"), Reservation):
        granted += 1
    assert granted == 10
    assert book.status().used_today == 10  # the refused attempt gave its day's call back
    with db.transaction():  # an answer without the limit header does not raise it again
        book.settle(first, {"x-ratelimit-remaining": "0"})
    assert isinstance(book.reserve("LOW"), MinuteFull)
    clock.advance(60)
    assert isinstance(book.reserve("LOW"), Reservation)  # a new minute starts from the configured limit


def _worker(url: str, start: float, queue) -> None:
    clock = SimClock(datetime.fromtimestamp(start, UTC), speed=0)
    db = connect(url)
    book = ledger(db, clock, daily=40)
    queue.put(grant_until_denied(db, book))
    db.close()


def _race(url: str, processes: int, start: datetime) -> list[int]:
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    workers = [ctx.Process(target=_worker, args=(url, start.timestamp(), queue)) for _ in range(processes)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    return [queue.get(timeout=5) for _ in workers]


def test_many_processes_never_get_more_than_the_limit(db_url):
    counts = _race(db_url, 12, datetime(2026, 11, 28, 12, tzinfo=UTC))
    assert sum(counts) == 40
    assert sum(_race(db_url, 4, datetime(2026, 11, 28, 18, tzinfo=UTC))) == 0  # the same day stays spent
    next_day = _race(db_url, 6, datetime(2026, 11, 29, 0, 0, 5, tzinfo=UTC) + timedelta(seconds=1))
    assert sum(next_day) == 40


def _midnight_worker(url: str, spec: str, queue) -> None:
    from afc.clock import parse_clock

    clock = parse_clock(spec)
    db = connect(url)
    book = ledger(db, clock, daily=40)
    granted: dict[str, int] = {}
    end = datetime(2026, 11, 29, 0, 0, 3, tzinfo=UTC)
    while clock.now() < end:
        try:
            result = reserved(book)
        except QuotaExhausted:
            time.sleep(0.02)
            continue
        granted[result.day.isoformat()] = granted.get(result.day.isoformat(), 0) + 1
    queue.put(granted)
    db.close()


def test_sixteen_processes_across_an_injected_utc_midnight_get_exactly_the_limit_per_day(db_url):
    """The drill: 16 processes share one simulated timeline that crosses 00:00 UTC while they reserve."""
    clock = SimClock(datetime(2026, 11, 28, 23, 59, 58, tzinfo=UTC), speed=1)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    workers = [ctx.Process(target=_midnight_worker, args=(db_url, clock.spec(), queue)) for _ in range(16)]
    for w in workers:
        w.start()
    results = [queue.get(timeout=60) for _ in workers]
    for w in workers:
        w.join(10)
    per_day: dict[str, int] = {}
    for granted in results:
        for day, count in granted.items():
            per_day[day] = per_day.get(day, 0) + count
    assert per_day == {"2026-11-28": 40, "2026-11-29": 40}
