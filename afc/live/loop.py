"""The live loop: sleep while nothing is on, poll `/fixtures?live=` every interval while matches are.

Each iteration reads the schedule from core, ticks when fixtures are in play or about to kick off
and the interval has passed, fetches the details of fixtures that finished, then says when to look
again (clock time, not loop counts). Every failure it can outlive is handled here: the API failing
(back off, the pipeline's breaker and retries), the daily quota spent (park until 00:00 UTC), the
database gone (close, back off up to 30 s, reconnect). Only a rejected key or a bug in afc ends it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from afc.api.client import ApiClient
from afc.clock import Clock, next_utc_midnight, resume_after_midnight
from afc.collect import runs
from afc.collect.collector import Collector
from afc.collect.step import Context
from afc.config.live import LiveConfig
from afc.config.settings import Settings
from afc.errors import AfcError, AuthError, ConfigError, DatabaseError, LockHeld, LockLost, QuotaExhausted
from afc.live import followups, pace
from afc.live.matchday import MatchDay
from afc.live.schedule import Schedule, read, wake_at
from afc.live.stop import StopClock, Stopped
from afc.live.tick import follow_up, tick
from afc.ops import guard
from afc.ops.heartbeat import beat, follows, in_play, ticked
from afc.ops.metrics import Sample
from afc.ops.sdnotify import Notifier
from afc.redact import describe
from afc.words import count_calls

log = logging.getLogger("afc.live")
JOB_ID = "live_loop"
HEARTBEAT = "live"
DB_BACKOFF_CAP = 30.0
API_BACKOFF_CAP = 300.0
NEVER = datetime.min.replace(tzinfo=UTC)
STEP_BACK = timedelta(seconds=1)  # a smaller step back of the clock only delays what is due by as much
REPORT_EVERY = timedelta(minutes=1)  # metrics and alerts of the `live` group, as other groups write after a run


@dataclass
class LoopReport:
    """What the loop did (for `--once`, tests and the last status line)."""

    iterations: int = 0
    ticks: int = 0
    detail_calls: int = 0
    failures: int = 0
    reconnects: int = 0
    interval: int = 15
    in_play: int = 0
    state: str = "starting"  # polling | idle | quota | api-error | database | stopped
    next_wake: datetime | None = None
    matchday_calls: dict[str, int] = field(default_factory=dict)  # lineups, statistics, odds_live
    skipped: dict[str, int] = field(default_factory=dict)  # per kind: calls the quota could not pay for


class LiveLoop:
    """Follows the tracked leagues' matches in play until `stop` is set."""

    def __init__(self, settings: Settings, live: LiveConfig, leagues: list[int] | None, *, clock: Clock,
                 stop: threading.Event | None = None, notifier: Notifier | None = None,
                 client: ApiClient | None = None):
        self.settings, self.live, self.leagues = settings, live, leagues
        self.stop = stop or threading.Event()
        self.base_clock, self.clock = clock, StopClock(clock, self.stop)
        self.notifier = notifier or Notifier({})
        # An HTTP call never outlasts one interval, so a stop is honoured within one tick.
        timeout = min(settings.http_timeout, max(float(live.interval), 5.0))
        self.client = client or ApiClient(settings.api_base_url, settings.require_key(), clock, timeout=timeout,
                                           max_body=settings.max_body)
        self.collector: Collector | None = None
        self.run_id: int | None = None
        self.report = LoopReport(interval=live.interval)
        self.interval, self.next_tick = live.interval, NEVER
        self.parked_until: datetime | None = None
        self.last_now = NEVER  # the clock at the last iteration: a step back re-anchors what was due
        self.ready, self.api_failures, self.db_failures = False, 0, 0
        self.reported = NEVER
        self.matchday = MatchDay(live, leagues)

    def run(self, once: bool = False) -> LoopReport:
        """Iterate until stopped (or once); always ends with STOPPING=1 and the run record closed."""
        try:
            while not self.stop.is_set():
                wait = self._iterate()
                self._report()
                if once:
                    break
                self.clock.sleep(self._cap(wait))
        except Stopped:
            pass
        finally:
            self._shutdown()
        return self.report

    def _cap(self, wait: float) -> float:
        cap = float(self.live.max_sleep)
        if self.notifier.watchdog_seconds:
            cap = min(cap, self.notifier.watchdog_seconds / 2)
        return max(0.0, min(wait, cap))

    def _iterate(self) -> float:
        self.report.iterations += 1
        try:
            wait = self._work()
        except Stopped:
            raise
        except AuthError as exc:  # a person must fix the key: exit 2, which systemd does not restart
            raise ConfigError(str(exc)) from None
        except ConfigError:  # a person must fix it (a schema newer than this afc): exit 2, not a retry every 15 s
            raise
        except LockHeld:  # the lock was lost to another loop (LockLost): it follows the matches now
            raise
        except QuotaExhausted as exc:
            return self._park(exc)
        except DatabaseError as exc:
            return self._database_down(exc)
        except AfcError as exc:
            return self._failed(str(exc), healthy=True)
        except Exception as exc:  # a bug in afc: say so with the traceback, stop pinging the watchdog
            log.error("live: unexpected %s", type(exc).__name__, exc_info=True)
            return self._failed(describe(exc), healthy=False)
        self.db_failures = 0
        return wait

    def _connect(self) -> Collector:
        if self.collector is None:
            self.collector = Collector.open(self.settings, clock=self.base_clock, client=self.client)
            if self.db_failures:
                self.report.reconnects += 1
                log.info("live: database reachable again")
        if not self.ready:
            follows(self.collector.db, self.clock.now(), self.leagues)  # for `afc health`; again if it fails
            self.ready = True
            following = "all leagues" if self.leagues is None else "leagues " + ", ".join(map(str, self.leagues))
            self.notifier.ready(f"following {following}")
            log.info("live: following %s, every %d s while matches are on", following, self.live.interval)
        return self.collector

    def _work(self) -> float:
        collector = self._connect()
        now = self.clock.now()
        if now + STEP_BACK < self.last_now:
            self._clock_went_back(now)
        self.last_now = now
        if self.parked_until is not None and now < self.parked_until:
            self._alive(collector, "quota", f"daily quota spent; resumes at {self.parked_until:%H:%M} UTC")
            return (self.parked_until - now).total_seconds()
        self.parked_until = None
        schedule = read(collector.db, self.leagues, now, self.live)
        if schedule.expired:
            with collector.db.transaction():
                followups.queue(collector.db, schedule.expired, now)
        if schedule.awake and now >= self.next_tick:
            self._tick(collector, schedule)
        if followups.due(collector.db, self.clock.now(), 1):
            self.report.detail_calls += follow_up(self._context(collector), self.live)
        self._matchday(collector, schedule)
        return self._next(collector, schedule)

    def _clock_went_back(self, now: datetime) -> None:
        """The host's clock stepped back (NTP, a VM restored): the next tick, the match-day fetches and a
        failure's back-off were set by the later time and would wait the step out (an hour back: an hour of a
        match unfollowed). What was due by then is due now; a quota park keeps its time (the ledger decides)."""
        log.warning("live: the clock went back %.0f s (%s UTC); what was due is due now",
                    (self.last_now - now).total_seconds(), f"{now:%H:%M:%S}")
        self.next_tick = min(self.next_tick, now)
        self.matchday.due = {kind: min(at, now) for kind, at in self.matchday.due.items()}

    def _matchday(self, collector: Collector, schedule: Schedule) -> None:
        """Lineups before kickoff, statistics and live odds in play, as far as the quota allows."""
        self.matchday.run(collector.db, lambda: self._context(collector), schedule, self.interval)
        tally = self.matchday.tally
        self.report.matchday_calls, self.report.skipped = dict(tally.made), dict(tally.skipped)

    def _context(self, collector: Collector) -> Context:
        if self.run_id is None:
            self.run_id = runs.start(collector.db, JOB_ID, "live-loop", self.clock.now())
        return Context(collector.db, self.client, collector.ledger, self.clock, self.run_id, "CRITICAL",
                       attempts=3, breaker=collector.breaker)

    def _tick(self, collector: Collector, schedule: Schedule) -> None:
        ctx = self._context(collector)
        self._pace(collector, schedule)
        started = self.clock.now()
        result = tick(ctx, self.leagues, schedule)
        ticked(collector.db, self.clock.now(), self.interval)
        self.next_tick = started + timedelta(seconds=self.interval)
        self.report.ticks += 1
        self.report.in_play = result.in_play
        self.api_failures = 0
        for fixture_id in result.ended:
            log.info("live: fixture %d finished or left the live list; fetching its details", fixture_id)

    def _pace(self, collector: Collector, schedule: Schedule) -> None:
        """Lengthen the interval when today's quota cannot sustain it (and say so once)."""
        now = schedule.now
        spans = pace.windows(schedule.today, self.live.lead, self.live.match_length)
        seconds = pace.merged_seconds(spans, now, next_utc_midnight(now))
        budget = pace.plan(seconds, len(schedule.today), collector.ledger.available("CRITICAL"), self.live.interval)
        if budget.interval != self.interval:
            if budget.interval > self.live.interval:
                log.warning("live: %s left today for %.0f min of matches (%d needed); polling every %d s "
                            "instead of %d s", count_calls(budget.available), seconds / 60, budget.calls,
                            budget.interval, self.live.interval)
            else:
                log.info("live: the quota covers the rest of the day again; polling every %d s", budget.interval)
            self.interval = self.report.interval = budget.interval

    def _next(self, collector: Collector, schedule: Schedule) -> float:
        now = self.clock.now()
        due = followups.next_due(collector.db)
        if schedule.awake and self.api_failures:  # woken during a failure's back-off: alive, still failing
            wake = min(self.next_tick, due) if due else self.next_tick
            self._alive(collector, "api-error", f"API failing ({self.api_failures}x); next try at "
                                                f"{self.next_tick:%H:%M:%S}")
        elif schedule.awake:
            wake = min(self.next_tick, due) if due else self.next_tick
            self._enter("polling", f"live: {len(schedule.awake)} fixtures in play or about to kick off; "
                                   f"polling every {self.interval} s")
            self._alive(collector, "polling", f"{self.report.in_play} in play, every {self.interval} s, "
                                              f"last tick {now:%H:%M:%S}")
        else:
            if not self.matchday.before_kickoff(schedule):  # lineup checks and the matches after: one run
                self._end_session(collector)
            wake = wake_at(schedule, due, self.live)
            lineups = self.matchday.next_wake(schedule)
            wake = max(now, min(wake, lineups)) if lineups else wake
            kickoff = f"{schedule.next_kickoff:%Y-%m-%d %H:%M} UTC" if schedule.next_kickoff else "none scheduled"
            self._enter("idle", f"live: nothing in play; next kickoff {kickoff}; no calls until then")
            self._alive(collector, "idle", f"idle; next kickoff {kickoff}")
        self.report.next_wake = wake
        return (wake - now).total_seconds()

    def _enter(self, state: str, message: str) -> None:
        if self.report.state != state:
            log.info("%s", message)
        self.report.state = state

    def _alive(self, collector: Collector, state: str, status: str) -> None:
        """A good iteration: heartbeat for `afc health`, then the systemd watchdog."""
        beat(collector.db, HEARTBEAT, self.clock.now(), state)
        self.report.state = state
        self.notifier.watchdog(status)

    def _end_session(self, collector: Collector, status: str = "ok", error: str | None = None) -> None:
        if self.run_id is not None:
            now = self.clock.now()
            runs.finish(collector.db, self.run_id, status, now, error)
            self.run_id = None
            with collector.db.transaction():
                followups.forget(collector.db, now)

    def _park(self, exc: QuotaExhausted) -> float:
        now = self.clock.now()
        # The error says when: minutes after an exhaustion just past 00:00 UTC, else just after midnight.
        self.parked_until = exc.resume_at or resume_after_midnight(now)
        log.warning("live: %s; no calls until then", exc)
        if self.collector is not None and self.run_id is not None:
            self._end_session(self.collector, "quota", str(exc))
        self.report.state = "quota"
        self.notifier.watchdog(f"daily quota spent; resumes at {self.parked_until:%H:%M} UTC")
        return 0.0

    def _failed(self, message: str, *, healthy: bool) -> float:
        """A tick that failed: one log line, back off (doubling, capped), keep looping."""
        self.api_failures += 1
        self.report.failures += 1
        delay = min(self.interval * 2 ** (self.api_failures - 1), API_BACKOFF_CAP)
        self.next_tick = self.clock.now() + timedelta(seconds=delay)
        log.warning("live: tick failed (%s); next try in %.0f s", message, delay)
        self.report.state = "api-error" if healthy else "error"
        if self.collector is not None:
            with contextlib.suppress(AfcError):  # alive but failing, for `afc health`; a lost beat is no news
                beat(self.collector.db, HEARTBEAT, self.clock.now(), self.report.state)
        if healthy:  # the API is failing, not the loop: a restart would only spend quota
            self.notifier.watchdog(f"API failing ({self.api_failures}x); next try in {delay:.0f} s")
        return delay

    def _report(self) -> None:
        """The `live` group's metrics and alerts, at most once a minute (errors are logged by the guard)."""
        now = self.clock.now()
        if self.collector is None or now - self.reported < REPORT_EVERY:
            return
        self.reported = now
        with contextlib.suppress(AfcError):  # the database went away since the iteration: next time
            playing = in_play(self.collector.db, now, self.leagues).fixtures
            gauges: list[Sample] = [("afc_live_fixtures_in_play", {"loop": "live"}, playing)]
            guard.after(self.collector, guard.GroupRun("live", now, [guard.Outcome(JOB_ID)], gauges=gauges))

    def _database_down(self, exc: DatabaseError) -> float:
        """Close the connection, wait (1, 2, 4 … 30 s), and reconnect on the next iteration."""
        self.db_failures += 1
        delay = min(2.0 ** (self.db_failures - 1), DB_BACKOFF_CAP)
        log.warning("live: database unavailable (%s); retrying in %.0f s", exc, delay)
        self._drop_connection()
        self.report.state = "database"
        status = f"waiting for the database; retrying in {delay:.0f} s"
        if self.ready:  # a deliberate wait: restarting would not bring the database back
            self.notifier.watchdog(status)
        else:
            self.notifier.extend_timeout(delay + 30, status)
        return delay

    def _drop_connection(self) -> None:
        if self.collector is not None:
            with contextlib.suppress(Exception):  # the connection is broken anyway; closing is best effort
                self.collector.db.close()
            self.collector = None

    def _shutdown(self) -> None:
        self.notifier.stopping("stopping")
        if self.collector is not None:
            try:
                self._end_session(self.collector)
                beat(self.collector.db, HEARTBEAT, self.clock.now(), "stopped")
            except DatabaseError as exc:
                log.warning("live: could not record the stop (%s)", exc)
            except LockLost:
                pass  # another loop holds the lock: this one writes nothing more, its run is closed as orphaned
            self._drop_connection()
        self.client.close()
        self.report.state = "stopped"
