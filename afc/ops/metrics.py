"""Prometheus textfile metrics, rewritten atomically after every job group run.

Values come from the database (ops.job_runs, the quota ledger, breakers, heartbeats), so a failed
run keeps the previous success time and a lost file is whole again after the next run. One file
per group (`afc_job_<group>.prom`) plus `afc_state.prom`; node_exporter's textfile collector
reads them. Gauges only: each value describes the last run, not a running total.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from afc.collect import breaker, runs
from afc.collect.ledger import QuotaStatus
from afc.db import Database, as_datetime
from afc.notify import queue
from afc.ops import heartbeat
from afc.ops.whole import temporary_beside

METRICS: dict[str, str] = {
    "afc_job_last_run_timestamp_seconds": "Unix time the job's last run finished (started, while running).",
    "afc_job_last_success_timestamp_seconds": "Unix time the job last finished successfully.",
    "afc_job_last_duration_seconds": "Wall time of the job's last run.",
    "afc_job_last_success": "1 if the job's last run succeeded, else 0.",
    "afc_job_last_calls": "API calls the job's last run made.",
    "afc_job_last_rows_written": "Rows the job's last run inserted or changed.",
    "afc_job_last_quarantined": "Items the job's last run quarantined.",
    "afc_quota_remaining_today": "API calls left today (UTC) by the ledger.",
    "afc_quota_used_today": "API calls used today (UTC) by the ledger.",
    "afc_quota_daily_limit": "The daily call limit of the plan.",
    "afc_breaker_open": "1 while the endpoint's circuit breaker stops calls (open or half-open).",
    "afc_heartbeat_timestamp_seconds": "Unix time a long-running loop last reported alive.",
    "afc_live_last_tick_timestamp_seconds": "Unix time the live loop last stored a tick (matches followed).",
    "afc_live_fixtures_in_play": "Fixtures the live loop follows that are live or due to have kicked off.",
    "afc_notify_delivered_events": "Events delivered to the target (deliveries in state delivered).",
    "afc_notify_failed_attempts": "Failed delivery attempts to the target (of deliveries still kept).",
    "afc_notify_dead_letter_events": "Events dead-lettered for the target after the maximum attempts.",
    "afc_notify_pending_events": "Events waiting for delivery to the target.",
    "afc_notify_oldest_pending_age_seconds": "Age of the target's oldest event still waiting for delivery.",
}


Sample = tuple[str, dict[str, str], float | int | None]


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return f"{value:.3f}".rstrip("0")


def _sample(name: str, labels: dict[str, str], value: float) -> str:
    inner = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
    return f"{name}{{{inner}}} {_number(value)}"


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value else None


def render(samples: Iterable[tuple[str, dict[str, str], float | int | None]]) -> str:
    """Exposition text: each metric's HELP and TYPE once, then its samples; None values dropped."""
    by_name: dict[str, list[str]] = {}
    for name, labels, value in samples:
        if value is not None:
            by_name.setdefault(name, []).append(_sample(name, labels, value))
    lines = []
    for name, rows in by_name.items():
        lines += [f"# HELP {name} {METRICS[name]}", f"# TYPE {name} gauge", *rows]
    return "\n".join(lines) + "\n" if lines else ""


def job_samples(db: Database, group: str, job_ids: Iterable[str]) -> list[tuple[str, dict[str, str], float | None]]:
    """The last-run gauges of each job that has run at least once."""
    samples: list[tuple[str, dict[str, str], float | None]] = []
    for job_id in job_ids:
        row = runs.latest(db, job_id)
        if row is None:
            continue
        status, started, finished = row[0], as_datetime(row[1]), as_datetime(row[2])
        ok = runs.last_ok_at(db, job_id)
        labels = {"group": group, "job": job_id}
        duration = (finished - started).total_seconds() if started and finished else None
        samples += [
            ("afc_job_last_run_timestamp_seconds", labels, _ts(finished or started)),
            ("afc_job_last_success_timestamp_seconds", labels, _ts(as_datetime(ok)) if ok else None),
            ("afc_job_last_duration_seconds", labels, duration),
            ("afc_job_last_success", labels, 1 if status == "ok" else 0),
            ("afc_job_last_calls", labels, row[3]),
            ("afc_job_last_rows_written", labels, row[4]),
            ("afc_job_last_quarantined", labels, row[5]),
        ]
    return samples


def state_samples(db: Database, quota: QuotaStatus) -> list[tuple[str, dict[str, str], float | None]]:
    """Quota, breakers, heartbeats and the live loop's last tick: the state every group run (and the live loop, once
    a minute) refreshes."""
    account = {"account": quota.account}
    samples: list[tuple[str, dict[str, str], float | None]] = [
        ("afc_quota_remaining_today", account, quota.remaining_today),
        ("afc_quota_used_today", account, quota.used_today),
        ("afc_quota_daily_limit", account, quota.daily_limit),
    ]
    samples += [("afc_breaker_open", {"endpoint": s.endpoint}, 0 if s.state == "closed" else 1)
                for s in breaker.states(db)]
    live = {"loop": "live"}
    tick = heartbeat.last_tick(db)
    samples += [("afc_heartbeat_timestamp_seconds", live, _ts(heartbeat.last(db, heartbeat.LIVE))),
                ("afc_live_last_tick_timestamp_seconds", live, _ts(tick.at) if tick else None)]
    return samples


def notify_samples(db: Database, now: datetime,
                   targets: Iterable[str] = ()) -> list[tuple[str, dict[str, str], float | None]]:
    """Per notify target (those with deliveries, and `targets` at 0 until they have some): delivered,
    failed attempts, dead-lettered, pending and the oldest pending age."""
    samples: list[tuple[str, dict[str, str], float | None]] = []
    found = {c.target: c for c in queue.counts(db)}
    for c in [*found.values(), *(queue.TargetCounts(name) for name in targets if name not in found)]:
        labels = {"target": c.target}
        age = (now - c.oldest_pending).total_seconds() if c.oldest_pending else 0
        samples += [("afc_notify_delivered_events", labels, c.delivered),
                    ("afc_notify_failed_attempts", labels, c.failed_attempts),
                    ("afc_notify_dead_letter_events", labels, c.dead),
                    ("afc_notify_pending_events", labels, c.pending),
                    ("afc_notify_oldest_pending_age_seconds", labels, max(age, 0))]
    return samples


def write_textfile(path: Path, text: str) -> None:
    """Replace `path` atomically: a hidden temp file in the same directory, 0644, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with temporary_beside(path.parent, f".{path.name}.", ".tmp") as tmp:
        with tmp.open("w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # made 0600; node_exporter runs as another user
        os.replace(tmp, path)


def write_group(directory: Path, db: Database, group: str, job_ids: Iterable[str], quota: QuotaStatus,
                gauges: Iterable[Sample] = ()) -> list[Path]:
    """Rewrite the group's file (its jobs' gauges and any of the group's own) and the shared state file; returns
    the paths written."""
    job_file = directory / f"afc_job_{group}.prom"
    state_file = directory / "afc_state.prom"
    write_textfile(job_file, render([*job_samples(db, group, job_ids), *gauges]))
    write_textfile(state_file, render(state_samples(db, quota)))
    return [job_file, state_file]


def write_notify(directory: Path, db: Database, now: datetime, targets: Iterable[str]) -> Path:
    """Rewrite `afc_notify.prom` (the notify service calls this every few seconds)."""
    path = directory / "afc_notify.prom"
    write_textfile(path, render(notify_samples(db, now, targets)))
    return path
