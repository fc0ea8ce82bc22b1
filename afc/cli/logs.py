"""Logging: JSON lines on stderr under systemd (journald), readable text on a terminal; never the key."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

from afc.redact import describe, one_line

REDACTED = "***"


class Redact(logging.Filter):
    """Replaces any secret that reaches a log record (defence in depth: afc never logs the key)."""

    def __init__(self, secrets: Iterable[str]):
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            text = record.getMessage()
            if any(s in text for s in self.secrets):
                for secret in self.secrets:
                    text = text.replace(secret, REDACTED)
                record.msg, record.args = text, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, the fields journald users grep for."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                 "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage()}
        if record.exc_info and record.exc_info[1] is not None:
            entry["error"] = describe(record.exc_info[1])  # a library's text can quote URLs and headers
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`LEVEL logger: message`, one line: a message quoting the API's text shows its control characters escaped."""

    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's naming)
        return one_line(super().formatMessage(record))


class JournalFormatter(logging.Formatter):
    """Prefixes each line with its syslog priority (`<4>` for a warning), which journald reads (SyslogLevelPrefix=,
    on by default) and strips: without it every line was stored at priority 6, and `journalctl -p warning` showed
    none of afc's warnings or errors."""

    def __init__(self, inner: logging.Formatter):
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return f"<{syslog_priority(record.levelno)}>{self.inner.format(record)}"


def syslog_priority(level: int) -> int:
    """The syslog priority of a logging level: error 3, warning 4, info 6, debug 7."""
    for floor, priority in ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6)):
        if level >= floor:
            return priority
    return 7


def under_journald() -> bool:
    """True when stderr is connected to the journal ($JOURNAL_STREAM names stderr's device:inode)."""
    stream = os.environ.get("JOURNAL_STREAM", "")
    try:
        st = os.fstat(sys.stderr.fileno())
    except (OSError, ValueError):
        return False
    return stream == f"{st.st_dev}:{st.st_ino}"


def setup(level: int, fmt: str = "auto", secrets: Iterable[str] = ()) -> None:
    """Configure the root logger on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    journal = under_journald()
    use_json = fmt == "json" or (fmt == "auto" and journal)
    formatter: logging.Formatter = JsonFormatter() if use_json else TextFormatter()
    handler.setFormatter(JournalFormatter(formatter) if journal else formatter)
    handler.addFilter(Redact(secrets))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for noisy in ("httpx", "httpcore"):  # their request lines carry full URLs (a webhook's is its secret)
        logging.getLogger(noisy).setLevel(logging.WARNING)
