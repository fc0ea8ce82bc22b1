"""What a whole match day costs per kind of call, for 1, 5, every league of the sandbox and 20 leagues.

For each set of tracked leagues: `afc daily` runs at 06:00 UTC the day before and on the day (its
predictions job asks for the day's fixtures ahead and once more on match day), then the live loop
follows the day (sandbox seed 42, Saturday 2026-11-28) from 00:00 to 23:59 with the shipped defaults:
the live list every 15 s, lineups every 5 min from 40 min before kickoff, statistics every 5 min in
play, and live odds every 60 s with every tracked league opted in. Each kind's calls are reported next
to the plan's figure (`afc live-loop --dry-run`) for the same day. The sandbox serves just enough
synthetic leagues (`SandboxConfig.extra_leagues`, ids 9001..) for a set to exist: 20 leagues are its 8
and 12 synthetic ones.

    python tests/bench/bench_matchday.py [--json] [--leagues 39 39,140,135,78,88 ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from afc.clock import SimClock  # noqa: E402
from afc.collect.collector import Collector  # noqa: E402
from afc.config.live import LiveConfig  # noqa: E402
from afc.config.settings import load_settings  # noqa: E402
from afc.jobs.daily import daily  # noqa: E402
from afc.live.loop import LiveLoop  # noqa: E402
from afc.live.plan import match_day  # noqa: E402
from tests.live_support import UntilClock  # noqa: E402

DAY = datetime(2026, 11, 28, tzinfo=UTC)
EIGHT = [39, 140, 135, 78, 61, 88, 144, 2]
SETS = ([39], [39, 140, 135, 78, 88], EIGHT, EIGHT + list(range(9001, 9013)))


def jobs_dir(tmp: Path, leagues: list[int]) -> Path:
    """The shipped job files with `tracked:` set to `leagues`."""
    shipped = ROOT / "jobs"
    directory = tmp / "jobs"
    directory.mkdir()
    for name in ("daily.yaml", "live.yaml"):
        (directory / name).write_text((shipped / name).read_text())
    (directory / "leagues.yaml").write_text("tracked:\n" + "".join(f"  - league: {lg}\n" for lg in leagues))
    return directory


def measure(leagues: list[int]) -> dict[str, Any]:
    """One simulated match day for these tracked leagues; calls per kind, measured and planned."""
    from afc.sandbox import SandboxConfig, start_sandbox

    clock = SimClock(DAY - timedelta(hours=18), speed=0)
    cfg = SandboxConfig(seed=42, plan="mega", extra_leagues=max(0, *(lg - 9000 for lg in leagues)))
    with tempfile.TemporaryDirectory() as tmp, start_sandbox(cfg, clock=clock) as sb:
        settings = load_settings({}, api_key=sb.key, api_base_url=sb.url, database_url=f"sqlite:///{tmp}/afc.db",
                                 data_dir=tmp, jobs_dir=jobs_dir(Path(tmp), leagues))
        fixtures = {f.id for f in sb.world.fixtures_between(DAY, DAY + timedelta(days=1), leagues)}
        predictions = 0
        for at in (DAY - timedelta(hours=18), DAY + timedelta(hours=6)):
            clock.set(at)
            sb.reset_counters()
            collector = Collector.open(settings, clock=clock)
            try:
                daily(collector)
                if at < DAY:  # the day's plan, from the schedule the day before left in core
                    planned = match_day(collector.db, LiveConfig(odds_live=leagues), leagues, DAY, 0).calls
            finally:
                collector.close()
            predictions += sum(1 for endpoint, params in sb.requests
                               if endpoint == "predictions" and int(params["fixture"]) in fixtures)
        clock.set(DAY)
        stop, started = threading.Event(), time.perf_counter()
        report = LiveLoop(settings, LiveConfig(odds_live=leagues), leagues,
                          clock=UntilClock(clock, DAY + timedelta(hours=23, minutes=59), stop), stop=stop).run()
        made = {"live": report.ticks, "details": report.detail_calls, **report.matchday_calls,
                "predictions": predictions}
        return {"leagues": len(leagues), "fixtures": len(fixtures), "calls": made, "planned": planned,
                "total": sum(made.values()), "skipped": report.skipped,
                "wall_seconds": round(time.perf_counter() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--leagues", nargs="*", help="league sets such as 39 or 39,140 (default: 1, 5, all 8 and 20)")
    args = parser.parse_args()
    sets = [[int(x) for x in s.split(",")] for s in args.leagues] if args.leagues else list(SETS)
    results = [measure(leagues) for leagues in sets]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for r in results:
        kinds = ", ".join(f"{k} {v} (plan {r['planned'].get(k, '-')})" for k, v in r["calls"].items())
        print(f"{r['leagues']} leagues, {r['fixtures']} fixtures: {r['total']} calls — {kinds}; "
              f"skipped {r['skipped'] or 'none'}; {r['wall_seconds']} s")


if __name__ == "__main__":
    main()
