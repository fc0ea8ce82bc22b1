"""One tick (a /fixtures?live= call) and the details fetches (/fixtures?ids=) that follow full time.

Each response is fetched through the pipeline (quota reserved at CRITICAL, retries, breaker) and
stored in one transaction together with the follow-up queue it changes: raw, core, the live score
panel, the run log, the quota settlement and the queue commit or roll back as one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from afc.api.client import Request
from afc.collect.step import Context, fetch, store
from afc.config.live import LiveConfig
from afc.live import followups
from afc.live.schedule import Schedule
from afc.transform import fixture_status as status
from afc.transform.fields import path

IDS_PER_CALL = 20


@dataclass(frozen=True)
class TickResult:
    """What one live call saw and queued."""

    in_play: int  # fixtures the live list shows
    ended: tuple[int, ...]  # finished, or gone from the list without a final status: details queued
    changed: int  # core rows inserted or updated


def live_request(leagues: list[int] | None) -> Request:
    """`/fixtures?live=39-140-…` for the followed leagues, or `live=all`."""
    return Request.of("fixtures", {"live": "all" if leagues is None else leagues})


def statuses(items: list[Any]) -> dict[int, str | None]:
    """Fixture id → status group of each item of a /fixtures answer (items without an id are skipped)."""
    found: dict[int, str | None] = {}
    for entry in items:
        fixture_id = path(entry, "fixture", "id")
        if isinstance(fixture_id, int):
            found[fixture_id] = status.group(path(entry, "fixture", "status", "short"))
    return found


def tick(ctx: Context, leagues: list[int] | None, schedule: Schedule) -> TickResult:
    """Poll the live list once; queue details for fixtures that finished or left the list."""
    response, reservation = fetch(ctx, live_request(leagues))
    seen = statuses(response.items)
    playing = [i for i, group in seen.items() if group == "live"]
    ended = {i for i, group in seen.items() if group != "live"} | {i for i in schedule.live if i not in seen}
    with ctx.db.transaction():
        result = store(ctx, response, reservation)
        followups.clear(ctx.db, playing)
        followups.queue(ctx.db, ended, ctx.clock.now())
    return TickResult(len(playing), tuple(sorted(ended)), result.counts.inserted + result.counts.updated)


def fetch_details(ctx: Context, batch: list[followups.Followup], live: LiveConfig) -> int:
    """One /fixtures?ids= call for up to 20 due fixtures; returns how many of them came back."""
    ids = [item.fixture_id for item in batch]
    response, reservation = fetch(ctx, Request.of("fixtures", {"ids": ids}))
    groups = statuses(response.items)
    with ctx.db.transaction():
        store(ctx, response, reservation)
        followups.settle(ctx.db, batch, groups, ctx.clock.now(), live)
    return len(groups)


def follow_up(ctx: Context, live: LiveConfig) -> int:
    """Fetch the details of every due fixture, 20 per call, at most `max_batches` calls; returns calls made."""
    calls = 0
    while calls < live.max_batches:
        batch = followups.due(ctx.db, ctx.clock.now(), IDS_PER_CALL)
        if not batch:
            break
        fetch_details(ctx, batch, live)
        calls += 1
    return calls

