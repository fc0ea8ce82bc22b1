"""Delivery: signed webhooks to a real receiver, order per fixture, retries, dead letters, replay, several
processes, bad receivers and bad config — on both backends."""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from afc.api import outbound
from afc.cli import app
from afc.clock import SimClock
from afc.config.notify import NotifyConfig, Target
from afc.db import Database, connect
from afc.errors import ConfigError
from afc.notify import queue, send
from afc.notify.service import Courier, drain
from afc.ops.health import check
from afc.ops.metrics import notify_samples
from tests.conftest import ROOT
from tests.notify_support import SECRET, Receiver, add_events, credentials, jobs_dir


def config(url: str, **policy: Any) -> NotifyConfig:
    return NotifyConfig(targets=[Target(name="hook", type="webhook", url=url, secret="hook_secret")], **policy)


def courier(db: Database, conf: NotifyConfig, clock: SimClock) -> Courier:
    return Courier(db, conf, {"hook_secret": SECRET}, clock)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as running:
        yield running


def test_each_event_arrives_signed_once_and_in_order_per_fixture(db: Database, clock: SimClock,
                                                                 receiver: Receiver) -> None:
    keys = add_events(db, 12, clock.now())
    sender = courier(db, config(receiver.url), clock)
    report = drain(sender)
    sender.close()
    assert report.delivered == 12 and report.failed == 0
    assert receiver.bad_signatures == 0 and dict(receiver.keys) == dict.fromkeys(keys, 1)
    for fixture in (900, 901, 902):
        arrived = [b["minute"] for b in receiver.bodies if b["fixture"]["id"] == fixture]
        assert arrived == sorted(arrived), f"fixture {fixture}: events out of order"
    assert drain(courier(db, config(receiver.url), clock)).delivered == 0  # nothing is sent twice


def test_filters_choose_what_a_target_hears(db: Database, clock: SimClock, receiver: Receiver) -> None:
    add_events(db, 3, clock.now())
    with db.transaction():
        db.execute("UPDATE ops.events_outbox SET league_id = 140 WHERE fixture_id = 901")
        db.execute("UPDATE ops.events_outbox SET kind = 'kickoff' WHERE fixture_id = 902")
    target = Target(name="hook", type="webhook", url=receiver.url, secret="hook_secret", leagues=[39], kinds=["goal"])
    drain(courier(db, NotifyConfig(targets=[target]), clock))
    assert [b["fixture"]["id"] for b in receiver.bodies] == [900]
    assert target.wants("goal", 39, (7, 2)) and not Target(
        name="t", type="webhook", url=receiver.url, secret="s", teams=[5]).wants("goal", 39, (7, 2))


def test_a_failing_receiver_is_retried_then_dead_lettered_then_replayed(db: Database, clock: SimClock) -> None:
    keys = add_events(db, 2, clock.now(), fixtures=2)
    with Receiver(status=500).running() as failing:
        conf = config(failing.url, max_attempts=3, backoff=10)
        sender = courier(db, conf, clock)
        assert drain(sender).failed == 2
        clock.advance(9)
        assert drain(sender).failed == 0  # not due yet: the first retry waits 10 s
        clock.advance(1)
        assert drain(sender).failed == 2
        clock.advance(20)
        last = drain(sender)
        assert last.failed == 2 and last.dead == 2
        clock.advance(3600)
        assert drain(sender).failed == 0  # dead letters are not retried
        sender.close()
    states = queue.counts(db)
    assert [(c.dead, c.pending, c.failed_attempts) for c in states] == [(2, 0, 6)]
    assert [w["state"] for w in queue.waiting(db)] == ["dead", "dead"]
    assert queue.waiting(db)[0]["last_error"] == "target hook: HTTP 500"
    with Receiver().running() as healed:
        conf = config(healed.url, max_attempts=3, backoff=10)
        assert queue.replay(db, conf, clock.now() - timedelta(hours=2), clock.now()) == 2
        assert drain(courier(db, conf, clock)).delivered == 2
        assert sorted(healed.keys) == sorted(keys)


def test_two_couriers_at_once_send_each_event_once(db_url: str, clock: SimClock, receiver: Receiver) -> None:
    setup = connect(db_url)
    keys = add_events(setup, 60, clock.now(), fixtures=20)
    setup.close()
    receiver.delay = 0.02
    reports = []

    def work() -> None:
        own = connect(db_url)
        sender = courier(own, config(receiver.url), clock)
        reports.append(drain(sender))
        sender.close()
        own.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.delivered for r in reports) == 60
    assert dict(receiver.keys) == dict.fromkeys(keys, 1)


