"""The HTTP client: one GET per call, the envelope read, every failure classified.

Retrying and quota accounting live in `afc.collect.step`, because each retry must reserve quota again.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import orjson

from afc import __version__
from afc.api import outbound
from afc.api.body import NotJson, TooLarge, Unparsable, has_nul, parse
from afc.api.endpoints import ENDPOINTS
from afc.clock import Clock, resume_after_midnight
from afc.errors import (
    ApiError,
    AuthError,
    FatalApiError,
    MalformedResponse,
    NetworkError,
    ParameterError,
    PlanError,
    QuotaExhausted,
    RateLimited,
    ServerError,
    UnreadableBody,
)
from afc.redact import describe, one_line
from afc.words import kind

# Only these endpoints page; sending `page` anywhere else zeroes the answer (reference §4, §7.2).
PAGED = {name: e.page_size for name, e in ENDPOINTS.items() if e.page_size}
# No real answer has this many pages (a big league's /players has 50-odd): what a planner believes of a total.
MAX_PAGES = 1000
KEY_HEADERS = ("x-apisports-key", "x-rapidapi-key")
# The endpoints whose `response` is an object rather than a list (reference §2).
OBJECT_ANSWERS = frozenset({"teams/statistics", "status"})
RATE_HEADERS = (
    "x-ratelimit-requests-limit",
    "x-ratelimit-requests-remaining",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
)
# Failures before the request was sent; a read timeout or a dropped connection may have been counted.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_AUTH_KEYS = {"token", "access", "subscription"}
REDACTED = "***"
_DAILY_WORDS = ("day", "daily")
# How the API words a limit under whatever key (reference §2, §7.11: "exceeded the limit of requests per minute of
# your subscription", "Your rate limit is 450 requests per minute", "daily request limit"): the wording, not the key.
_RATE_WORDS = ("too many requests", "rate limit", "request limit", "limit of requests", "per minute", "per-minute")
DEFAULT_MAX_BODY = 64 * 2**20  # bytes; AFC_MAX_BODY_MB
COUNT_MAX = 2**31 - 1  # the database's integer columns (results, paging, the ledger's counts)
_ASCII_ESCAPE = re.compile(r"\\u00[2-7][0-9a-fA-F]")
_COUNT = re.compile(r"\s*[-+]?[0-9]{1,10}\s*")  # ASCII digits only: int() also reads "1_0" and other scripts' digits

logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Request:
    """One API call: an endpoint without its leading slash, and string parameters."""

    endpoint: str
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, endpoint: str, params: Mapping[str, Any] | None = None) -> Request:
        """Normalise: strip slashes, drop None values, render values as the API echoes them."""
        rendered = {k: _render(v) for k, v in (params or {}).items() if v is not None}
        return cls(endpoint.strip("/"), tuple(sorted(rendered.items())))

    @property
    def query(self) -> dict[str, str]:
        return dict(self.params)

    def page(self, number: int) -> Request:
        """The same call for page `number` (page 1 is sent without `page`, as the API prefers)."""
        params = {k: v for k, v in self.params if k != "page"}
        if number > 1:
            params["page"] = str(number)
        return Request(self.endpoint, tuple(sorted(params.items())))

    def __str__(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.params)
        return f"/{self.endpoint}" + (f"?{query}" if query else "")


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "-".join(str(v) for v in value)
    return str(value)


@dataclass
class Response:
    """What came back: status, headers (never the key), the parsed body or the text that failed to parse."""

    request: Request
    status: int
    headers: dict[str, str]
    body: dict[str, Any] | None
    text: str | None
    fetched_at: datetime
    duration_ms: int
    error: ApiError | None = field(default=None)
    raw_text: str | None = field(default=None, repr=False)  # the body exactly as received
    unreadable: Unparsable | None = None  # why the body could not be read (kept as text, or not at all)
    nul: bool | None = None  # whether raw_text holds a \\u0000 escape (None: not looked at), found while parsing

    @property
    def errors(self) -> dict[str, str]:
        return errors_of(self.body.get("errors")) if isinstance(self.body, dict) else {}

    @property
    def items(self) -> list[Any]:
        """The `response` array (an object answer (OBJECT_ANSWERS) becomes a one-item list; an error answer's
        null becomes [])."""
        value = self.body.get("response") if isinstance(self.body, dict) else None
        if value is None:
            return []
        return value if isinstance(value, list) else [value]

    @property
    def paging(self) -> tuple[int, int]:
        paging = self.body.get("paging") if isinstance(self.body, dict) else None
        if not isinstance(paging, dict):
            return 1, 1
        current, total = count(paging.get("current")), count(paging.get("total"))
        return 1 if current is None else current, 1 if total is None else total

    def header_int(self, name: str) -> int | None:
        return count(self.headers.get(name))


def count(value: Any) -> int | None:
    """A number the API sent as a count (an envelope field, a quota header): an integer, a whole float or a string
    of digits the database's integer columns hold; None for anything else (20 digits, 1e300, "12.5", "lots"),
    which no stage may then store or trust."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and _COUNT.fullmatch(value):
        value = int(value)
    if type(value) is not int or not -COUNT_MAX <= value <= COUNT_MAX:
        return None
    return value


