"""Job specs: `jobs/*.yaml` loaded and validated; every error names the file, the job and the field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from afc.api.endpoints import ENDPOINTS
from afc.config.settings import Priority
from afc.errors import ConfigError
from afc.resources import default_jobs_dir

TEMPLATE = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
TEMPLATE_VARS = {"today", "yesterday", "tomorrow", "season", "league", "team", "country", "now", "ids", "date",
                 "fixture"}
FANOUT_VARS = {None: set(), "league": {"league"}, "league_season": {"league", "season"},
               "team": {"team", "league", "season"}, "country": {"country"},
               # fan-outs over what core holds (afc.jobs.targets): batches of fixture ids, league seasons, days
               "fixtures_needing_details": {"ids"}, "fixtures_to_sweep": {"ids"},
               "league_seasons_played": {"league", "season"}, "league_seasons_scored": {"league", "season"},
               "odds_upcoming": {"league", "season", "date"}, "fixtures_needing_prediction": {"fixture"}}
FANOUT_ONLY = {"league", "season", "team", "country", "ids", "date", "fixture"}
KEYWORD_SCHEDULES = {"minutely", "hourly", "daily", "weekly", "monthly", "quarterly", "yearly"}
_CRON_FIELD = re.compile(r"(\*|\d{1,2}(-\d{1,2})?)(/\d{1,2})?(,(\*|\d{1,2}(-\d{1,2})?)(/\d{1,2})?)*")
_JOB_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
Layer = Literal["raw", "core", "mart"]  # where a job's responses land


def check_schedule(value: str) -> str:
    """A keyword (`hourly`), a 5-field cron expression, or a systemd OnCalendar spec prefixed `calendar:`."""
    from afc.config.schedule import parse

    text = value.strip()
    if not re.fullmatch(r"[ -~]+", text):  # it is rendered into unit files and the crontab
        raise ValueError(f"must be printable ASCII on one line, got {value!r}")
    if text in KEYWORD_SCHEDULES:
        return text
    fields = text.split()
    if text.startswith("calendar:") or (len(fields) == 5 and all(_CRON_FIELD.fullmatch(f) for f in fields)):
        try:  # what the units and the crontab are rendered from must accept it too (bounds, day rules)
            parse(text)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return text
    raise ValueError(f"must be one of {', '.join(sorted(KEYWORD_SCHEDULES))}, a 5-field cron "
                     f"expression such as '15 * * * *', or 'calendar:<OnCalendar spec>', got {value!r}")


class Job(BaseModel):
    """One collection job: an endpoint, its templated parameters, how often and how urgently."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    job_id: str
    type: Literal["bootstrap", "daily", "live", "backfill", "maintenance"]
    enabled: bool = True
    priority: Priority = "MEDIUM"
    endpoint: str
    params: dict[str, str | int | bool] = Field(default_factory=dict)
    for_each: Literal["league", "league_season", "team", "country", "fixtures_needing_details", "fixtures_to_sweep",
                      "league_seasons_played", "league_seasons_scored", "odds_upcoming",
                      "fixtures_needing_prediction"] | None = None
    schedule: str | None = None
    dependencies: list[str] = Field(default_factory=list)
    target_layers: list[Layer] = Field(default_factory=lambda: list[Layer](["raw", "core"]))
    coverage_target: float | None = Field(None, ge=0, le=100)
    description: str | None = None

    @field_validator("job_id")
    @classmethod
    def _job_id(cls, value: str) -> str:
        if not _JOB_ID.fullmatch(value):  # `$` would let a trailing newline through into unit files
            raise ValueError(f"must be lowercase letters, digits and underscores, got {value!r}")
        return value

    @field_validator("description")
    @classmethod
    def _description(cls, value: str | None) -> str | None:
        if value is not None and not value.isprintable():  # no newline or control character reaches a file
            raise ValueError("must be one line of printable text")
        return value

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        name = value.strip().strip("/")
        if name not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {value!r}; known: {', '.join(sorted(ENDPOINTS))}")
        return name

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        return None if value is None else check_schedule(value)

    @model_validator(mode="after")
    def _params(self) -> Job:
        spec = ENDPOINTS[self.endpoint]
        allowed = FANOUT_VARS[self.for_each] | (TEMPLATE_VARS - FANOUT_ONLY)
        for name, value in self.params.items():
            if name == "page":
                raise ValueError("params.page: afc pages by itself; remove it")
            if name not in spec.params:
                raise ValueError(f"params.{name}: /{self.endpoint} has no such parameter; "
                                 f"it takes {', '.join(sorted(spec.params)) or 'none'}")
            for var in TEMPLATE.findall(str(value)):
                if var not in allowed:
                    raise ValueError(f"params.{name}: template {{{{ {var} }}}} needs "
                                     f"for_each {_needs(var)}" if var in TEMPLATE_VARS
                                     else f"params.{name}: unknown template {{{{ {var} }}}}")
            if name == "season" and not TEMPLATE.search(str(value)) and not re.fullmatch(r"\d{4}", str(value)):
                raise ValueError(f"params.season: must be a 4-digit year, got {value!r}")
        from afc.transform import has_transform  # loads every transform: only when a job file is checked

        if "core" in self.target_layers and not has_transform(self.endpoint):
            raise ValueError(f"target_layers: /{self.endpoint} is kept in raw only; use [raw]")
        return self