class Misbehaving(BaseHTTPRequestHandler):
    """/hang never answers in time, /redirect points elsewhere, /huge answers 200 with 50 MB, /trickle sends
    its status line and headers a byte every 0.1 s (each read well within the timeout)."""

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path.endswith("hang"):
            time.sleep(3)
        if self.path.endswith("trickle"):
            with contextlib.suppress(OSError):
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100 + b"\r\nContent-Length: 0\r\n\r\n":
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.1)
            self.close_connection = True
            return
        if self.path.endswith("redirect"):
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        size = 50 * 2**20 if self.path.endswith("huge") else 0
        self.send_header("Content-Length", str(size))
        self.end_headers()
        try:
            for _ in range(size // 2**16):
                self.wfile.write(b"x" * 2**16)
        except OSError:
            pass  # the client stopped reading: what the test wants

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def misbehaving() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Misbehaving)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("path", "expected"), [
    ("hang", "target hook: no answer within 0.5s"),
    ("redirect", "target hook: HTTP 302 redirect not followed; point the target at the final URL"),
    ("huge", None),
    ("trickle", "target hook: no answer within 0.5s"),
])
def test_bad_receivers_cost_one_line(misbehaving: str, path: str, expected: str | None) -> None:
    target = Target(name="hook", type="webhook", url=f"{misbehaving}/{path}", secret="hook_secret")
    started = time.monotonic()
    with outbound.client() as client:
        outcome = send.attempt(client, target, "k", {"kind": "goal"}, {"hook_secret": SECRET}, 0.5)
    assert outcome == expected and time.monotonic() - started < 2.5


def test_an_unreachable_target_fails_without_naming_its_url() -> None:
    target = Target(name="hook", type="webhook", url="http://127.0.0.1:9/hook?token=abc123", secret="s")
    with httpx.Client() as client:
        outcome = send.attempt(client, target, "k", {"kind": "goal"}, {"s": SECRET}, 1)
    assert outcome is not None and outcome.startswith("target hook: ConnectError") and "abc123" not in outcome


def test_ntfy_gets_a_readable_line_with_its_token() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    transport = httpx.MockTransport(answer)
    target = Target(name="phone", type="ntfy", url="https://ntfy.example/", topic="afc-goals", token="ntfy_token")
    payload = {"kind": "goal", "minute": 29, "player": {"name": "Álvaro Morata"},
               "fixture": {"home": {"name": "España"}, "away": {"name": "Croatia"}, "score": {"home": 1, "away": 0}}}
    with httpx.Client(transport=transport) as client:
        assert send.attempt(client, target, "k1", payload, {"ntfy_token": b"tk_secret"}, 1) is None
    request = seen[0]
    assert str(request.url) == "https://ntfy.example/afc-goals"
    assert request.content.decode() == "Goal: España 1-0 Croatia (Álvaro Morata 29′)"
    assert request.headers["Title"] == "=?UTF-8?B?RXNwYcOxYSAtIENyb2F0aWE=?="  # "España - Croatia", RFC 2047
    assert request.headers["Authorization"] == "Bearer tk_secret" and request.headers["X-Afc-Idempotency-Key"] == "k1"


def test_health_flags_a_backlog_and_metrics_count_it(db: Database, clock: SimClock, tmp_path: Path) -> None:
    from afc.config.jobs import load

    add_events(db, 2, clock.now() - timedelta(minutes=30))
    shipped = check(db, clock.now(), load(ROOT / "jobs"), quota=lambda: None, only=("notify",))  # type: ignore[arg-type,return-value]
    assert shipped.skipped == {"notify": "no notify targets (jobs/notify.yaml)"}
    queue.fan_out(db, config("http://127.0.0.1:9/"), clock.now(), queue.Gaps())
    conf = load(jobs_dir(tmp_path, "http://127.0.0.1:9/"))
    report = check(db, clock.now(), conf, quota=lambda: None, only=("notify",))  # type: ignore[arg-type,return-value]
    assert [p.key for p in report.problems] == ["notify:hook"]
    assert "2 events waiting for hook, the oldest for 30 min" in report.problems[0].reason
    found = notify_samples(db, clock.now(), ["hook", "new"])
    samples = {(name, labels["target"]): value for name, labels, value in found}
    assert samples[("afc_notify_pending_events", "hook")] == 2
    assert samples[("afc_notify_oldest_pending_age_seconds", "hook")] == 1800
    assert samples[("afc_notify_pending_events", "new")] == samples[("afc_notify_delivered_events", "new")] == 0


