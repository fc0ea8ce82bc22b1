"""Dry runs: what a job would request and what it would cost, without calling the API."""

from __future__ import annotations

from dataclasses import dataclass

from afc.api.client import PAGED, Request
from afc.collect.collector import Collector
from afc.db import Database
from afc.jobs.expand import expand

LAST_PAGES = """
SELECT paging_total FROM raw.responses WHERE endpoint = %s AND params = %s AND paging_total IS NOT NULL
ORDER BY id DESC LIMIT 1"""


@dataclass(frozen=True)
class RequestCost:
    """One request and its estimated cost in calls."""

    request: str
    calls: int
    paged: bool


@dataclass(frozen=True)
class DryRun:
    """A job's dry run."""

    job_id: str
    priority: str
    requests: list[RequestCost]
    calls: int
    available: int


def pages(db: Database, request: Request) -> int:
    """Calls a request costs: 1, or for paged endpoints the page count seen last time (else 1)."""
    if request.endpoint not in PAGED:
        return 1
    from afc.db import dump_json

    row = db.fetchone(LAST_PAGES, (request.endpoint, dump_json(request.query)))
    return max(1, int(row[0])) if row else 1


def dry_run(collector: Collector, job_id: str) -> DryRun:
    """The requests `job_id` would make now and their cost."""
    job = collector.config.job(job_id)
    requests = expand(job, collector.config, collector.db, collector.now())
    planned = [RequestCost(str(r), pages(collector.db, r), r.endpoint in PAGED) for r in requests]
    return DryRun(job.job_id, job.priority, planned, sum(p.calls for p in planned),
                   collector.ledger.available(job.priority))
