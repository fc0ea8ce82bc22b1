"""The collection step: retries with quota per attempt, paging, and all-or-nothing storage."""

from __future__ import annotations

import json

import pytest

from afc.api.client import ApiClient, Request, Response
from afc.collect import step as pipeline
from afc.collect.collector import Collector
from afc.config.settings import load_settings
from afc.db import connect
from afc.errors import AuthError, DatabaseError, QuotaExhausted, ServerError
from tests.conftest import scalar
from tests.fakeapi import KEY, Answer, FakeApi, envelope, quota_headers

SERVER = {"message": "Something went wrong while fetching details. Try again later."}
DAILY = {"requests": "You have reached the request limit for the day, "
                     "Go to https://dashboard.api-football.com to upgrade your plan."}
FRANCE = envelope("countries", [{"name": "France", "code": "FR", "flag": "https://media.api-sports.io/flags/fr.svg"}])


@pytest.fixture
def make(db_url, clock):
    opened = []

    def build(routes: dict, **settings) -> tuple[Collector, FakeApi]:
        api = FakeApi(routes)
        conf = load_settings({}, api_key=KEY, database_url=db_url, **settings)
        collector = Collector.open(conf, clock=clock, client=ApiClient("http://api.test", KEY, clock,
                                                                         transport=api.transport()))
        opened.append(collector)
        return collector, api

    yield build
    for c in opened:
        c.close()


def count(db, table: str) -> int:
    return scalar(db, f"SELECT count(*) FROM {table}")


def test_transient_failures_are_retried_each_with_its_own_reservation(make):
    collector, api = make({"countries": [Answer(503, SERVER), Answer(200, envelope("countries", [], errors={
        "bug": "This is on our side", "time": "x", "report": "countries"})), Answer(200, FRANCE)]})
    ctx = collector.context("test", "test", "LOW")
    result = pipeline.step(ctx, Request.of("countries"))
    assert len(api.requests) == 3 and result.counts.inserted == 1
    assert collector.ledger.status().used_today >= 3
    statuses = collector.db.fetchall("SELECT status, errors IS NULL FROM raw.responses ORDER BY id")
    assert statuses == [(503, True), (200, False), (200, True)]  # every answer archived, errors kept
    assert scalar(collector.db, "SELECT name FROM core.countries") == "France"


def test_retries_give_up_after_five_attempts(make):
    collector, api = make({"countries": [Answer(500, SERVER)]})
    with pytest.raises(ServerError, match="HTTP 500"):
        pipeline.step(collector.context("test", "test", "LOW"), Request.of("countries"))
    assert len(api.requests) == 5 and count(collector.db, "core.countries") == 0


def test_fatal_errors_are_not_retried(make):
    bad_key = envelope("countries", [], errors={"token": "Error/Missing application key."})
    collector, api = make({"countries": [Answer(200, bad_key)]})
    with pytest.raises(AuthError):
        pipeline.step(collector.context("test", "test", "LOW"), Request.of("countries"))
    assert len(api.requests) == 1


def test_daily_exhaustion_parks_the_ledger_and_is_never_retried(make):
    collector, api = make({"countries": [Answer(200, envelope("countries", [], errors=DAILY), quota_headers(0))]})
    with pytest.raises(QuotaExhausted):
        pipeline.step(collector.context("test", "test", "LOW"), Request.of("countries"))
    assert len(api.requests) == 1 and collector.ledger.status().exhausted
    with pytest.raises(QuotaExhausted):  # the next call is refused by our ledger, without asking the API
        pipeline.step(collector.context("test", "test", "CRITICAL"), Request.of("countries"))
    assert len(api.requests) == 1


def test_the_minute_limit_waits_for_the_window(make, clock):
    limited = envelope("countries", [],
                       errors={"rateLimit": "Too many requests. Your rate limit is 10 requests per minute."})
    collector, api = make({"countries": [Answer(200, limited, quota_headers(5000, minute_left=0)),
                                         Answer(200, FRANCE)]})
    start = clock.now()
    pipeline.step(collector.context("test", "test", "LOW"), Request.of("countries"))
    assert len(api.requests) == 2 and (clock.now() - start).total_seconds() >= 60


