"""One request in, one reply out: key check, faults, quota, validation, the endpoint, the envelope.

Decisions where the real API is unknown (see docs/sandbox.md): every answer to a recognised key
counts against the quota, validation errors and unknown endpoints included, except `/status`,
the quota rejections themselves, non-GET methods, and the faults that never reach the API
(5xx, 499, 429, timeout, drop). `slow`, `malformed`, `truncated` and `bug` are counted.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

from afc.clock import SimClock, SystemClock
from afc.sandbox.config import SandboxConfig
from afc.sandbox.contract import (
    Endpoint,
    Invalid,
    Query,
    Raw,
    envelope,
    error_envelope,
    free_plan_window,
    page_of,
    validate,
)
from afc.sandbox.endpoints import ROUTES
from afc.sandbox.faults import BEFORE, UNREADABLE, Faults
from afc.sandbox.memo import Lru
from afc.sandbox.render import iso
from afc.sandbox.tiers import DAILY_429_MESSAGE, DAILY_MESSAGE, MINUTE_429_MESSAGE, TIERS, Quota, minute_message
from afc.sandbox.truth import season_year
from afc.sandbox.world import World

log = logging.getLogger("afc.sandbox")
AnyClock = SystemClock | SimClock
NO_KEY_BODY = {"get": "", "parameters": [], "errors": {
    "token": "Missing application key, Check our documentation on how to add your API key in headers.",
    "error": "4xHe"}, "results": 0, "paging": {"current": 1, "total": 1}, "response": []}
BAD_KEY = ("Error/Missing application key. Go to https://www.api-football.com/documentation-v3 to learn how to "
           "get your API application key.")
FAILURE_BODY = {"message": "Something went wrong while fetching details. Try again later."}
BASE_HEADERS = [("Content-Type", "application/json"),
                ("cache-control", "no-store, no-cache, must-revalidate"),
                ("access-control-allow-origin", "*")]


@dataclass
class Reply:
    """What the HTTP layer sends: status, headers, body, or an `action` (drop, timeout) instead."""

    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    action: str | None = None  # "drop" or "timeout": do not answer
    delay: float = 0.0  # seconds to wait before answering (the `slow` fault)


def dump(body: object) -> bytes:
    """Compact JSON, UTF-8, as the API sends it; a `Raw` response is spliced in without re-encoding."""
    if isinstance(body, dict) and isinstance(body.get("response"), Raw):
        head = json.dumps({k: v for k, v in body.items() if k != "response"}, ensure_ascii=False, separators=(",", ":"))
        return f'{head[:-1]},"response":[{",".join(body["response"])}]}}'.encode()
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def parse_target(target: str) -> tuple[str, dict[str, str]]:
    """(endpoint without slashes or the RapidAPI `v3/` prefix, query parameters in order)."""
    parts = urlsplit(target)
    path = parts.path.strip("/")
    if path.startswith("v3/") or path == "v3":
        path = path[3:]
    return path, dict(parse_qsl(parts.query, keep_blank_values=True))


class Api:
    """The sandbox API behind the HTTP server: state (quota, counters, faults) and the world."""

    def __init__(self, cfg: SandboxConfig, clock: AnyClock, world: World | None = None):
        self.cfg = cfg.validate()
        self.clock = clock
        self.world = world or World.shared(cfg.seed, season_year(clock.now()), cfg.extra_leagues)
        self.quota = Quota(cfg.daily, cfg.per_minute, cfg.rate_limit)
        self.faults = Faults(cfg.faults, cfg.fault_seed)
        self.calls: Counter = Counter()
        self.requests: deque[tuple[str, dict[str, str]]] = deque(maxlen=100_000)
        self._static = Lru(2048)  # bodies of static endpoints, by parameters
        self._lock = threading.Lock()

    def handle(self, method: str, target: str, headers: Mapping[str, str]) -> Reply:
        """Answer one request (`headers` with lower-case names)."""
        path, params = parse_target(target)
        with self._lock:
            self.requests.append((path, params))
        fault = self.faults.pick()
        if fault:
            log.debug("sandbox fault %s on %s %s", fault, path, params)
        if fault in BEFORE:
            return self._early_fault(fault)
        try:
            reply = self._answer(method, path, params, headers)
        except Exception:  # a sandbox bug must not kill the connection thread
            log.exception("sandbox: error answering %s %s", path, params)
            return Reply(500, dump(FAILURE_BODY), list(BASE_HEADERS))
        return self._late_fault(fault, reply, path, params) if fault else reply

    def _early_fault(self, fault: str) -> Reply:
        if fault in ("drop", "timeout"):
            return Reply(action=fault)
        if fault == "429":
            body = error_envelope("", {}, {"rateLimit": MINUTE_429_MESSAGE})
            return Reply(429, dump(body), BASE_HEADERS + self.quota.headers(self.clock.now()))
        return Reply(int(fault), dump(FAILURE_BODY), list(BASE_HEADERS))

    def _late_fault(self, fault: str, reply: Reply, path: str, params: dict[str, str]) -> Reply:
        if fault == "slow":
            reply.delay = self.faults.delay(*self.cfg.slow_seconds)
        elif fault == "malformed":
            reply.body = reply.body.replace(b'"errors":', b'"errors"', 1) + b"}"
        elif fault == "truncated":
            reply.body = reply.body[:len(reply.body) // 2]
        elif fault in UNREADABLE:
            reply.body = reply.body.replace(b'"response":', b'"fault":' + UNREADABLE[fault] + b',"response":', 1)
        elif fault == "bug":
            errors = {"time": iso(self.clock.now().replace(microsecond=0), UTC),
                      "bug": "This is on our side, please report us this bug on https://dashboard.api-football.com",
                      "report": path}
            reply.body = dump(error_envelope(path, params, errors))
        return reply

    def _answer(self, method: str, path: str, params: dict[str, str], headers: Mapping[str, str]) -> Reply:
        if method != "GET":
            message = f"The {method} method is not supported for this route. Supported methods: GET."
            return Reply(200, dump(error_envelope(path, params, {"method": message})), list(BASE_HEADERS))
        key = headers.get("x-apisports-key") or headers.get("x-rapidapi-key")
        if key is None:
            return Reply(403, dump(NO_KEY_BODY), list(BASE_HEADERS))
        if key != self.cfg.key:
            return Reply(200, dump(error_envelope(path, params, {"token": BAD_KEY})), list(BASE_HEADERS))
        now = self.clock.now()
        ep = ROUTES.get(path)
        if ep is None or ep.counted:
            refused = self.quota.admit(now)
            if refused:
                return self._refused(refused, path, params, now)
            with self._lock:
                self.calls[path] += 1
        return Reply(200, self._cached_body(ep, path, params, now), BASE_HEADERS + self.quota.headers(now))

    def _cached_body(self, ep: Endpoint | None, path: str, params: dict[str, str], now: datetime) -> bytes:
        if ep is None or not ep.static or self.cfg.plan == "free":
            return dump(self._body(path, params, now))
        key = (path, tuple(params.items()))
        body = self._static.get(key)
        return body if body is not None else self._static.put(key, dump(self._body(path, params, now)))

    def _refused(self, reason: str, path: str, params: dict[str, str], now: datetime) -> Reply:
        if reason == "requests" and self.cfg.quota_429:
            return Reply(429, dump(error_envelope(path, params, {"rateLimit": DAILY_429_MESSAGE})), list(BASE_HEADERS))
        message = DAILY_MESSAGE if reason == "requests" else minute_message(self.cfg.per_minute)
        return Reply(200, dump(error_envelope(path, params, {reason: message})), BASE_HEADERS + self.quota.headers(now))

    def _body(self, path: str, params: dict[str, str], now: datetime) -> dict:
        ep = ROUTES.get(path)
        if ep is None:
            label = path[:1].upper() + path[1:]
            return error_envelope(path, params, {"endpoint": f"The {label} endpoint does not exist."})
        q = Query(path, params, self.world, now, self.cfg.plan, self._account(now) if path == "status" else {})
        try:
            validate(ep, q)
            if self.cfg.plan == "free" and ep.counted:
                free_plan_window(q)
            answer = ep.handler(q)
        except Invalid as exc:
            return error_envelope(path, params, exc.errors)
        if ep.page_size:
            items, paging = page_of(answer.response, int(params.get("page") or 1), ep.page_size)
            return envelope(path, params, [], items, paging)
        return envelope(path, params, [], answer.response, results=answer.results)

    def _account(self, now: datetime) -> dict:
        return {"plan": TIERS[self.cfg.plan].name, "current": self.quota.used_today(now), "limit_day": self.cfg.daily}