def errors_of(value: Any) -> dict[str, str]:
    """The envelope's `errors` as a dict: it may be [], {}, a list of strings or an object."""
    if not value:
        return {}
    if isinstance(value, dict):
        return {str(k): _text(v) for k, v in value.items()}
    if isinstance(value, list):
        return {str(i): _text(v) for i, v in enumerate(value)}
    return {"error": _text(value)}


def _text(value: Any) -> str:
    """An error's value as one line of text: a string with its control characters escaped (it reaches terminals and
    logs), anything else as its JSON (not Python's repr)."""
    return one_line(value) if isinstance(value, str) else orjson.dumps(value).decode()


class ApiClient:
    """A thin httpx client for API-Football v3 (or anything that speaks its contract)."""

    def __init__(self, base_url: str, key: str, clock: Clock, *, timeout: float = 20.0,
                 transport: httpx.BaseTransport | None = None, max_body: int = DEFAULT_MAX_BODY):
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self._key = key
        self.max_body = max_body
        self.timeout = timeout
        self._http = outbound.client(  # the timeout bounds a call in all, not each read (see afc.api.outbound)
            base_url=self.base_url,
            headers={"x-apisports-key": key, "user-agent": f"afc/{__version__}"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            # Loading the CA bundle costs ~0.1 s of CPU per client; a plain-http base (the sandbox) never uses
            # it, and redirects are not followed, so only an https base loads it.
            verify=self.base_url.startswith("https://"),
        )

    def get(self, request: Request) -> Response:
        """One GET. Transport failures raise NetworkError; any HTTP answer is returned, classified."""
        started = time.perf_counter()
        fetched_at = self.clock.now()
        try:
            with outbound.deadline(self.timeout), \
                    self._http.stream("GET", "/" + request.endpoint, params=request.query) as http:
                garbled = None
                try:
                    content = read_capped(http, self.max_body, started + self.timeout)
                except httpx.DecodingError:  # the answer came (and counted), not in the encoding it names
                    encoding = http.headers.get("content-encoding", "")[:40]
                    content, garbled = b"", NotJson(f"not decodable as its Content-Encoding ({encoding}) says")
        except NOT_SENT as exc:  # no connection was made: the API never saw (nor counted) the call
            raise NetworkError(f"{request}: {describe(exc, [self._key])}", sent=False) from None
        except httpx.TimeoutException:
            raise NetworkError(f"{request}: timed out after {time.perf_counter() - started:.0f}s") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise NetworkError(f"{request}: {describe(exc, [self._key])}") from None
        ms = int((time.perf_counter() - started) * 1000)
        response = _read(request, http, content, fetched_at, ms, self._key)
        if garbled is not None:
            response.unreadable = garbled
        if content is None:
            response.unreadable = TooLarge(f"the body is over the {self.max_body / 2**20:g} MB cap (AFC_MAX_BODY_MB)")
        response.error = classify(response, self.clock.now())
        return response

    def close(self) -> None:
        self._http.close()


def read_capped(http: httpx.Response, cap: int, deadline: float = math.inf) -> bytes | None:
    """The body's bytes, or None once it is known to exceed `cap` (never more than `cap` read); ReadTimeout past
    `deadline` (perf_counter): httpx's timeout bounds each read, and a server trickling bytes never trips it (on a
    socket `outbound.deadline` ends the read itself; a transport of a test's own is bounded here)."""
    declared = http.headers.get("content-length", "")
    if declared.strip().isdigit() and int(declared) > cap:
        return None
    chunks, size = [], 0
    for chunk in http.iter_bytes():
        if time.perf_counter() > deadline:
            raise httpx.ReadTimeout("the body took longer than the timeout")
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _read(request: Request, http: httpx.Response, content: bytes | None, fetched_at: datetime, ms: int,
          key: str) -> Response:
    headers = {k.lower(): v.replace(key, REDACTED) for k, v in http.headers.items() if k.lower() not in KEY_HEADERS}
    raw_text = (content or b"").decode("utf-8", errors="replace").lstrip("\ufeff")
    if key and key in raw_text:  # a server that echoes the key must not get it into the archive
        raw_text = raw_text.replace(key, REDACTED)
    body, unreadable, nul = None, None, has_nul(raw_text)
    if raw_text.strip():
        try:
            body = parse(raw_text, nul)
        except Unparsable as exc:
            unreadable = exc
    if key and isinstance(body, dict) and _may_spell(raw_text, key):
        masked = _masked(body, key)
        if masked != body:  # the key spelt with JSON escapes: the archive keeps the masked body instead of the text
            body, raw_text = masked, orjson.dumps(masked).decode()
    if isinstance(body, dict) and "errors" in body and not errors_of(body["errors"]):
        problem = items_problem(request.endpoint, body)
        if problem is not None:  # archived as any unreadable body: as text, flagged, never transformed
            body, unreadable = None, Unparsable(problem)
    if not isinstance(body, dict):
        return Response(request, http.status_code, headers, None, raw_text or None, fetched_at, ms,
                        unreadable=unreadable)
    return Response(request, http.status_code, headers, body, None, fetched_at, ms, raw_text=raw_text, nul=nul)


def items_problem(endpoint: str, body: dict[str, Any]) -> str | None:
    """Why the `response` of an answer without errors cannot be read as its items, or None. Only a list (an object
    for OBJECT_ANSWERS) says what a scope holds now: read as `[]`, a null, a string, a number or no `response` at
    all said "none" and emptied the stored injuries, squads or statistics of every scope the request named."""
    if "response" not in body:
        return "the answer has no `response` member"
    value = body["response"]
    if isinstance(value, list) or (isinstance(value, dict) and endpoint in OBJECT_ANSWERS):
        return None
    expected = "a list or an object" if endpoint in OBJECT_ANSWERS else "a list"
    return f"its `response` is {kind(value)}, not {expected}"


def _may_spell(text: str, key: str) -> bool:
    """Whether `text` holds JSON escapes that can spell `key` (printable ASCII): \\u0021 to \\u007e, or \\/ \\" \\\\ for
    those characters of the key. Real answers escape only non-ASCII letters and slashes, so this is rarely true."""
    if "\\" not in text:  # one memchr: most answers have no escape at all
        return False
    return _ASCII_ESCAPE.search(text) is not None or any(c in key and "\\" + c in text for c in '/"\\')


def _masked(value: Any, key: str) -> Any:
    """`value` with `key` masked in every string and member name (parsed JSON nests at most 64 levels)."""
    if isinstance(value, str):
        return value.replace(key, REDACTED) if key in value else value
    if isinstance(value, dict):
        return {_masked(k, key): _masked(v, key) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, key) for v in value]
    return value


