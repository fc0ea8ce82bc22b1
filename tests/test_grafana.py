"""contrib/grafana/afc.json: every PromQL expression names only metrics a real afc run writes, so the
dashboard cannot silently rot when a metric is renamed; and it shows what operations needs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import promql_parser
import pytest

from afc.config.live import LiveConfig
from afc.jobs.bootstrap import bootstrap
from afc.live.loop import LiveLoop
from afc.ops import heartbeat
from afc.ops.guard import job_group
from afc.ops.metrics import write_notify
from tests.conftest import ROOT
from tests.fakeapi import REFERENCE_ROUTES, Answer, FakeApi
from tests.test_guard import open_collector

DASHBOARD = ROOT / "contrib" / "grafana" / "afc.json"
IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
CHILDREN = ("lhs", "rhs", "expr", "param", "vector_selector")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads, from Prometheus' grammar (promql-parser): every
    vector selector's name. A selector without a literal name cannot be checked and is named as such."""
    return _selected(promql_parser.parse(expr))


def _selected(node: Any) -> set[str]:
    if isinstance(node, promql_parser.VectorSelector):
        return {node.name or f"<no metric name: {node.matchers}>"}
    found: set[str] = set()
    for child in [getattr(node, name, None) for name in CHILDREN] + list(getattr(node, "args", None) or []):
        if child is not None and not isinstance(child, (str, int, float)):
            found |= _selected(child)
    return found


def test_the_name_extraction_sees_through_promql() -> None:
    expr = ('count(afc_job_last_success{group=~"$group", job!="x"} == 0) or vector(0) + '
            'sum by (group) (rate(afc_x_total[5m] offset 1h)) / on (account) group_left afc_quota_daily_limit'
            ' - time() + max_over_time(afc_heartbeat_timestamp_seconds{loop="live"}[1h:5m]) unless up')
    assert metric_names(expr) == {"afc_job_last_success", "afc_x_total", "afc_quota_daily_limit",
                                  "afc_heartbeat_timestamp_seconds", "up"}
    assert metric_names('{__name__=~"afc_.*"}') == {'<no metric name: {__name__=~"afc_.*"}>'}
    with pytest.raises(ValueError, match="unclosed left parenthesis"):
        metric_names("sum(afc_quota_used_today")


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, those inside collapsed rows too."""
    found = []
    for panel in board["panels"]:
        found.append(panel)
        found += panel.get("panels", [])
    return found


def expressions(board: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, PromQL) of every panel target and every query variable (label_values' metric only)."""
    found = [(p["title"], t["expr"]) for p in panels(board) for t in p.get("targets", [])]
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            metric = re.fullmatch(r"label_values\((\w+),\s*\w+\)", variable["query"]["query"])
            assert metric, variable["query"]
            found.append((f"variable {variable['name']}", metric.group(1)))
    return found


@pytest.fixture
def written(db_url: str, tmp_path: Path, clock: Any) -> set[str]:
    """Metric names in the textfiles of a real run: bootstrap jobs through the group guard, one endpoint
    failing until its breaker opens, the live loop's heartbeat, and the notify service's metrics."""
    api = FakeApi({**REFERENCE_ROUTES, "leagues": Answer(503, "upstream down")})
    collector = open_collector(db_url, tmp_path, clock, api)
    heartbeat.beat(collector.db, "live", clock.now())
    heartbeat.ticked(collector.db, clock.now(), 15)
    loop = LiveLoop(collector.settings, LiveConfig(), None, clock=clock, client=collector.client)
    loop.collector = collector
    loop._report()  # the live group's metrics, as the loop writes them once a minute
    for _ in range(2):  # the second run's failures open the /leagues breaker
        with job_group(collector, "bootstrap") as run:
            run.record(bootstrap(collector, "countries"))
            run.record(bootstrap(collector, "leagues"))
    write_notify(tmp_path / "metrics", collector.db, clock.now(), ["hooks"])
    collector.close()
    names = set()
    for path in (tmp_path / "metrics").glob("*.prom"):
        for line in path.read_text().splitlines():
            if line and not line.startswith("#"):
                names.add(IDENTIFIER.match(line).group())  # type: ignore[union-attr]
    assert 'afc_breaker_open{endpoint="leagues"} 1' in (tmp_path / "metrics" / "afc_state.prom").read_text()
    return names


def test_every_expression_names_only_metrics_afc_writes(written: set[str]) -> None:
    board = dashboard()
    found = expressions(board)
    assert len(found) >= 15
    for where, expr in found:
        names = metric_names(expr)
        assert names, f"{where}: {expr} reads no metric"
        assert names <= written, f"{where}: {expr} reads {sorted(names - written)}, which afc does not write"


def test_the_dashboard_shows_what_operations_needs() -> None:
    board = dashboard()
    every = " ".join(expr for _, expr in expressions(board))
    for metric in ("afc_quota_used_today", "afc_quota_remaining_today", "afc_job_last_calls",
                   "afc_job_last_success_timestamp_seconds", "afc_job_last_success", "afc_breaker_open",
                   "afc_heartbeat_timestamp_seconds", "afc_notify_pending_events",
                   "afc_notify_oldest_pending_age_seconds", "afc_notify_dead_letter_events",
                   "afc_live_last_tick_timestamp_seconds", "afc_live_fixtures_in_play"):
        assert metric in every, metric
    all_panels = panels(board)
    ids = [p["id"] for p in all_panels]
    assert len(ids) == len(set(ids))
    for panel in all_panels:
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
            assert panel["description"], panel["title"]
    notify = [p for p in board["panels"] if p["type"] == "row" and "afc_notify_" in p["title"]]
    assert len(notify) == 1 and notify[0]["collapsed"] is True and len(notify[0]["panels"]) == 4
    assert board["uid"] == "afc-collector" and board["timezone"] == "utc"