def _needs(var: str) -> str:
    return {"season": "league_season", "league": "league_season", "ids": "fixtures_needing_details",
            "date": "odds_upcoming", "fixture": "fixtures_needing_prediction"}.get(var, var)


class TrackedLeague(BaseModel):
    """A league afc follows, and which of its seasons."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    league: int = Field(gt=0)
    seasons: list[int | Literal["current"]] = Field(default_factory=lambda: list[int | Literal["current"]](["current"]))
    name: str | None = None

    @field_validator("seasons")
    @classmethod
    def _seasons(cls, value: list[int | str]) -> list[int | str]:
        for season in value:
            if season != "current" and not (1900 <= int(season) <= 2100):
                raise ValueError(f"must be 'current' or a 4-digit year, got {season!r}")
        return value


class ConfigFile(BaseModel):
    """One YAML file of the jobs directory: any of these sections."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    jobs: list[Job] = Field(default_factory=list)
    tracked: list[TrackedLeague] = Field(default_factory=list)
    live: dict[str, Any] | None = None
    coverage: dict[str, Any] | None = None
    alerts: dict[str, Any] | None = None
    backfill: dict[str, Any] | None = None
    daily: dict[str, Any] | None = None
    ops: dict[str, Any] | None = None
    notify: dict[str, Any] | None = None


class JobConfig(BaseModel):
    """Everything in a jobs directory, merged."""

    model_config = ConfigDict(frozen=True)

    directory: Path
    jobs: dict[str, Job]
    tracked: list[TrackedLeague]
    sections: dict[str, dict[str, Any]]
    sources: dict[str, str]  # job_id -> file it came from
    section_sources: dict[str, str] = Field(default_factory=dict)  # section -> file it came from

    def section_file(self, name: str) -> str:
        """The file that defines section `name` (the directory when none does), for messages."""
        return self.section_sources.get(name, str(self.directory))

    def job(self, job_id: str) -> Job:
        """The job named `job_id`, or a one-line error listing the known ones."""
        if job_id not in self.jobs:
            raise ConfigError(f"no job {job_id!r} in {self.directory}; known: {', '.join(sorted(self.jobs))}")
        return self.jobs[job_id]

    def of_type(self, kind: str) -> list[Job]:
        """Enabled jobs of one type, in dependency order."""
        return [j for j in self.ordered() if j.type == kind and j.enabled]

    def ordered(self) -> list[Job]:
        """Every job, dependencies first."""
        done: dict[str, Job] = {}
        for job_id in self.jobs:
            self._visit(job_id, done, ())
        return list(done.values())

    def _visit(self, job_id: str, done: dict[str, Job], path: tuple[str, ...]) -> None:
        if job_id in done:
            return
        if job_id in path:
            cycle = " -> ".join(path + (job_id,))
            raise ConfigError(f"{self.sources[path[0]]}: job {path[0]}: dependencies: cycle {cycle}")
        for dep in self.jobs[job_id].dependencies:
            self._visit(dep, done, path + (job_id,))
        done[job_id] = self.jobs[job_id]


