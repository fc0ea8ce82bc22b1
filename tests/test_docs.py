"""What README.md and docs/*.md tell a user to run and read exists.

Every `afc …` command line shown (code blocks and inline code of the docs, the units' ExecStart, the crontab,
the job files' comments and contrib/) names commands and options the CLI has; every table and column, ops
setting, environment variable, metric, unit, repository file and afc module or function the docs name exists.
A renamed option or table fails here, not on a user's first day.
"""

from __future__ import annotations

import importlib
import re
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from pydantic import BaseModel
from typer.testing import CliRunner

from afc.cli import app
from afc.config.jobs import load
from afc.config.ops import OpsConfig
from afc.config.validate import validate
from afc.db import connect
from afc.db.catalog import columns, tables
from afc.errors import ConfigError
from tests.conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
UNITS = [*sorted((ROOT / "systemd").glob("afc-*.service")), ROOT / "cron" / "afc.crontab"]
OTHERS = [*sorted((ROOT / "jobs").glob("*.yaml")), *sorted(p for p in (ROOT / "contrib").rglob("*") if p.is_file())]
CLI = typer.main.get_command(app)

# `afc` as the command a line runs: at its start (after a prompt, sudo or VAR=value), after `&&`, `;`, `|`,
# `-c '` or `ExecStart=`, as itself or by its path (/usr/local/bin/afc); not `ruff check afc` or `--exec /x/afc`.
AFC = re.compile(r"(?:^\s*|&&\s*|;\s*|\|\s+|-c\s'|ExecStart=|\s--\s+)(?:\$\s+)?(?:sudo\s+)?"
                 r"(?:[A-Z_]+=(?:\$\([^)]*\)|\S+)\s+)*(?:[^\s=]*/)?afc(?=\s|$)")
# Where a command line ends: a comment, a pipe or redirection, another command, the end of quoted or inline code.
END = re.compile(r"\s#|;|&&|\s\|\s|>|<|'|\"|`|\)")


def doc_snippets(path: Path) -> Iterator[tuple[int, str]]:
    """The code of a markdown file: lines of fenced and indented blocks, and inline code spans, with line numbers."""
    fenced = False
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif fenced or line.startswith("    "):
            yield number, line
        else:
            for span in re.findall(r"`([^`]+)`", line):
                yield number, span.replace("\\|", "|")


def inline_code(path: Path) -> Iterator[tuple[int, str]]:
    """The inline code spans of a file's comments and descriptions (job files, contrib/), with line numbers."""
    for number, line in enumerate(path.read_text().splitlines(), 1):
        for span in re.findall(r"`([^`]+)`", line):
            yield number, span


def snippets(path: Path) -> Iterator[tuple[int, str]]:
    """Where a file can show a command line: a doc's code, a unit's or the crontab's lines, other files' `code`."""
    if path.suffix == ".md":
        return doc_snippets(path)
    if path in UNITS:
        return enumerate(path.read_text().splitlines(), 1)
    return inline_code(path)


def command_lines() -> Iterator[tuple[str, str]]:
    """Every `afc …` command line in the docs, units, crontab, job files and contrib/, as (where, words after afc)."""
    for path in DOCS + UNITS + OTHERS:
        for number, text in snippets(path):
            for match in AFC.finditer(text):
                rest = text[match.end():]
                cut = END.search(rest)
                yield f"{path.relative_to(ROOT)}:{number}", rest[:cut.start()] if cut else rest


def words(line: str) -> list[str]:
    """The words of a shown command line, without the optional brackets and ellipses of its synopsis."""
    return re.sub(r"[\[\]…]", " ", line).split()


def options_of(command: Any) -> dict[str, Any]:
    """Every option name of a command, with its parameter."""
    return {name: param for param in command.params if param.param_type_name == "option"
            for name in [*param.opts, *param.secondary_opts]}