BAD_CONFIGS = [
    ("url: ftp://example.org/hook", "notify.targets.0.url: must be an http:// or https:// URL"),
    ("url: https://user:pw@example.org/hook", "notify.targets.0.url: must not carry user:password"),
    ("kinds: [goal, own_goal]", "notify.targets.0.kinds: unknown event kind 'own_goal'"),
    ("secret: ../etc/passwd", "notify.targets.0.secret: must name a file in the credentials directory"),
]
# A secret pasted where its file's name goes, or a URL or topic of the wrong type, was echoed in the error line.
LEAKING_CONFIGS = [
    ("secret: 'pw+SeCrEt/base64=='", "notify.targets.0.secret: must name a file in the credentials directory (letters, "
                                     "digits, _.-); the value is not shown: it may be the secret itself"),
    ("url: ['https://example.org/pw-in-path']", "notify.targets.0.url: Input should be a valid string"),
    ("url: {path: pw}", "notify.targets.0.url: Input should be a valid string"),
]


@pytest.mark.parametrize(("line", "message"), BAD_CONFIGS + LEAKING_CONFIGS)
def test_a_bad_target_is_refused_naming_file_and_field(tmp_path: Path, line: str, message: str) -> None:
    directory = jobs_dir(tmp_path, "https://example.org/hook")
    path = directory / "notify.yaml"
    field = line.split(":")[0]
    text = "\n".join(f"      {line}" if row.strip().startswith(f"{field}:") else row
                     for row in path.read_text().splitlines())
    path.write_text(text + ("" if f"{field}:" in path.read_text() else f"\n      {line}") + "\n")
    result = CliRunner().invoke(app, ["jobs", "validate", "--jobs-dir", str(directory)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"afc: {path}: {message}") and "pw" not in result.stderr


def test_the_cli_delivers_once_lists_and_replays_and_never_shows_the_secret(
        tmp_path: Path, db_url: str, clock: SimClock, receiver: Receiver, caplog: pytest.LogCaptureFixture) -> None:
    db = connect(db_url)
    add_events(db, 3, clock.now())
    env = {"AFC_JOBS_DIR": str(jobs_dir(tmp_path, receiver.url, start_window="1d")),
           "CREDENTIALS_DIRECTORY": str(credentials(tmp_path)), "AFC_CLOCK": clock.spec()}
    runner = CliRunner()
    caplog.set_level(logging.DEBUG)
    once = runner.invoke(app, ["notify", "--once", "--db", db_url], env=env)
    assert once.exit_code == 0, once.output
    assert once.stdout == "notify: 3 delivered, 0 failed attempts (0 dead-lettered), 3 queued\n"
    status = runner.invoke(app, ["notify", "status", "--db", db_url], env=env)
    assert status.stdout.startswith("hook: 3 delivered, 0 pending, 0 dead-lettered")
    replay = runner.invoke(app, ["notify", "replay", "--since", "1h", "--db", db_url], env=env)
    assert replay.exit_code == 0 and "queued 3 deliveries again" in replay.stderr
    runner.invoke(app, ["notify", "--once", "--db", db_url], env=env)
    assert sorted(receiver.keys.values()) == [2, 2, 2]
    bad = runner.invoke(app, ["notify", "replay", "--since", "yesterday", "--db", db_url], env=env)
    assert bad.exit_code == 2 and bad.stderr.startswith("afc: --since: expected a time such as")
    elsewhere = env | {"CREDENTIALS_DIRECTORY": "/nonexistent"}
    missing = runner.invoke(app, ["notify", "--once", "--db", db_url], env=elsewhere)
    assert missing.exit_code == 2
    assert missing.stderr == "afc: notify target hook: credential 'hook_secret' not found in the credentials " \
                             "directory ($CREDENTIALS_DIRECTORY, systemd LoadCredential=)\n"
    secret = SECRET.decode()
    tables = [r[0] for r in db.fetchall("SELECT payload FROM ops.events_outbox")]
    tables += [r[0] or "" for r in db.fetchall("SELECT last_error FROM ops.notify_deliveries")]
    assert not any(secret in str(text) for text in tables + [once.output, status.output, caplog.text])
    db.close()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_unit_loads_each_targets_secret_and_verifies_clean(tmp_path: Path) -> None:
    from afc.config.jobs import load
    from afc.ops.systemd import render

    directory = jobs_dir(tmp_path, "https://example.org/hook")
    with (directory / "notify.yaml").open("a") as yaml_file:
        yaml_file.write("    - {name: phone, type: ntfy, url: 'https://ntfy.sh', topic: goals, token: ntfy_token}\n")
    files = render(load(directory))
    unit = files["systemd/afc-notify.service"]
    for line in ("Type=exec", "ExecStart=/usr/local/bin/afc notify", "Restart=on-failure", "RestartPreventExitStatus=2",
                 "DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes", "WantedBy=multi-user.target"):
        assert f"\n{line}\n" in unit, line
    assert "LoadCredential=hook_secret:/etc/afc/hook_secret\nLoadCredential=ntfy_token:/etc/afc/ntfy_token\n" in unit
    assert files["cron/afc.crontab"].endswith("* * * * *  afc  flock -n -E 75 /run/lock/afc-notify.lock -c "
                                              "'/usr/local/bin/afc notify --once' 2>&1 | logger -t afc-notify\n")
    units = tmp_path / "units"
    units.mkdir()
    for path, text in files.items():
        if path.startswith("systemd/"):
            (units / Path(path).name).write_text(text)
    script = str(ROOT / "scripts" / "verify-units.sh")
    out = subprocess.run(["bash", script, str(units)], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("verify-units: 11 units verify clean"), out.stdout


def test_the_service_survives_the_database_going_away(db_url: str, clock: SimClock, receiver: Receiver,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from afc.errors import DatabaseUnavailable
    from afc.notify import service

    setup = connect(db_url)
    keys = add_events(setup, 3, clock.now())
    setup.close()
    real, stop, reopened = queue.fan_out, threading.Event(), []

    def down_once(*args: Any) -> int:
        monkeypatch.setattr(queue, "fan_out", real)
        raise DatabaseUnavailable("server closed the connection unexpectedly")

    def reopen() -> Database:
        reopened.append(True)
        return connect(db_url)

    monkeypatch.setattr(queue, "fan_out", down_once)
    monkeypatch.setattr(service, "DB_PAUSE", 0.01)
    sender = Courier(connect(db_url), config(receiver.url), {"hook_secret": SECRET}, clock, reopen=reopen)
    thread = threading.Thread(target=sender.serve, args=(stop,))
    thread.start()
    deadline = time.monotonic() + 20
    while len(receiver.keys) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join()
    sender.close()
    sender.db.close()
    assert reopened == [True] and sorted(receiver.keys) == sorted(keys)


def test_a_lease_shorter_than_the_timeout_is_refused(tmp_path: Path) -> None:
    directory = jobs_dir(tmp_path, "https://example.org/hook", lease="3s", timeout=5)
    result = CliRunner().invoke(app, ["jobs", "validate", "--jobs-dir", str(directory)])
    assert result.exit_code == 2
    assert result.stderr == f"afc: {directory / 'notify.yaml'}: notify: lease: must be longer than timeout (5s), " \
                            "or a slow send is claimed twice; got 3s\n"


def test_settled_events_are_deleted_after_keep_and_pending_ones_stay(db: Database, clock: SimClock,
                                                                      receiver: Receiver) -> None:
    from afc.collect import outbox

    keys = add_events(db, 4, clock.now() - timedelta(days=40), fixtures=4)
    conf = config(receiver.url, start_window="60d")
    assert drain(courier(db, conf, clock)).delivered == 4
    with db.transaction():
        db.execute("UPDATE ops.notify_deliveries SET state = 'pending' WHERE event_id = "
                   "(SELECT id FROM ops.events_outbox WHERE event_key = %s)", (keys[0],))
    upto = queue.fanned_out(db, ["hook"])
    assert queue.fanned_out(db, ["hook", "new_target"]) == 0  # a target yet to start keeps every event
    assert outbox.prune(db, clock.now() - timedelta(days=30), upto) == 3
    assert [r[0] for r in db.fetchall("SELECT event_key FROM ops.events_outbox")] == [keys[0]]
    assert [c.pending for c in queue.counts(db)] == [1]


@pytest.mark.parametrize("token", [b"tk_one\nInjected: header", "tk_caf\u00e9".encode(), b"tk_\xff\xfe", b"tk two"])
def test_an_ntfy_token_that_no_header_can_carry_is_refused_at_start(tmp_path: Path, token: bytes) -> None:
    target = Target(name="phone", type="ntfy", url="https://ntfy.example", topic="goals", token="ntfy_token")
    (tmp_path / "ntfy_token").write_bytes(token + b"\n")
    with pytest.raises(ConfigError) as raised:
        send.read_secrets([target], tmp_path)
    assert str(raised.value) == ("notify target phone: credential 'ntfy_token' must be one line of printable ASCII "
                                 f"without spaces, as an HTTP header carries it ({len(token)} bytes, not shown)")
    (tmp_path / "ntfy_token").write_bytes(b"tk_AbC-123.xyz\n")
    assert send.read_secrets([target], tmp_path) == {"ntfy_token": b"tk_AbC-123.xyz"}
    hook = Target(name="hook", type="webhook", url="https://example.org/hook", secret="ntfy_token")
    (tmp_path / "ntfy_token").write_bytes(token)  # an HMAC key may be any bytes
    assert send.read_secrets([hook], tmp_path) == {"ntfy_token": token.strip()}


@pytest.mark.parametrize(("url", "refused"), [("http://ntfy.example.org", True), ("https://ntfy.example.org", False),
                                              ("http://127.0.0.1:8080", False)])
def test_an_ntfy_token_is_never_sent_in_clear_over_the_network(tmp_path: Path, url: str, refused: bool) -> None:
    (tmp_path / "notify.yaml").write_text(
        f"notify:\n  targets:\n    - {{name: phone, type: ntfy, url: '{url}', topic: goals, token: ntfy_token}}\n")
    result = CliRunner().invoke(app, ["jobs", "validate", "--jobs-dir", str(tmp_path)])
    assert result.exit_code == (2 if refused else 0), result.output
    if refused:
        assert result.stderr == (f"afc: {tmp_path / 'notify.yaml'}: notify.targets.0: token: an http:// URL would send "
                                 "the token in clear; use https:// (or a server on localhost)\n")


def test_an_ntfy_title_from_hostile_names_is_one_clean_header() -> None:
    """Team names are API data: a line break or control character in one must not fail every delivery."""
    seen: list[str] = []

    class Ntfy(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            seen.append(self.headers["Title"])
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Ntfy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    target = Target(name="phone", type="ntfy", url=f"http://127.0.0.1:{server.server_address[1]}", topic="goals")
    fixture: dict[str, Any] = {"home": {"name": "Arsenal\r\nX-Evil: 1"}, "away": {"name": "Chel\x00sea\t"},
                               "score": {"home": 1, "away": 0}}
    payload = {"kind": "goal", "fixture": fixture}
    try:
        with outbound.client() as client:
            assert send.attempt(client, target, "k", payload, {}, 2) is None
            fixture["away"] = {"name": "Atl\u00e9tico\n"}
            assert send.attempt(client, target, "k2", payload, {}, 2) is None
    finally:
        server.shutdown()
        server.server_close()
    assert seen == ["Arsenal X-Evil: 1 - Chel sea", "=?UTF-8?B?QXJzZW5hbCBYLUV2aWw6IDEgLSBBdGzDqXRpY28=?="]


def test_the_service_waits_for_a_database_that_is_not_up_yet(monkeypatch):
    """afc-notify started before its PostgreSQL exited 1 at once; systemd's start limit then gave up on it."""
    import threading

    import afc.cli.notify as cli
    from afc.errors import DatabaseUnavailable

    opened = object()
    tries: list[str | None] = []

    def not_up_yet(db, create):
        assert create  # the service creates the database it delivers from, as the collectors do
        tries.append(db)
        if len(tries) < 3:
            raise DatabaseUnavailable("postgresql: cannot connect to postgresql://afc@db/afc")
        return opened

    monkeypatch.setattr(cli, "open_collector", not_up_yet)
    stop, waits = threading.Event(), list[float]()
    monkeypatch.setattr(stop, "wait", waits.append)
    assert cli.open_when_reachable("postgresql://afc@db/afc", stop) is opened
    assert waits == [1.0, 2.0]
    stop.set()
    assert cli.open_when_reachable("postgresql://afc@db/afc", stop) is None  # SIGTERM while waiting: exit 0
