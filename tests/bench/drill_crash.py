"""The long crash-consistency drill: kill -9 the backfill and the live loop at many random points.

    .venv/bin/python -m tests.bench.drill_crash [--kills 10]

Runs the suite's kill drills (tests/test_backfill_kill.py, tests/test_drills_crash.py) with more
kills each, on both backends: with the default 10, that is 10 backfill kills and 10 live-loop kills
per backend (40 in all), every resume checked against an uninterrupted run's end state.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10, help="kills per drill and backend (at most 14)")
    args = parser.parse_args()
    env = os.environ | {"AFC_DRILL_KILLS": str(args.kills)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "tests/test_backfill_kill.py::test_kill_9_at_random_points_then_resume",
               "tests/test_drills_crash.py"]
    sys.exit(subprocess.run(command, cwd=ROOT, env=env).returncode)


if __name__ == "__main__":
    main()