def read(line: str) -> tuple[list[str], list[str], list[str]]:
    """A shown command line as the CLI reads it: its command path, the options it names, what the CLI lacks."""
    command, path, named, problems = CLI, ["afc"], [], []
    tokens = words(line)
    while tokens:
        token = tokens.pop(0)
        subcommands = getattr(command, "commands", {})
        if token.startswith("-"):
            name, _, value = token.partition("=")
            if re.fullmatch(r"-[a-z]{2,}", name):
                name = name[:2]  # -vv: a repeated count flag
            param = options_of(command).get(name)
            named.append(name)
            if param is None and name != "--help":
                problems.append(f"{' '.join(path)} has no option {name}")
            elif param is not None and not param.is_flag and not param.count and not value and tokens:
                tokens.pop(0)  # the option's value, not a subcommand
        elif subcommands and re.fullmatch(r"[a-z][a-z-]*(\|[a-z][a-z-]*)*", token):
            missing = [name for name in token.split("|") if name not in subcommands]
            if missing:
                problems.append(f"{' '.join(path)} has no command {missing[0]}")
                break
            command = subcommands[token.split("|")[-1]]
            path.append(token.split("|")[-1])
        elif command is CLI:
            break  # prose or another program's words (`afc (then link …)`), not a command line
    return path, named, problems


def problems_of(line: str) -> list[str]:
    """What in one command line the CLI does not have: a command or an option."""
    return read(line)[2]


def test_the_docs_show_command_lines_of_every_kind():
    lines = {line.strip() for _, line in command_lines()}
    for shown in ("backfill --league 39 --season 2023 --plan", "sandbox --port 8099 --plan pro --clock-speed 60",
                  "notify status|replay --since 2h", "backfill --from-gaps --resume --yes"):
        assert shown in lines, shown


def test_every_command_line_in_the_docs_exists_with_its_options():
    problems = [f"{where}: afc{line}: {problem}" for where, line in command_lines() for problem in problems_of(line)]
    assert problems == []


def test_every_command_the_docs_show_answers_help_naming_their_options():
    shown: dict[tuple[str, ...], set[str]] = {}
    for _, line in command_lines():
        path, named, _ = read(line)
        shown.setdefault(tuple(path[1:]), set()).update(name for name in named if name.startswith("--"))
    assert len(shown) > 30
    for command, options in shown.items():
        result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, (command, result.output)
        assert sorted(name for name in options if name not in result.output) == [], command


@pytest.mark.parametrize(("line", "problem"), [
    (" collect", "afc has no command collect"),
    (" backfill --league 39 --seasons 2022", "afc backfill has no option --seasons"),
    (" notify status|replay --sinse 2h", "afc notify replay has no option --sinse"),
    (" backfill --what status --plam", "afc backfill has no option --plam"),
])
def test_a_wrong_command_line_is_named(line: str, problem: str):
    assert problems_of(line)[0].startswith(problem)


def test_no_install_line_fetches_another_projects_afc():
    """The name `afc` on PyPI is another project: docs and messages install afc from a checkout."""
    bare = re.compile(r"pipx? install (?:-\S+ )*['\"]?afc\b(?!/)")
    texts = {path.name: path.read_text() for path in DOCS + [*ROOT.glob("afc/**/*.py")]}
    assert sorted(name for name, text in texts.items() if bare.search(text)) == []


def named_in_docs(pattern: str) -> set[tuple[Any, str]]:
    """Every (name, file) a pattern finds in the docs (a name is a tuple where the pattern has several groups)."""
    return {(found, path.name) for path in DOCS for found in re.findall(pattern, path.read_text(), re.M)}


# Dotted names in the docs that are code, not tables: modules and functions, and the error table's wrong name.
CODE = {"raw.py", "raw.archiving", "raw.ensure_partition", "mart.refresh", "core.fixture"}


def is_ops_setting(name: str) -> bool:
    """`ops.health.quota_below_percent`: a key of the job files' `ops:` section (a dict's keys are free)."""
    model: Any = OpsConfig
    for key in name.split(".")[1:]:
        if not (isinstance(model, type) and issubclass(model, BaseModel) and key in model.model_fields):
            return model is dict or getattr(model, "__origin__", None) is dict
        model = model.model_fields[key].annotation
    return True


def test_every_table_column_and_ops_setting_the_docs_name_exists(sqlite_url: str):
    db = connect(sqlite_url)
    try:
        held = {name: {column.name for column in columns(db, name)} for name, _ in tables(db)}
    finally:
        db.close()
    named = named_in_docs(r"(?<![\w./-])((?:raw|core|mart|ops)\.[a-z_]+[a-z](?:\.[a-z_]+[a-z])?)\b")
    missing = sorted(f"{file}: {name}" for name, file in named if name not in CODE and not is_ops_setting(name)
                     and name not in held and name.rsplit(".", 1)[1] not in held.get(name.rsplit(".", 1)[0], ()))
    assert missing == []


