"""The pieces one afc process works with, built once from `Settings` at the edge."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from afc.api.client import ApiClient
from afc.clock import Clock, parse_clock
from afc.collect import runs
from afc.collect.ledger import Ledger
from afc.collect.step import Breaker, Context
from afc.config.jobs import JobConfig, load
from afc.config.settings import Priority, Settings
from afc.db import Database, connect
from afc.db.migrate import migrate


@dataclass
class Collector:
    """A database, a clock, the quota ledger, the job config and (on demand) the API client."""

    settings: Settings
    db: Database
    clock: Clock
    ledger: Ledger
    config: JobConfig
    breaker: Breaker | None = None
    _client: ApiClient | None = field(default=None, repr=False)

    @classmethod
    def open(cls, settings: Settings, *, clock: Clock | None = None, db: Database | None = None,
             client: ApiClient | None = None, auto_migrate: bool = True, create: bool = True) -> Collector:
        """Connect (migrating a new database) and load the jobs; the key is only needed to fetch. `create` False:
        a database that does not exist is DatabaseMissing (a command that only reads never creates one)."""
        config = load(settings.jobs_dir)
        clock = clock or parse_clock(settings.clock)
        db = db or connect(settings.db_url, display_tz=settings.display_tz, create=create)
        if auto_migrate:
            migrate(db)
            runs.close_orphans(db, clock.now())  # runs of this host whose process was killed
        daily, minute = settings.limits
        ledger = Ledger(db, clock, account=settings.account, daily_limit=daily, minute_limit=minute,
                        floors=settings.priority_floors, daily_cap=settings.daily_limit,
                        grace=timedelta(seconds=settings.midnight_grace))
        from afc.collect.breaker import DbBreaker

        return cls(settings, db, clock, ledger, config, DbBreaker.configured(db, clock, config), client)

    @property
    def client(self) -> ApiClient:
        """The API client (raises a one-line error when no key is configured)."""
        if self._client is None:
            self._client = ApiClient(self.settings.api_base_url, self.settings.require_key(), self.clock,
                                     timeout=self.settings.http_timeout, max_body=self.settings.max_body)
        return self._client

    def now(self) -> datetime:
        return self.clock.now()

    def context(self, job_id: str, command: str, priority: Priority) -> Context:
        """Start a run record and return the context its steps share."""
        client = self.client  # fails on a missing key before a run is recorded
        run_id = runs.start(self.db, job_id, command, self.clock.now())
        return Context(self.db, client, self.ledger, self.clock, run_id, priority, breaker=self.breaker)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self.db.close()
