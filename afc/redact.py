"""Secrets out of everything afc shows: URLs, libpq conninfo strings and exception text.

Every URL or connection string that reaches a message, a log line or a table goes through
`redact_url`; every exception text from a library (httpx, psycopg, smtplib) goes through
`describe`. Both parse instead of pattern-matching `user:pw@`, because a password can also sit
in a query (`?password=`), in a conninfo string (`password=…`) or in a URL's path (a webhook).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit

MASK = "***"
MAX_REASON = 300
# Query/conninfo keys whose value is a credential (compared lower-case, without - and _).
SECRET_KEYS = frozenset({"password", "passwd", "pass", "pwd", "sslpassword", "secret", "token",
                         "accesstoken", "apikey", "key", "auth", "authorization", "signature", "sig"})
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
_ASSIGNED = re.compile(r"\b(\w*(?:password|passwd|secret|token|apikey|api_key)\w*)\s*=\s*('[^']*'|\"[^\"]*\"|\S+)",
                       re.IGNORECASE)
_HEADERISH = re.compile(r"header", re.IGNORECASE)
# libpq's parse errors quote a fragment of the connection string, which may be part of the password.
# Control and layout characters: newlines, ANSI escapes (ESC), BEL, bidi overrides, zero-width marks.
_UNSHOWN = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_CONNINFO_ERROR = re.compile(r"connection (info|string)|conninfo|invalid (URI|URL)|percent-encoded", re.IGNORECASE)


def _secret_key(name: str) -> bool:
    return name.lower().replace("-", "").replace("_", "") in SECRET_KEYS


def redact_url(url: str) -> str:
    """`url` (a URL or a libpq conninfo string) with every password and credential value masked."""
    if "://" in url:
        return _redact_uri(url)
    if "=" in url:
        return _redact_conninfo(url)
    return url


def _redact_uri(url: str) -> str:
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            creds, _, hosts = netloc.rpartition("@")
            user = creds.split(":", 1)[0]
            netloc = f"{user}:{MASK}@{hosts}" if ":" in creds else f"{user}@{hosts}"
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if netloc == parts.netloc and not any(_secret_key(k) for k, _ in pairs) and not parts.fragment:
            return url  # nothing to hide: keep it exactly as written (sqlite:////abs/path)
        query = urlencode([(k, MASK if _secret_key(k) else v) for k, v in pairs], safe="*/:")
        return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")
    except ValueError:  # not parsable: show only what cannot be a secret
        return f"{url.split('://', 1)[0]}://{MASK}"


def _redact_conninfo(text: str) -> str:
    try:
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        params = conninfo_to_dict(text)
    except Exception:  # noqa: BLE001 - psycopg's parse error quotes the string: never show it
        return "<connection string, not shown>"
    return make_conninfo("", **{k: (MASK if _secret_key(k) else v) for k, v in params.items()})


def origin(url: str) -> str:
    """Scheme and host of `url` only: for URLs whose path or query is itself a secret (webhooks)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<url, not shown>"
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}" if parts.scheme else "<url, not shown>"


def describe(exc: BaseException, secrets: Iterable[str] = ()) -> str:
    """One safe line for a library exception: its type and its first line with secrets masked.

    httpx quotes header values ("Illegal header value b'…'") and URLs ("for url 'https://…'");
    psycopg quotes parts of a conninfo string. None of that is shown verbatim.
    """
    name = type(exc).__name__
    text = str(exc).strip()
    first = text.splitlines()[0].strip() if text else ""
    return f"{name}: {sanitize(first, secrets)}" if first else name


def sanitize(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` on one line with URLs reduced to their origin, credential assignments and `secrets` masked."""
    text = " ".join(text.split())
    if _HEADERISH.search(text):  # h11/httpx quote the offending header's value: drop all of it
        return "an HTTP header was refused (its value is not shown)"
    if _CONNINFO_ERROR.search(text):
        text = re.sub(r'"[^"]*"', '"…"', text)
    text = _URL.sub(lambda m: origin(m.group(0).rstrip(".,;)")), text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    text = _ASSIGNED.sub(lambda m: f"{m.group(1)}={MASK}", text)
    return text[:MAX_REASON]


def one_line(text: str) -> str:
    """`text` with control and layout characters written as escapes (`\\n`, `\\x1b`, `\\u202e`): text from the API
    or a file reaches a terminal as one readable line, never as a terminal command."""
    return _UNSHOWN.sub(_escape, text) if _UNSHOWN.search(text) else text


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return {10: "\\n", 13: "\\r", 9: "\\t"}.get(code) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
