"""One delivery attempt over HTTP: a signed JSON webhook or an ntfy message.

A webhook gets the event's JSON as the body, `X-Afc-Signature: sha256=<hex HMAC-SHA256 of the body>`
with the target's secret, and the idempotency key in `X-Afc-Idempotency-Key` (receivers deduplicate
on it: delivery is at least once). Any 2xx is success; a redirect is not followed; the whole attempt, connect to
last byte, ends within the timeout and reads at most 64 KiB of the answer (`afc.api.outbound`), so a
huge, endless or trickling answer costs nothing. A
failure is one line naming the target, never its URL (it may hold a token) nor a secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from pathlib import Path
from typing import Any

import httpx

from afc.api import outbound
from afc.config.notify import Target
from afc.errors import ConfigError
from afc.redact import describe

SIGNATURE = "X-Afc-Signature"
KEY_HEADER = "X-Afc-Idempotency-Key"
_HEADER_TOKEN = re.compile(rb"[\x21-\x7e]+")  # an ntfy token goes in `Authorization: Bearer <token>`
HEADLINES = {
    "kickoff": "Kick-off", "goal": "Goal", "goal_disallowed": "Goal disallowed (VAR)",
    "goal_cancelled": "Goal cancelled", "red_card": "Red card", "penalty_missed": "Penalty missed",
    "half_time": "Half time", "full_time": "Full time", "score_corrected": "Score corrected",
    "postponed": "Postponed", "cancelled": "Cancelled", "abandoned": "Abandoned",
    "lineups_confirmed": "Lineups confirmed", "correction": "Correction",
}


def read_secrets(targets: list[Target], credentials_dir: Path | None) -> dict[str, bytes]:
    """Every credential the targets name, read once at start; a missing one is a one-line config error."""
    found: dict[str, bytes] = {}
    for target in targets:
        for name in target.credentials():
            path = credentials_dir / name if credentials_dir else None
            if path is None or not path.is_file():
                raise ConfigError(f"notify target {target.name}: credential {name!r} not found in the credentials "
                                  "directory ($CREDENTIALS_DIRECTORY, systemd LoadCredential=)")
            value = path.read_bytes().strip()
            if not value:
                raise ConfigError(f"notify target {target.name}: credential {name!r} is empty")
            if name == target.token and not _HEADER_TOKEN.fullmatch(value):
                raise ConfigError(f"notify target {target.name}: credential {name!r} must be one line of printable "
                                  f"ASCII without spaces, as an HTTP header carries it ({len(value)} bytes, not shown)")
            found[name] = value
    return found


def body_of(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent and signed: compact JSON, keys sorted."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(secret: bytes, body: bytes) -> str:
    """The signature header's value for `body`."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def headline(payload: dict[str, Any]) -> str:
    """A one-line summary for people (ntfy): what happened, the score, who and when."""
    fixture = payload.get("fixture") or {}
    home, away = (fixture.get("home") or {}).get("name"), (fixture.get("away") or {}).get("name")
    score = fixture.get("score") or {}
    line = f"{HEADLINES.get(payload.get('kind', ''), payload.get('kind'))}: {home} {score.get('home')}-" \
           f"{score.get('away')} {away}"
    player, minute = (payload.get("player") or {}).get("name"), payload.get("minute")
    if player or minute is not None:
        line += f" ({player or '?'}{f' {minute}′' if minute is not None else ''})"
    return line


def request_of(target: Target, key: str, payload: dict[str, Any],
               secrets: dict[str, bytes]) -> tuple[str, bytes, dict[str, str]]:
    """URL, body and headers of one attempt."""
    headers = {KEY_HEADER: key, "X-Afc-Event": str(payload.get("kind")), "User-Agent": "afc-notify/1"}
    if target.type == "webhook":
        body = body_of(payload)
        headers |= {"Content-Type": "application/json", SIGNATURE: sign(secrets[str(target.secret)], body)}
        return target.url, body, headers
    fixture = payload.get("fixture") or {}
    title = f"{(fixture.get('home') or {}).get('name')} - {(fixture.get('away') or {}).get('name')}"
    headers |= {"Title": _header_text(title), "Tags": "soccer",
                "Content-Type": "text/plain; charset=utf-8"}
    if target.token:
        headers["Authorization"] = "Bearer " + secrets[target.token].decode()
    return f"{target.url.rstrip('/')}/{target.topic}", headline(payload).encode(), headers


def _header_text(text: str) -> str:
    """A header value: as is in ASCII, else an RFC 2047 encoded word (ntfy decodes it: "Atlético").

    Control characters and line breaks (a team name from the API is data, not a header) become single spaces:
    h11 refuses a value with CR or LF, which failed every attempt of the fixture's events until dead-lettered.
    """
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    if text.isascii():
        return text
    return "=?UTF-8?B?" + base64.b64encode(text.encode()).decode() + "?="


def attempt(client: httpx.Client, target: Target, key: str, payload: dict[str, Any], secrets: dict[str, bytes],
            timeout: float) -> str | None:
    """Send once within `timeout` in all (with a client from `afc.api.outbound.client`); None on success, else
    why it failed (one line, no URL, no secret)."""
    url, body, headers = request_of(target, key, payload, secrets)
    try:
        code = outbound.post(client, url, body, headers, timeout)
    except httpx.TimeoutException:
        return f"target {target.name}: no answer within {timeout:g}s"
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return f"target {target.name}: {describe(exc, [s.decode(errors='replace') for s in secrets.values()])}"
    if 200 <= code < 300:
        return None
    if 300 <= code < 400:
        return f"target {target.name}: HTTP {code} redirect not followed; point the target at the final URL"
    return f"target {target.name}: HTTP {code}"
