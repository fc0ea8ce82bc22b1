"""The job-group guard: lock, then metrics and alerts after the run, none of which can fail it."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from afc.api.client import ApiClient
from afc.collect.collector import Collector
from afc.config.settings import load_settings
from afc.errors import LockHeld
from afc.jobs.bootstrap import bootstrap
from afc.ops.guard import job_group
from tests.conftest import ROOT, scalar
from tests.fakeapi import KEY, REFERENCE_ROUTES, Answer, FakeApi
from tests.opsfakes import webhook_receiver


def jobs_dir(tmp_path: Path, alerts: str = "") -> Path:
    directory = tmp_path / "jobs"
    directory.mkdir(exist_ok=True)
    for name in ("bootstrap.yaml", "leagues.yaml", "ops.yaml"):
        shutil.copy(ROOT / "jobs" / name, directory / name)
    (directory / "alerts.yaml").write_text(alerts)
    return directory


def open_collector(db_url: str, tmp_path: Path, clock, api: FakeApi, alerts: str = "") -> Collector:
    conf = load_settings({}, api_key=KEY, database_url=db_url, data_dir=tmp_path / "data",
                         metrics_dir=tmp_path / "metrics", jobs_dir=jobs_dir(tmp_path, alerts))
    client = ApiClient("http://api.test", KEY, clock, transport=api.transport())
    return Collector.open(conf, clock=clock, client=client)


def test_a_good_run_writes_metrics_and_sends_nothing(db_url, tmp_path, clock):
    with webhook_receiver() as hook:
        collector = open_collector(db_url, tmp_path, clock, FakeApi(REFERENCE_ROUTES),
                                   f"alerts: {{webhook_url: '{hook.url}'}}\n")
        with job_group(collector, "bootstrap") as run:
            reports = run.record(bootstrap(collector, "countries"))
    assert [r.status for r in reports] == ["ok"]
    assert hook.posts == []
    text = (tmp_path / "metrics" / "afc_job_bootstrap.prom").read_text()
    assert 'afc_job_last_success{group="bootstrap",job="bootstrap_countries"} 1\n' in text
    assert 'afc_job_last_calls{group="bootstrap",job="bootstrap_countries"} 1\n' in text
    assert 'afc_quota_remaining_today{account="default"}' in (tmp_path / "metrics" / "afc_state.prom").read_text()
    collector.close()


def test_a_failed_job_and_the_breaker_it_opened_are_alerted_once(db_url, tmp_path, clock):
    api = FakeApi({"countries": Answer(503, "upstream down")})
    with webhook_receiver() as hook:
        alerts = f"alerts: {{webhook_url: '{hook.url}', repeat_after: 1h}}\n"
        collector = open_collector(db_url, tmp_path, clock, api, alerts)
        for _ in range(2):
            with job_group(collector, "bootstrap") as run:
                reports = run.record(bootstrap(collector, "countries"))
    assert [r.status for r in reports] == ["failed"]
    texts = [p["json"]["text"] for p in hook.posts]
    assert len(texts) == 2  # the second run repeated nothing
    assert texts[0].startswith("[afc ") and texts[0].endswith(
        "job bootstrap_countries failed: /countries: the API failed (HTTP 503)")
    assert reports[0].error.startswith("/countries: circuit open after 5 consecutive failures")  # not re-sent
    assert texts[1].endswith("circuit open for /countries after 5 consecutive failures")
    assert all(KEY not in t for t in texts)
    assert 'afc_job_last_success{group="bootstrap",job="bootstrap_countries"} 0\n' in (
        tmp_path / "metrics" / "afc_job_bootstrap.prom").read_text()
    collector.close()


def test_a_held_lock_runs_nothing(db_url, tmp_path, clock):
    collector = open_collector(db_url, tmp_path, clock, FakeApi(REFERENCE_ROUTES))
    script = ("import sys\nfrom pathlib import Path\nfrom afc.ops.lock import hold\n"
              "with hold(Path(sys.argv[1]), sys.argv[2], 'bootstrap'):\n"
              "    print('held', flush=True); sys.stdin.read()")
    holder = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "data"), db_url],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockHeld, match=r"^bootstrap: another afc run"), job_group(collector, "bootstrap") as run:
            run.record(bootstrap(collector, "countries"))
    finally:
        holder.communicate("", timeout=10)
    assert scalar(collector.db, "SELECT COUNT(*) FROM ops.job_runs") == 0
    assert not (tmp_path / "metrics").exists()
    collector.close()


def test_metrics_and_alert_failures_never_fail_the_run(db_url, tmp_path, clock, caplog):
    caplog.set_level(logging.WARNING)
    collector = open_collector(db_url, tmp_path, clock, FakeApi(REFERENCE_ROUTES),
                               "alerts: {webhook_url: 'http://127.0.0.1:9/hook'}\n")
    (tmp_path / "metrics").write_text("a file where the directory should be")
    with job_group(collector, "bootstrap") as run:
        reports = run.record(bootstrap(collector, "countries"))
    assert [r.status for r in reports] == ["ok"]
    assert any(r.getMessage().startswith("metrics for bootstrap not written: ") for r in caplog.records)
    collector.close()
