"""The API's contract: the six-key envelope, parameter validation with its messages, paging.

Messages are verbatim from recorded responses where known (`The League field is required.`,
`The Leaguee field do not exist.`, ...); the few the real API was never seen sending (a bad
date, too many ids) are worded in the same style and listed in docs/sandbox.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from afc.sandbox.timezones import TIMEZONE_SET

if TYPE_CHECKING:
    from afc.sandbox.world import World

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INT_PARAMS = frozenset({"id", "league", "team", "fixture", "venue", "player", "coach", "bookmaker", "bet", "page",
                        "last", "next"})
MAX_IDS = 20
DATE_PARAMS = frozenset({"date", "from", "to"})


class Invalid(Exception):
    """A request the API answers with HTTP 200 and a non-empty `errors` object."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


@dataclass
class Query:
    """A validated request: its parameters (strings), the world and the sandbox clock's now."""

    endpoint: str
    params: dict[str, str]
    world: World
    at: datetime
    plan: str = "pro"
    account: dict = field(default_factory=dict)  # plan and usage, for /status

    def get(self, name: str) -> str | None:
        """A parameter as sent, or None."""
        return self.params.get(name)

    def required(self, name: str) -> str:
        """A parameter the endpoint requires (validation has checked it is there)."""
        value = self.params.get(name)
        if not value:
            raise Invalid({name: f"The {_label(name)} field is required."})
        return value

    def required_int(self, name: str) -> int:
        """A required parameter as an integer (validation has checked it is there and is one)."""
        return int(self.required(name))

    def int(self, name: str) -> int | None:
        """A parameter as an integer (validation has checked it), or None."""
        value = self.params.get(name)
        return int(value) if value is not None else None

    def flag(self, name: str) -> bool | None:
        """A `true`/`false` parameter, or None."""
        value = self.params.get(name)
        return None if value is None else value.lower() == "true"

    @property
    def today(self) -> date:
        """The sandbox clock's UTC day."""
        return self.at.date()


@dataclass
class Answer:
    """What a handler returns: the `response` value and, for object responses, `results`."""

    response: Any
    results: int | None = None


@dataclass(frozen=True)
class Endpoint:
    """One path of the API: its parameters, the rules they follow, and the handler."""

    path: str
    handler: Callable[[Query], Answer]
    params: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    at_least_one: bool = False
    page_size: int | None = None
    search_min: int = 3
    counted: bool = True
    rules: tuple[Callable[[Query], None], ...] = field(default=())
    static: bool = False  # the answer depends on the parameters only, never on the clock: cache the body


class Raw(list):
    """A `response` list whose items are already JSON text (cached fixture items), spliced in as is."""


def envelope(get: str, params: dict[str, str], errors: dict | list, response: Any,
             paging: tuple[int, int] = (1, 1), results: int | None = None) -> dict:
    """The six-key body every JSON answer of the API has."""
    if results is None:
        results = len(response) if isinstance(response, list) else 1
    return {"get": get, "parameters": params or [], "errors": errors or [], "results": results,
            "paging": {"current": paging[0], "total": paging[1]}, "response": response}


def error_envelope(get: str, params: dict[str, str], errors: dict[str, str]) -> dict:
    """An envelope reporting `errors` with nothing in `response`."""
    return envelope(get, params, errors, [], results=0)


def _label(name: str) -> str:
    return name[:1].upper() + name[1:]


def _check_value(name: str, value: str, search_min: int) -> str | None:
    if name == "season":
        if not value.isdigit():
            return "The Season field must contain an integer."
        if len(value) != 4:
            return "The Season field must contain 4 characters."
    elif name in INT_PARAMS and not value.isdigit():
        return f"The {_label(name)} field must contain an integer."
    elif name == "page" and int(value) < 1:
        return "The Page field must be greater than 0."
    elif name in DATE_PARAMS and not _is_date(value):
        return f"The {_label(name)} field must contain a valid date in the format YYYY-MM-DD."
    elif name == "search" and len(value) < search_min:
        return f"The Search field must be at least {search_min} characters in length."
    elif name == "timezone" and value not in TIMEZONE_SET:
        return "The Timezone field must contain a valid timezone."
    elif name in ("last", "next") and len(value) > 2:
        return f"The {_label(name)} field must contain a maximum of 2 characters."
    return None


def _is_date(value: str) -> bool:
    if not DATE_RE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def validate(ep: Endpoint, q: Query) -> None:
    """Raise `Invalid` with one message per bad field, in the API's order of checks."""
    unknown = {p: f"The {_label(p)} field do not exist." for p in q.params if p not in ep.params}
    if unknown:
        raise Invalid(unknown)
    if ep.at_least_one and not q.params:
        raise Invalid({"required": "At least one parameter is required."})
    missing = {p: f"The {_label(p)} field is required." for p in ep.required if not q.params.get(p)}
    if missing:
        raise Invalid(missing)
    bad = {p: msg for p, v in q.params.items() if (msg := _check_value(p, v, ep.search_min))}
    if bad:
        raise Invalid(bad)
    for rule in ep.rules:
        rule(q)


def free_plan_window(q: Query) -> None:
    """The Free plan's season window (three past seasons) and date window (today ±1 day)."""
    season, day = q.get("season"), q.get("date")
    top = q.world.current_season(0, q.at)
    if season is not None and not top - 4 <= int(season) <= top - 2:
        raise Invalid({"plan": f"Free plans do not have access to this season, try from {top - 4} to {top - 2}."})
    if day is not None and abs((date.fromisoformat(day) - q.today).days) > 1:
        first, last = q.today - timedelta(days=1), q.today + timedelta(days=1)
        raise Invalid({"plan": f"Free plans do not have access to this date, try from {first} to {last}."})


def page_of(items: list, page: int, size: int) -> tuple[list, tuple[int, int]]:
    """One page of `items` and its (current, total); a page past the end is empty."""
    total = max(1, math.ceil(len(items) / size))
    return type(items)(items[(page - 1) * size:page * size]), (page, total)


def ids_list(q: Query, name: str) -> list[int]:
    """A dash-separated list of ids (`1-2-3`), at most 20, each an integer."""
    raw = q.get(name) or ""
    parts = [p for p in raw.split("-") if p]
    if not parts or not all(p.isdigit() for p in parts):
        raise Invalid({name: f"The {_label(name)} field must contain ids separated by a dash."})
    if len(parts) > MAX_IDS:
        raise Invalid({name: f"The {_label(name)} field must contain a maximum of {MAX_IDS} ids."})
    return [int(p) for p in parts]


def exclusive(first: str, second: str, message: str | None = None) -> Callable[[Query], None]:
    """A rule: `first` cannot be combined with `second`."""
    def rule(q: Query) -> None:
        if first in q.params and second in q.params:
            text = f"The {_label(first)} field cannot be used with the {_label(second)} field."
            raise Invalid({first: message or text})
    return rule


def requires(name: str, *needed: str) -> Callable[[Query], None]:
    """A rule: when `name` is given, one of `needed` is required (the first is named in the error)."""
    def rule(q: Query) -> None:
        if name in q.params and not any(n in q.params for n in needed):
            raise Invalid({needed[0]: f"The {_label(needed[0])} field is required."})
    return rule