def classify(response: Response, now: datetime) -> ApiError | None:
    """The error a response represents, or None when it carries data (possibly none)."""
    where, status = str(response.request), response.status
    if status == 429:
        return _rate_error(response, now, " ".join(response.errors.values()) or (response.text or ""))
    if status == 403 or status == 401:
        return AuthError(f"{where}: the API rejected the key (HTTP {status}); check API_FOOTBALL_KEY",
                         status=status, errors=response.errors)
    if status == 499 or status >= 500:
        return ServerError(f"{where}: the API failed (HTTP {status})", status=status)
    if status != 200:
        return FatalApiError(f"{where}: unexpected HTTP {status}", status=status)
    unreadable = response.unreadable
    if isinstance(unreadable, NotJson):
        return MalformedResponse(f"{where}: the body is {unreadable}", status=status)
    if unreadable is not None:  # the same answer would come again: fail without retrying
        kept = "kept as text" if response.text else "not kept"
        return UnreadableBody(f"{where}: unreadable body: {unreadable} ({kept})", status=status)
    body = response.body
    if body is None or "errors" not in body:
        return MalformedResponse(f"{where}: the body is not the API's JSON envelope", status=status)
    error = _envelope_error(response, now)
    problem = items_problem(response.request.endpoint, body) if error is None else None
    if problem is not None:  # an archived answer replayed by `afc rebuild` (the client flags it as it reads)
        return UnreadableBody(f"{where}: unreadable body: {problem}", status=status)
    return error


