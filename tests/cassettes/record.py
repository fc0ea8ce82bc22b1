"""Re-record the cassettes from the built-in sandbox (never the real API), the key header filtered.

    .venv/bin/python -m tests.cassettes.record
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import vcr

from afc.api.client import ApiClient, Request
from afc.clock import SimClock
from afc.sandbox import SandboxConfig, start_sandbox

HERE = Path(__file__).resolve().parent
CASSETTE = HERE / "bootstrap_reference.yaml"
HOST = "http://127.0.0.1:8099"  # the address the cassette records; replay needs no server
REQUESTS = [Request.of("countries"), Request.of("leagues", {"id": 39}),
            Request.of("teams", {"league": 39, "season": 2026}), Request.of("status")]
FILTER = {"filter_headers": [("x-apisports-key", "REDACTED"), ("x-rapidapi-key", "REDACTED")],
          "decode_compressed_response": True}


def main() -> None:
    clock = SimClock(datetime(2026, 11, 28, 12, tzinfo=UTC), speed=0)
    CASSETTE.unlink(missing_ok=True)
    with start_sandbox(SandboxConfig(), clock=clock, port=8099) as sb, \
            vcr.use_cassette(str(CASSETTE), record_mode="all", **FILTER):
        client = ApiClient(sb.url, sb.key, clock)
        for request in REQUESTS:
            client.get(request)
        client.close()
    print(f"recorded {len(REQUESTS)} interactions into {CASSETTE}")


if __name__ == "__main__":
    main()
