"""Run a rehearsal: the sandbox on a simulated clock, the hosts, the calendar of units, a report per day.

The install step runs first on host 1 (`afc bootstrap all`, then `afc backfill --from-gaps`, as
docs/rehearse.md describes); then every host starts its live service and its timers fire on their
calendars until the last day ends. At each 00:00 UTC the day is measured: afc's ledger, the sandbox's
own count, the failures, and the coverage of the tracked current seasons.
"""

from __future__ import annotations

import logging
import random
import resource
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path

import yaml

from afc.clock import utc_day
from afc.config.jobs import JobConfig, load
from afc.config.settings import PLANS, Settings, load_settings
from afc.db import as_date, as_datetime, connect, redact_url
from afc.db.migrate import migrate
from afc.rehearse.arenas import cap_arenas, map_large_blocks
from afc.rehearse.calendar import firings
from afc.rehearse.commands import check as check_command
from afc.rehearse.faults import Disruption, Profile, profile
from afc.rehearse.host import Event, Host
from afc.rehearse.meter import Meter
from afc.rehearse.options import Options, check
from afc.rehearse.outage import Relay
from afc.rehearse.report import DayReport, Rehearsal, judge
from afc.rehearse.sim import Simulation

INSTALL = (("bootstrap", "all"), ("backfill", "--from-gaps"))
LEDGER = "SELECT day, sum(used), max(exhausted_at) FROM ops.quota_days GROUP BY day"
# The client's timeout is real time, the rehearsal's is simulated: at 5 s, a large answer on a busy machine
# timed out now and then, so the same inputs made different calls. The sandbox's `timeout` fault ends the
# connection itself (after 0.2 s), so this bound only catches a sandbox that hangs.
HTTP_TIMEOUT = 300.0
EPSILON = timedelta(microseconds=1)


def workdir(data_dir: Path, options: Options) -> Path:
    """The rehearsal's own directory in the data directory (emptied first: it is a throwaway)."""
    path = data_dir / "rehearse" / f"{options.plan}-{options.start:%Y%m%dT%H%M}-{options.days}d"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def jobs_copy(config: JobConfig, leagues: tuple[int, ...] | None, target: Path) -> JobConfig:
    """The jobs directory copied into the rehearsal (with `--leagues` as its tracked list), loaded.

    The `alerts:` section stays behind: a rehearsal's failures must not page anyone.
    """
    target.mkdir()
    for path in sorted(config.directory.glob("*.y*ml")):
        data = yaml.safe_load(path.read_text()) or {}
        data.pop("alerts", None)
        if leagues is not None and "tracked" in data:
            data.pop("tracked")
        if data:
            (target / path.name).write_text(yaml.safe_dump(data, sort_keys=False))
    if leagues is not None:
        tracked = [{"league": league, "seasons": ["current"]} for league in leagues]
        (target / "zz-rehearse-leagues.yaml").write_text(yaml.safe_dump({"tracked": tracked}))
    return load(target)


def rehearse(options: Options, settings: Settings,
             progress: Callable[[int, int, DayReport], None] | None = None) -> Rehearsal:
    """Run the rehearsal `options` asks for; `settings` gives the data directory and the jobs directory."""
    from afc.sandbox import SandboxConfig, start_sandbox

    check(options)
    cap_arenas()
    map_large_blocks()
    began, cpu = time.perf_counter(), time.process_time()
    config = load(options.jobs_dir or settings.jobs_dir)
    work = workdir(Path(settings.data_dir), options)
    config = jobs_copy(config, options.leagues, work / "jobs")
    for found in firings(config, options.start, options.start + timedelta(days=1), options.seed):
        for args in found.timer.commands:
            check_command(args, f"afc-{found.name}.service")
    db_url = options.db_url or f"sqlite:///{work / 'rehearse.db'}"
    faults = profile(options.faults)
    sim = Simulation(options.start)
    cfg = SandboxConfig(plan=options.plan, faults=faults.rates, fault_seed=options.seed, timeout_seconds=0.2,
                        slow_seconds=(0.0, 0.02))
    with _logs_to(work / "rehearse.log"), _seeded(options.seed), start_sandbox(cfg, clock=sim.clock) as sandbox:
        meter = Meter(sandbox, sim.current)
        relay = Relay(db_url) if faults.name == "harsh" and db_url.startswith("postgres") else None
        try:
            events: list[Event] = []
            hosts = _hosts(options, sim, sandbox, relay.url if relay else db_url, work, config, events.append)
            _prepare(db_url)
            _plan(options, sim, hosts, config, faults, relay, events.append)
            days = _days(options, sim, hosts, meter, events, db_url, config, progress)
        finally:
            if relay is not None:
                relay.close()
    report = Rehearsal(options.plan, days, options.target, _peak_rss(), redact_url(db_url), time.perf_counter() - began,
                       strict_count=options.skew == 0,
                       cpu_seconds=time.process_time() - cpu)
    return judge(report)


def _hosts(options: Options, sim: Simulation, sandbox: object, db_url: str, work: Path, config: JobConfig,
           record: Callable[[Event], None]) -> list[Host]:
    hosts = []
    for index in range(1, options.hosts + 1):
        settings = load_settings({}, api_key=sandbox.key, api_base_url=sandbox.url,  # type: ignore[attr-defined]
                                 database_url=db_url, data_dir=work / f"host{index}", jobs_dir=config.directory,
                                 plan=options.plan, http_timeout=HTTP_TIMEOUT, log_format="text")
        skew = options.skew if index % 2 else -options.skew  # hosts alternate: +skew, -skew, +skew …
        hosts.append(Host(index, settings, skew, sim, record))
    return hosts