def _envelope_error(response: Response, now: datetime) -> ApiError | None:
    errors = response.errors
    if not errors:
        return None
    where, text = str(response.request), "; ".join(f"{k}: {v}" for k, v in errors.items())
    keys = set(errors)
    if keys & _AUTH_KEYS:
        return AuthError(f"{where}: the API rejected the key ({text})", status=200, errors=errors)
    if "requests" in keys or "ratelimit" in {k.lower() for k in keys}:
        return _rate_error(response, now, text)
    if "bug" in keys or {"time", "report"} <= keys:
        return ServerError(f"{where}: the API reported a bug on its side", status=200, errors=errors)
    if "plan" in keys:
        return PlanError(f"{where}: not in your plan ({text})", status=200, errors=errors)
    lowered = text.lower()
    if not _about_fields(response.request, errors) and any(words in lowered for words in _RATE_WORDS):
        return _rate_error(response, now, text)
    return ParameterError(f"{where}: the API rejected the request ({text})", status=200, errors=errors)


def _about_fields(request: Request, errors: dict[str, str]) -> bool:
    """Whether every error is the API's validation of a parameter: under the parameter's name (one the endpoint
    takes or the request sent, `page`, `endpoint`), or worded "The Ids field …". Whatever else it says ("… the
    request limit of 20 ids"), it is no rate limit: read as one, it parked every job till midnight or was retried."""
    endpoint = ENDPOINTS.get(request.endpoint)
    names = {"page", "endpoint", *(endpoint.params if endpoint else ()), *(name for name, _ in request.params)}
    return all(key.lower() in names or str(text).lower().startswith(f"the {key.lower()} field")
               for key, text in errors.items())


def _rate_error(response: Response, now: datetime, text: str) -> ApiError:
    """Daily exhaustion parks work until 00:00 UTC; the minute limit only waits for the window."""
    where, lowered = str(response.request), text.lower()
    has_headers = any(h in response.headers for h in RATE_HEADERS)
    daily = "requests" in response.errors or any(w in lowered for w in _DAILY_WORDS) or (
        response.status == 429 and not has_headers and "minute" not in lowered
    )
    if daily:
        resume = resume_after_midnight(now)  # the ledger refines this (see Ledger.exhaust)
        return QuotaExhausted(f"{where}: the daily request limit is reached; resumes at "
                              f"{resume:%Y-%m-%d %H:%M} UTC", resume_at=resume, status=response.status)
    return RateLimited(f"{where}: the per-minute rate limit is reached", status=response.status)
