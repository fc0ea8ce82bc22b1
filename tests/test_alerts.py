"""Alerts: webhook and SMTP payloads, the repeat window, failures that never raise, no key in them."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from pathlib import Path

import pytest

from afc.config.jobs import load
from afc.config.ops import AlertsConfig, SmtpConfig, alerts_config
from afc.errors import ConfigError
from afc.ops.alerts import Alert, from_problems, job_failed, notify, password, scrub, send_email, send_webhook
from afc.ops.health import Problem
from tests.conftest import bounded
from tests.fakeapi import KEY
from tests.opsfakes import smtp_server, webhook_receiver

HOST = socket.gethostname()
BREAKER = Alert("breaker_open", "breaker:fixtures", "circuit open for /fixtures after 5 consecutive failures")


def sent_rows(db) -> list[tuple]:
    return db.fetchall("SELECT alert_key, kind, sent_count, suppressed_count FROM ops.alerts_sent ORDER BY alert_key")


def test_webhook_gets_slack_compatible_json(db, clock):
    with webhook_receiver() as hook:
        conf = AlertsConfig(webhook_url=hook.url)
        assert notify(db, [BREAKER], conf, clock.now(), secrets=[KEY]) == ["breaker:fixtures"]
    assert hook.posts == [{"path": "/services/T000/B000/XXXX", "content_type": "application/json",
                           "json": {"text": f"[afc {HOST}] circuit open for /fixtures after 5 consecutive failures"}}]
    assert sent_rows(db) == [("breaker:fixtures", "breaker_open", 1, 0)]


def test_the_same_alert_is_not_repeated_within_the_window(db, clock):
    with webhook_receiver() as hook:
        conf = AlertsConfig(webhook_url=hook.url, repeat_after="1h")
        notify(db, [BREAKER], conf, clock.now())
        clock.advance(3599)
        assert notify(db, [BREAKER], conf, clock.now()) == []
        assert notify(db, [BREAKER, job_failed("daily_fixtures", "boom")], conf, clock.now()) == [
            "job_failed:daily_fixtures"]
        clock.advance(1)
        assert notify(db, [BREAKER], conf, clock.now()) == ["breaker:fixtures"]
    assert len(hook.posts) == 3
    assert sent_rows(db) == [("breaker:fixtures", "breaker_open", 2, 2),
                             ("job_failed:daily_fixtures", "job_failed", 1, 0)]


def test_email_goes_to_every_recipient(db, clock):
    with smtp_server() as box:
        conf = AlertsConfig(smtp=SmtpConfig(host="127.0.0.1", port=box.port, sender="afc@example.org",
                                            to=["ops@example.org", "me@example.org"], starttls=False))
        assert notify(db, [job_failed("bootstrap_teams", "quota: gone")], conf, clock.now()) == [
            "job_failed:bootstrap_teams"]
    [message] = box.messages
    assert message["from"] == "afc@example.org"
    assert message["to"] == ["ops@example.org", "me@example.org"]
    assert "Subject: [afc] job_failed: [afc " in message["data"]
    assert f"[afc {HOST}] job bootstrap_teams failed: quota: gone" in message["data"]


def test_the_key_never_leaves_in_an_alert(db, clock):
    leaky = Alert("job_failed", "job_failed:x", f"job x failed: GET /status?key={KEY} answered 401")
    with webhook_receiver() as hook, smtp_server() as box:
        conf = AlertsConfig(webhook_url=hook.url, smtp=SmtpConfig(host="127.0.0.1", port=box.port,
                            sender="a@b.c", to="d@e.f", starttls=False))
        notify(db, [leaky], conf, clock.now(), secrets=[KEY])
    assert hook.posts[0]["json"]["text"].endswith("GET /status?key=*** answered 401")
    assert KEY not in box.messages[0]["data"] and "key=***" in box.messages[0]["data"]
    assert KEY not in str(db.fetchall("SELECT message FROM ops.alerts_sent"))


def test_a_failing_channel_is_logged_and_the_alert_retried_next_time(db, clock, caplog):
    caplog.set_level(logging.WARNING, "afc.alerts")
    with webhook_receiver() as hook:
        hook.status = 500
        conf = AlertsConfig(webhook_url=hook.url, repeat_after="6h")
        assert notify(db, [BREAKER], conf, clock.now()) == []
        hook.status = 200
        assert notify(db, [BREAKER], conf, clock.now()) == ["breaker:fixtures"]
    assert len(hook.posts) == 2
    failure = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    origin = "/".join(hook.url.split("/")[:3])  # scheme://host:port: the path is the secret
    assert failure == [f"alert webhook to {origin} failed: WebhookRefused: HTTP 500"]


def test_a_webhook_failure_log_never_shows_the_url_secret(db, clock, caplog):
    caplog.set_level(logging.DEBUG)
    with webhook_receiver() as hook:
        hook.status = 404
        secret_url = hook.url.rstrip("/") + "/services/T0AAA/B0BBB/s3cr3tT0ken?token=abc123secret"
        conf = AlertsConfig(webhook_url=secret_url, repeat_after="6h")
        assert notify(db, [BREAKER], conf, clock.now()) == []
    logged = caplog.text
    assert "s3cr3tT0ken" not in logged and "abc123secret" not in logged and "services/" not in logged
    assert "alert webhook to http://127.0.0.1:" in logged and "WebhookRefused: HTTP 404" in logged


def test_an_unreachable_smtp_server_never_raises(db, clock):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once closed
    conf = AlertsConfig(smtp=SmtpConfig(host="127.0.0.1", port=port, sender="a@b.c", to="d@e.f", timeout=2))
    assert notify(db, [BREAKER], conf, clock.now()) == []
    assert db.fetchall("SELECT sent_count FROM ops.alerts_sent") == [(0,)]


def test_without_channels_alerts_are_only_logged_at_debug(db, clock, caplog):
    caplog.set_level(logging.DEBUG, "afc.alerts")
    assert notify(db, [BREAKER], AlertsConfig(), clock.now()) == []
    assert sent_rows(db) == []
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("DEBUG", f"alert breaker_open (no channel configured): [afc {HOST}] {BREAKER.text}")]


def test_problems_become_alerts_only_for_alerting_kinds():
    problems = [Problem("breaker_open", "breaker:odds", "open"), Problem("stale_job", "stale:x", "stale"),
                Problem("quota_low", "quota", "low")]
    assert [a.key for a in from_problems(problems, ["breaker_open", "quota_low"])] == ["breaker:odds", "quota"]
    assert from_problems(problems, ["quota_low"]) == [Alert("quota_low", "quota", "low")]


def test_alerts_section_from_yaml(tmp_path: Path):
    (tmp_path / "alerts.yaml").write_text(
        "alerts:\n  webhook_url: https://hooks.example/x\n  repeat_after: 2h\n"
        "  smtp: {host: mail, from: afc@x.org, to: ops@x.org, username: afc, password_file: smtp_password}\n")
    conf = alerts_config(load(tmp_path))
    assert conf.smtp is not None
    smtp = (conf.smtp.sender, conf.smtp.to, conf.smtp.port)
    assert conf.repeat_after == 7200 and smtp == ("afc@x.org", ["ops@x.org"], 587)
    assert conf.kinds == ["job_failed", "breaker_open", "quota_low", "coverage_critical", "live_stalled"]


@pytest.mark.parametrize("body, message", [
    ("webhook_url: hooks.example/x", r"alerts\.yaml: alerts\.webhook_url: must be an http:// or https:// URL"),
    ("repeat_after: soon", r"alerts\.repeat_after: must be a duration such as 90s, 15m, 6h or 90d, got 'soon'"),
    ("kinds: [stale]", r"alerts\.kinds: unknown alert 'stale'"),
    ("smtp: {host: mail, to: x@y.z}", r"alerts\.smtp\.from: Field required"),
    ("smtp: {host: mail.example, from: a@x.org, to: x@y.z, username: afc, starttls: false}",
     r"alerts\.smtp: .*username without starttls would send the password in clear to mail\.example; set starttls"),
    ("slack: x", r"alerts\.slack: Extra inputs are not permitted"),
])
def test_bad_alerts_section_names_file_and_field(tmp_path: Path, body: str, message: str):
    (tmp_path / "alerts.yaml").write_text(f"alerts:\n  {body}\n")
    with pytest.raises(ConfigError, match=message):
        alerts_config(load(tmp_path))


def test_smtp_password_is_read_from_the_credentials_directory(tmp_path: Path):
    (tmp_path / "smtp_password").write_text("pa55word\n")
    smtp = SmtpConfig(host="m", sender="a@b.c", to="d@e.f", password_file=Path("smtp_password"))
    assert password(smtp, tmp_path) == "pa55word"
    assert scrub(f"x {KEY} y", [KEY, ""]) == "x *** y"


def _misbehave(conn: socket.socket) -> None:
    """/trickle: the status line and headers a byte every 0.1 s; /endless: 200 and a body that never ends."""
    with conn, contextlib.suppress(OSError):
        request = conn.recv(65536)
        if b" /trickle " in request:
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n":
                conn.sendall(bytes([byte]))
                time.sleep(0.1)
        else:
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            while True:
                conn.sendall(b"10000\r\n" + b"x" * 0x10000 + b"\r\n")


@pytest.mark.parametrize("path", ["trickle", "endless"])
def test_an_alert_webhook_attempt_ends_within_its_timeout(path: str) -> None:
    """A receiver that trickles its headers or never ends its answer costs the job one timeout, not hours or RAM."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        threading.Thread(target=lambda: _misbehave(listener.accept()[0]), daemon=True).start()
        outcome, seconds = bounded(lambda: send_webhook(f"http://127.0.0.1:{listener.getsockname()[1]}/{path}",
                                                         "quota low", 0.5))
        assert outcome and seconds < 5  # the trickle alone takes 20 s
    expected = "ReadTimeout" if path == "trickle" else None  # 64 KiB of the endless answer is enough
    assert [type(e).__name__ if e else None for e in outcome] == [expected]


