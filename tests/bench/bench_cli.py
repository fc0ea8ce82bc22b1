"""CLI cold start: `afc --help` wall time against a bare `python -c pass` (target ≤ 0.3 s).

    python tests/bench/bench_cli.py [--json] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

AFC = str(Path(sys.executable).with_name("afc"))


def wall(command: list[str], runs: int) -> float:
    """Median seconds for `command` to start and exit (after one warm-up run)."""
    subprocess.run(command, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(runs: int = 15) -> dict[str, Any]:
    """Medians measured side by side, and their ratio."""
    bare = wall([sys.executable, "-c", "pass"], runs)
    help_ = wall([AFC, "--help"], runs)
    version = wall([sys.executable, "-c", "import afc.cli"], runs)
    return {"afc_help_s": round(help_, 3), "import_cli_s": round(version, 3), "python_pass_s": round(bare, 3),
            "help_over_bare": round(help_ / bare, 1), "target_s": 0.3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    result = run(args.runs)
    if args.json:
        print(json.dumps(result))
        return
    print(f"afc --help {result['afc_help_s']} s (target {result['target_s']} s); import afc.cli "
          f"{result['import_cli_s']} s; python -c pass {result['python_pass_s']} s; "
          f"ratio {result['help_over_bare']}x")


if __name__ == "__main__":
    main()