def _players_page(query: dict) -> Answer:
    page = int(query.get("page", "1"))
    items = [{"player": {"id": page * 100 + i, "name": f"P{page}-{i}"}, "statistics": []} for i in range(2)]
    return Answer(200, envelope("players", items, paging=(page, 3)))


def test_paged_endpoints_are_followed_to_the_last_page_and_page_1_is_never_sent(make):
    collector, api = make({"players": _players_page})
    players = Request.of("players", {"league": 39, "season": 2023})
    results = list(pipeline.collect(collector.context("t", "t", "LOW"), players))
    assert [r.paging for r in results] == [(1, 3), (2, 3), (3, 3)]
    assert [q.get("page") for _, q, _ in api.requests] == [None, "2", "3"]


def test_non_paged_endpoints_are_called_once(make):
    collector, api = make({"countries": [Answer(200, envelope("countries", [], paging=(1, 4)))]})
    assert len(list(pipeline.collect(collector.context("t", "t", "LOW"), Request.of("countries")))) == 1
    assert "page" not in api.requests[0][1]


def test_a_failure_after_the_raw_insert_leaves_nothing_of_that_response(make, monkeypatch):
    collector, api = make({"countries": [Answer(200, FRANCE)]})
    ctx = collector.context("test", "test", "LOW")

    def explode(*args, **kwargs):
        raise DatabaseError("injected failure after the raw insert")

    monkeypatch.setattr(pipeline, "write_core", explode)
    with pytest.raises(DatabaseError, match="injected"):
        pipeline.step(ctx, Request.of("countries"))
    db = collector.db
    assert count(db, "raw.responses") == 0 and count(db, "core.countries") == 0
    assert scalar(db, "SELECT calls FROM ops.job_runs WHERE id = %s", (ctx.run_id,)) == 0
    assert collector.ledger.status().used_today == 1  # the reservation stands: under-spend, never over-spend


def test_store_is_one_transaction_on_a_second_connection_view(make, db_url):
    collector, api = make({"countries": [Answer(200, FRANCE)]})
    pipeline.step(collector.context("test", "test", "LOW"), Request.of("countries"))
    other = connect(db_url)
    assert scalar(other, "SELECT count(*) FROM core.countries") == 1
    assert scalar(other, "SELECT raw_id FROM core.countries") == scalar(other, "SELECT max(id) FROM raw.responses")
    other.close()


def test_a_bogus_page_total_stops_at_the_first_empty_page(make):
    """A total of 2^31 - 1 pages walked every page until the priority's floor: the day's quota for one request."""
    def bogus(query: dict) -> Answer:
        page = int(query.get("page", "1"))
        items = [{"player": {"id": 1, "name": "P"}, "statistics": []}] if page == 1 else []
        return Answer(200, envelope("players", items, paging=(page, 2**31 - 1)))

    collector, api = make({"players": bogus})
    players = Request.of("players", {"league": 39, "season": 2023})
    results = list(pipeline.collect(collector.context("t", "t", "LOW"), players))
    assert [r.paging for r in results] == [(1, 2**31 - 1), (2, 2**31 - 1)] and len(api.requests) == 2


def test_a_backfill_plans_no_more_pages_than_any_real_answer_has(db, clock):
    from afc.api.client import MAX_PAGES
    from afc.backfill import planner, tasks
    from afc.collect import raw

    plan = tasks.open_plan(db, 39, 2023, ("players",), False, clock.now())
    with db.transaction():
        tasks.add_tasks(db, plan, [planner.Spec("players", "players", {"league": "39", "season": "2023"})], clock.now())
    task = tasks.next_task(db)
    assert task is not None
    body = envelope("players", [{"player": {"id": 1}, "statistics": []}], paging=(1, 2**31 - 1))
    response = Response(Request.of("players", task.params), 200, {}, body, None, clock.now(), 1,
                        raw_text=json.dumps(body))
    with db.transaction():
        with raw.archiving(db, response, None) as archived:
            pass
        tasks.mark_done(db, task, archived.id, 1, clock.now())
        planner._expand_pages(db, plan, clock.now())
    pages = [t.page for t in tasks.tasks(db, plan.id)]
    assert pages == list(range(1, MAX_PAGES + 1))  # a total of 2^31 - 1 pages planned that many tasks