def _prepare(db_url: str) -> None:
    db = connect(db_url)
    try:
        migrate(db)
    finally:
        db.close()


def _plan(options: Options, sim: Simulation, hosts: list[Host], config: JobConfig, faults: Profile,
          relay: Relay | None, record: Callable[[Event], None]) -> None:
    """Queue the install, the live services, every timer start and the day's disruptions."""
    first = hosts[0]
    first.start_unit("install", "install", INSTALL, "6h")
    for host in hosts:
        host.start_live(options.start)
        for found in firings(config, options.start, options.end, options.seed + host.index):
            sim.at(found.at, partial(host.fire, found.timer))
    for offset in range(options.days):
        day = options.start.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=offset)
        for disruption in faults.disruptions(day, options.seed):
            if disruption.at < options.start or disruption.at >= options.end:
                continue
            if disruption.kind == "kill":
                sim.at(disruption.at, first.kill_live)
            elif relay is not None:
                sim.at(disruption.at, partial(_cut, relay, disruption, sim, record))
                sim.at(disruption.at + timedelta(minutes=disruption.minutes), relay.restore)


def _cut(relay: Relay, disruption: Disruption, sim: Simulation, record: Callable[[Event], None]) -> None:
    record(Event(sim.clock.now(), 0, "database", "db_outage", f"{disruption.minutes} minutes"))
    relay.cut()


def _days(options: Options, sim: Simulation, hosts: list[Host], meter: Meter, events: list[Event], db_url: str,
          config: JobConfig, progress: Callable[[int, int, DayReport], None] | None) -> list[DayReport]:
    reports: list[DayReport] = []
    cpu = [time.process_time()]

    def measure() -> None:
        meter.sandbox.api.requests.clear()  # the sandbox's request log (for tests) would grow to 100,000 entries
        day = utc_day(sim.clock.now() - EPSILON)
        reports.append(_measure(day, options, meter, events, db_url, config, sim.clock.now()))
        reports[-1].cpu_seconds = round(time.process_time() - cpu[0], 1)
        cpu[0] = time.process_time()
        if progress is not None:
            progress(len(reports), options.days, reports[-1])

    midnight = options.start.replace(hour=0, minute=0, second=0, microsecond=0)
    for offset in range(1, options.days):
        sim.at(midnight + timedelta(days=offset), measure)
    try:
        sim.run_until(options.end)
        measure()
        for host in hosts:
            host.stop_live()
    finally:
        sim.shutdown()
    return reports


def _measure(day: date, options: Options, meter: Meter, events: list[Event], db_url: str, config: JobConfig,
             now: datetime) -> DayReport:
    count = meter.close_day(day)
    db = connect(db_url)
    try:
        ledger = {as_date(d): (int(used or 0), as_datetime(ex)) for d, used, ex in db.fetchall(LEDGER)}
        coverage = _coverage(db, config, now)
    finally:
        db.close()
    calls = 0
    for booked, (used, _) in ledger.items():
        if booked is not None and _books(booked, day, options):
            calls += used
    exhausted = ledger.get(day, (0, None))[1]
    failures = Counter(count.faults)
    failures.update(e.kind for e in events if utc_day(e.at) == day and e.kind != "nothing_done")
    lost = count.by_group.get("daily", 0) == 0 or (exhausted is not None and not count.faults.get("refused_daily"))
    return DayReport(day, calls, PLANS[options.plan][0], count.peak_minute(), count.calls,
                     dict(count.by_group), dict(failures), coverage, lost, count.spent_at, _rss_mb())


def _books(booked: date, day: date, options: Options) -> bool:
    """Whether the ledger's count of `booked` belongs to the report's `day`: its own, and on the first and last
    day also what a skewed host booked on the day before or after the run (its clock said another day)."""
    return booked == day or (booked < day == utc_day(options.start)) or (booked > day == utc_day(options.end - EPSILON))


def _coverage(db: object, config: JobConfig, now: datetime) -> float:
    """The mean overall coverage of the tracked current seasons (0 when none is known yet)."""
    from afc.coverage import compute, coverage_config, select

    rows = compute(db, coverage_config(config), select(config, db, now), now)  # type: ignore[arg-type]
    scores = [r.overall_pct for r in rows if r.overall_pct is not None]
    return round(sum(scores) / len(scores), 1) if scores else 0.0


def _rss_mb() -> float:
    """The resident set size now, in MB (from /proc; the peak where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return _peak_rss()


def _peak_rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """The collector's jitter (retry back-off, the spread after 00:00 UTC) draws from `random`: seeded for
    the run, so the same inputs make the same calls at the same times. The caller's state comes back after."""
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)


@contextmanager
def _logs_to(path: Path) -> Iterator[None]:
    """afc's log lines go to the rehearsal's log file while it runs, not to the terminal."""
    logger = logging.getLogger("afc")
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    saved = (logger.handlers[:], logger.propagate, logger.level)
    logger.handlers, logger.propagate = [handler], False
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.handlers, logger.propagate = saved[0], saved[1]
        logger.setLevel(saved[2])
        handler.close()