def source_text() -> str:
    """Everything afc's code, SQL, jobs and tests say: where a named variable or metric must appear."""
    files = [*ROOT.glob("afc/**/*.py"), *ROOT.glob("tests/*.py"), *ROOT.glob("sql/**/*.sql"), *ROOT.glob(".ci/*")]
    return "\n".join(path.read_text() for path in files if path.name != "test_docs.py")


def test_every_environment_variable_and_metric_the_docs_name_is_read_or_written():
    source = source_text()
    named = named_in_docs(r"\b((?:AFC|API_FOOTBALL)_[A-Z0-9_]*[A-Z0-9])\b") | named_in_docs(r"`(afc_[a-z_]+[a-z])\b")
    assert sorted(f"{file}: {name}" for name, file in named if name not in source) == []


def resolves(dotted: str) -> bool:
    """`afc.ops.guard.job_group`: the longest importable module, then attributes down to the last name."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            if not hasattr(found, name):
                return False
            found = getattr(found, name)
        return True
    return False


def test_every_module_and_function_the_docs_name_exists():
    named = named_in_docs(r"(?<![\w/.~$-])(afc(?:\.[A-Za-z_]\w*)+)")
    for (module, names), file in named_in_docs(r"^ *from (afc[\w.]*) import ([\w, ]+)$"):  # the docs' Python examples
        named |= {(f"{module}.{name.strip()}", file) for name in names.split(",")}
    loggers = set(re.findall(r'getLogger\("(afc[\w.]*)"\)', source_text()))  # a log line's logger: `WARNING afc.lock:`
    assert len(named) > 20 and sorted(f"{file}: {name}" for name, file in named
                                      if name not in loggers and not resolves(name)) == []


def test_every_unit_the_docs_name_is_rendered():
    named = named_in_docs(r"\b(afc-[a-z-]+\.(?:service|timer))\b")
    examples = {"afc-export.service", "afc-export.timer"}  # docs/export.md: a unit the operator writes
    assert sorted(f"{file}: {name}" for name, file in named
                  if name not in examples and not (ROOT / "systemd" / name).exists()) == []


SECTIONS = {"tracked", "jobs", "daily", "live", "coverage", "ops", "notify", "alerts"}


def config_examples() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every YAML block of the docs that holds a job-file section (`coverage:`, `ops:`, …), as (where, its data)."""
    for path in DOCS:
        for block in re.finditer(r"^( *)```yaml\n(.*?)^\1```", path.read_text(), re.S | re.M):
            data = yaml.safe_load(textwrap.dedent(block[2]))
            if isinstance(data, dict) and SECTIONS & set(data):
                yield f"{path.name}:{path.read_text()[:block.start()].count(chr(10)) + 1}", data


def loads_with(example: dict[str, Any], tmp_path: Path) -> None:
    """Load the shipped job files with the example's sections in place of theirs, as `afc jobs validate` does."""
    jobs = tmp_path / "jobs"
    shutil.copytree(ROOT / "jobs", jobs)
    for path in jobs.glob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        path.write_text(yaml.safe_dump({**data, **{k: v for k, v in example.items() if k in data}}))
    if "alerts" in example:
        (jobs / "alerts.yaml").write_text(yaml.safe_dump({"alerts": example["alerts"]}))
    validate(load(jobs))


def test_every_config_example_in_the_docs_loads(tmp_path: Path):
    examples = list(config_examples())
    assert {section for _, data in examples for section in data} >= {"coverage", "daily", "live", "notify", "ops",
                                                                      "alerts"}
    for number, (where, example) in enumerate(examples):
        try:
            loads_with(example, tmp_path / str(number))
        except ConfigError as exc:
            pytest.fail(f"{where}: {exc}")


def test_a_wrong_config_example_is_refused(tmp_path: Path):
    with pytest.raises(ConfigError, match="webhok_url"):
        loads_with({"alerts": {"webhok_url": "https://hooks.example/x"}}, tmp_path)


# Named in the docs, rightly absent from a checkout: the wheel's copy of sql/ and jobs/, a file a user adds.
ELSEWHERE = {"afc/_shipped", "jobs/alerts.yaml"}


def test_every_repository_file_the_docs_name_exists():
    top = "afc|docs|jobs|sql|systemd|cron|contrib|scripts|tests|\\.ci"
    named = named_in_docs(rf"(?<![\w/.~$<>-])((?:{top})/[\w./*-]*[\w*])")
    missing = sorted(f"{file}: {name}" for name, file in named if name not in ELSEWHERE and not any(ROOT.glob(name)))
    assert missing == []
