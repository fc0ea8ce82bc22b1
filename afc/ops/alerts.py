"""Alerts to a webhook (Slack-compatible JSON) and to e-mail (SMTP), never repeated within a window.

An alert is a health problem of an alerting kind (quota low, coverage critical, breaker open, live
loop stalled) or a failed job. Each is claimed in ops.alerts_sent with one conditional upsert, so
of many processes only one sends it per `repeat_after` window. Sending never raises: a failure is
logged and the claim released so the next run tries again. Without a channel, alerts are only
logged at debug level (`afc health` still shows the problems). No message carries a secret.
"""

from __future__ import annotations

import json
import logging
import smtplib
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from afc.config.ops import AlertsConfig, SmtpConfig
from afc.db import Database
from afc.errors import AfcError
from afc.ops.health import Problem
from afc.redact import describe, origin

log = logging.getLogger("afc.alerts")
# httpx's INFO line names the full request URL, and a webhook's URL is its secret.
logging.getLogger("httpx").setLevel(logging.WARNING)

CLAIM = """
INSERT INTO ops.alerts_sent AS a (alert_key, kind, message, first_sent_at, last_sent_at, sent_count,
                                  suppressed_count, updated_at)
VALUES (%(key)s, %(kind)s, %(message)s, %(now)s, %(now)s, 1, 0, %(now)s)
ON CONFLICT (alert_key) DO UPDATE SET message = excluded.message, last_sent_at = excluded.last_sent_at,
    sent_count = a.sent_count + 1, updated_at = excluded.updated_at
WHERE a.last_sent_at <= %(cutoff)s
RETURNING alert_key"""
SUPPRESS = """
UPDATE ops.alerts_sent SET suppressed_count = suppressed_count + 1, updated_at = %(now)s
WHERE alert_key = %(key)s"""
RELEASE = """
UPDATE ops.alerts_sent SET last_sent_at = %(epoch)s, sent_count = sent_count - 1 WHERE alert_key = %(key)s"""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Alert:
    """One thing to tell a person: its kind, a stable key (the dedup unit) and one line of text."""

    kind: str
    key: str
    text: str


def from_problems(problems: Iterable[Problem], kinds: Iterable[str]) -> list[Alert]:
    """Health problems of the alerting kinds."""
    wanted = set(kinds)
    return [Alert(p.check, p.key, p.reason) for p in problems if p.check in wanted]


def job_failed(job_id: str, error: str | None) -> Alert:
    """The alert for a failed job run."""
    return Alert("job_failed", f"job_failed:{job_id}", f"job {job_id} failed: {error or 'unknown error'}")


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret (of 4 characters or more) replaced by ***."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def _claim(db: Database, alert: Alert, now: datetime, window: int) -> bool:
    params = {"key": alert.key, "kind": alert.kind, "message": alert.text, "now": now,
              "cutoff": now - timedelta(seconds=window)}
    with db.transaction():
        if db.fetchone(CLAIM, params) is not None:
            return True
        db.execute(SUPPRESS, params)
    return False


def notify(db: Database, alerts: list[Alert], conf: AlertsConfig, now: datetime, *,
           secrets: Iterable[str] = (), credentials_dir: Path | None = None) -> list[str]:
    """Send each alert not sent within the window; returns the keys sent. Never raises."""
    secrets = list(secrets)
    sent: list[str] = []
    for alert in alerts:
        alert = Alert(alert.kind, alert.key, scrub(alert.text, secrets))
        text = f"[afc {socket.gethostname()}] {alert.text}"
        if not (conf.webhook_url or conf.smtp):
            log.debug("alert %s (no channel configured): %s", alert.kind, text)
            continue
        log.warning("alert %s: %s", alert.kind, text)
        if not _claim(db, alert, now, conf.repeat_after):
            continue
        if deliver(alert.kind, text, conf, secrets, credentials_dir):
            sent.append(alert.key)
        else:
            with db.transaction():
                db.execute(RELEASE, {"key": alert.key, "epoch": EPOCH})
    return sent


def deliver(kind: str, text: str, conf: AlertsConfig, secrets: list[str], credentials_dir: Path | None) -> bool:
    """Send through every configured channel; True when at least one took it."""
    delivered = False
    if conf.webhook_url:
        delivered |= _attempt("webhook", origin(conf.webhook_url), [*secrets, conf.webhook_url],
                              lambda: send_webhook(conf.webhook_url or "", text, conf.timeout))
    if conf.smtp:
        smtp = conf.smtp
        delivered |= _attempt("e-mail", f"{smtp.host}:{smtp.port}", secrets,
                              lambda: send_email(smtp, f"[afc] {kind}: {text[:120]}", text, credentials_dir))
    return delivered


def _attempt(channel: str, where: str, secrets: list[str], send: object) -> bool:
    try:
        send()  # type: ignore[operator]
        return True
    except Exception as exc:  # noqa: BLE001 - an alert channel failing must never break a job
        log.warning("alert %s to %s failed: %s", channel, where, describe(exc, secrets))
        return False


class WebhookRefused(AfcError):
    """The alert webhook answered, but not with a 2xx."""


def send_webhook(url: str, text: str, timeout: float) -> None:
    """POST Slack-compatible JSON (`{"text": ...}`) within `timeout` in all; raises on a non-2xx answer."""
    from afc.api import outbound

    body = json.dumps({"text": text}).encode()
    with outbound.client() as http:
        code = outbound.post(http, url, body, {"Content-Type": "application/json"}, timeout)
    if not 200 <= code < 300:
        raise WebhookRefused(f"HTTP {code}" + (" redirect not followed; point webhook_url at the final URL"
                                         if 300 <= code < 400 else ""))


def send_email(smtp: SmtpConfig, subject: str, text: str, credentials_dir: Path | None) -> None:
    """Send one plain-text e-mail; raises on any SMTP or network failure."""
    message = EmailMessage()
    # a header holds one line: an error text with a line break made every send of the alert fail
    message["From"], message["To"], message["Subject"] = smtp.sender, ", ".join(smtp.to), " ".join(subject.split())
    message.set_content(text + "\n")
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as server:
        if smtp.starttls:  # smtplib's default context verifies nothing: the password would go to anyone in between
            server.starttls(context=ssl.create_default_context())
        if smtp.username:
            server.login(smtp.username, password(smtp, credentials_dir))
        server.send_message(message)


def password(smtp: SmtpConfig, credentials_dir: Path | None) -> str:
    """The SMTP password from `password_file` (relative names are looked up in $CREDENTIALS_DIRECTORY)."""
    if smtp.password_file is None:
        return ""
    path = smtp.password_file
    if not path.is_absolute() and credentials_dir is not None:
        path = credentials_dir / path
    return path.read_text().strip()