def test_starttls_verifies_the_servers_certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SMTP password goes only to the server the certificate names, never to whoever answers in between."""
    import ssl
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=afc-test",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with smtp_server(tls_context=context) as box:
        conf = SmtpConfig.model_validate({"host": "127.0.0.1", "port": box.port, "from": "afc@example.org",
                                          "to": ["ops@example.org"], "timeout": 5})
        with pytest.raises(ssl.SSLCertVerificationError):  # a certificate no one vouches for
            send_email(conf, "[afc] test", "body", None)
        assert box.messages == []
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # now the system trusts it: the same send goes through
        send_email(conf, "[afc] test", "body", None)
        assert [m["to"] for m in box.messages] == [["ops@example.org"]]


def test_an_alert_text_with_line_breaks_still_goes_by_email():
    with smtp_server() as box:
        conf = SmtpConfig.model_validate({"host": "127.0.0.1", "port": box.port, "from": "afc@example.org",
                                          "to": ["ops@example.org"], "starttls": False, "timeout": 5})
        send_email(conf, "[afc] job_failed: job daily failed: ERROR: x\nDETAIL: y", "ERROR: x\nDETAIL: y", None)
    assert len(box.messages) == 1
    assert "Subject: [afc] job_failed: job daily failed: ERROR: x DETAIL: y\r\n" in box.messages[0]["data"]
    assert "\r\n\r\nERROR: x\r\nDETAIL: y\r\n" in box.messages[0]["data"]  # the body keeps its lines