def _describe(error: ErrorDetails, data: Any) -> str:
    loc = list(error["loc"])
    where = ""
    if len(loc) >= 2 and loc[0] == "jobs" and isinstance(loc[1], int):
        job = data["jobs"][loc[1]] if isinstance(data, dict) else {}
        name = job.get("job_id", "#" + str(loc[1] + 1)) if isinstance(job, dict) else loc[1]
        shown_name = name if isinstance(name, str) and (_JOB_ID.fullmatch(name) or name.startswith("#")) else repr(name)
        where = f"job {shown_name}: "  # a bad id is shown escaped, so the message stays one line
        loc = loc[2:]
    field = ".".join(str(p) for p in loc if not str(p).startswith("function-after"))
    message = str(error["msg"]).removeprefix("Value error, ")
    got = error.get("input")
    hidden = error["type"] in ("value_error", "missing") or isinstance(got, dict) or _secret_field(loc)
    shown = "" if hidden else f", got {_short(repr(got))}"
    return f"{where}{field + ': ' if field else ''}{message}{shown}"


# Fields whose value may be a secret (a webhook URL's path, an ntfy topic, a secret pasted where its file's name goes).
SECRET_FIELDS = frozenset({"url", "webhook_url", "secret", "token", "topic", "password"})


def _secret_field(loc: list[Any]) -> bool:
    return any(isinstance(part, str) and part in SECRET_FIELDS for part in loc)


def _short(text: str, limit: int = 80) -> str:
    """`text` cut to `limit` characters: a value pasted by mistake can be a whole document."""
    return text if len(text) <= limit else text[:limit] + "…"


Section = TypeVar("Section", bound=BaseModel)


def section(config: JobConfig, name: str, model: type[Section], **overrides: object) -> Section:
    """The validated `name:` section (defaults when absent) with `overrides` on top; a bad value is one
    line naming the file and the field."""
    values = dict(config.sections.get(name) or {}) | {k: v for k, v in overrides.items() if v is not None}
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        error["loc"] = (name, *error["loc"])
        raise ConfigError(f"{config.section_file(name)}: {_describe(error, values)}") from None


def load_file(path: Path) -> ConfigFile:
    """Parse and validate one YAML file."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}" if mark else ""
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())  # one line, always
        raise ConfigError(f"{path}:{at} not valid YAML ({problem})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with 'jobs:' and other sections")
    try:
        return ConfigFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_describe(exc.errors()[0], data)}") from None


def load(directory: Path | None = None) -> JobConfig:
    """Every `*.yaml` in `directory` (default: the shipped jobs), merged and cross-checked."""
    directory = directory or default_jobs_dir()
    if not directory.is_dir():
        raise ConfigError(f"{directory}: jobs directory not found (set AFC_JOBS_DIR)")
    jobs: dict[str, Job] = {}
    sources: dict[str, str] = {}
    tracked: list[TrackedLeague] = []
    sections: dict[str, dict[str, Any]] = {}
    section_sources: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml")):
        parsed = load_file(path)
        for job in parsed.jobs:
            if job.job_id in jobs:
                raise ConfigError(f"{path}: job {job.job_id}: job_id also defined in {sources[job.job_id]}")
            jobs[job.job_id], sources[job.job_id] = job, str(path)
        tracked.extend(parsed.tracked)
        for name in ("live", "coverage", "alerts", "backfill", "daily", "ops", "notify"):
            value = getattr(parsed, name)
            if value is not None:
                if name in sections:
                    raise ConfigError(f"{path}: section {name!r} is also defined in {section_sources[name]}")
                sections[name], section_sources[name] = value, str(path)
    for job_id, job in jobs.items():
        for dep in job.dependencies:
            if dep not in jobs:
                raise ConfigError(f"{sources[job_id]}: job {job_id}: dependencies: unknown job {dep!r}")
    config = JobConfig(directory=directory, jobs=jobs, tracked=tracked, sections=sections, sources=sources,
                       section_sources=section_sources)
    config.ordered()  # raises on a dependency cycle
    return config
