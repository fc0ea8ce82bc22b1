"""systemd units and a crontab rendered from the jobs directory (the checked-in ones are its output).

A oneshot service and a timer per scheduled group (see `afc.ops.groups`), plus the long-running
`afc-live.service`, `afc-mcp-http.service` and `afc-notify.service`. All share one hardening block: a
dynamic user, state in StateDirectory, the key through LoadCredential, metrics in a world-readable
RuntimeDirectory for node_exporter.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from afc.config.jobs import JobConfig
from afc.config.notify import notify_config
from afc.config.ops import ops_config
from afc.errors import ConfigError
from afc.ops.groups import Timer, timers

DEFAULT_EXEC = "/usr/local/bin/afc"
# Everything a rendered value needs, and nothing systemd or cron would read as more than text:
# no newline (a new directive), `%` (a specifier; a newline to cron), `$`, `;`, quotes or backslashes.
SAFE_VALUE = re.compile(r"[A-Za-z0-9 _.:,*/+=@-]{1,200}")
SAFE_EXEC = re.compile(r"/[A-Za-z0-9._+/-]{1,255}")
HEADER = "# Rendered by `afc systemd render` from jobs/*.yaml: edit the jobs, then render again.\n"
DESCRIPTIONS = {
    "bootstrap": "static reference data",
    "daily": "today's fixtures, details, standings, injuries and odds",
    "backfill": "history, on the day's leftover quota",
    "coverage": "coverage report",
    "maintenance": "raw retention and a database backup",
}
HARDENING = """\
User=afc
Group=afc
DynamicUser=yes
StateDirectory=afc
StateDirectoryMode=0750
RuntimeDirectory=afc-metrics
RuntimeDirectoryMode=0755
RuntimeDirectoryPreserve=yes
Environment=AFC_METRICS_DIR=/run/afc-metrics
EnvironmentFile=-/etc/afc/afc.env
LoadCredential=api_key:/etc/afc/api_key
UMask=0027
CapabilityBoundingSet=
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
PrivateUsers=yes
DevicePolicy=closed
ProtectProc=invisible
ProcSubset=pid
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
RemoveIPC=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
"""
UNIT_HEAD = """\
[Unit]
Description={description}
Documentation=man:systemd.service(5)
Wants=network-online.target
After=network-online.target postgresql.service
"""


def command(executable: str, args: tuple[str, ...]) -> str:
    """One afc invocation as a shell-safe line."""
    return " ".join(shlex.quote(part) for part in (executable, *args))


def service(timer: Timer, executable: str) -> str:
    """The oneshot service a timer starts."""
    starts = "".join(f"ExecStart={command(executable, args)}\n" for args in timer.commands)
    what = DESCRIPTIONS[timer.group] + (f" ({timer.schedule.text})" if timer.group == "bootstrap" else "")
    return (HEADER + UNIT_HEAD.format(description=f"afc {timer.group}: {what}") + "\n[Service]\nType=oneshot\n"
            + starts + f"TimeoutStartSec={timer.timeout}\n"
            "# 75: nothing done (quota spent, or another run holds the group's lock)\n"
            "SuccessExitStatus=75\nNice=10\nIOSchedulingClass=idle\n" + HARDENING)


def timer_unit(timer: Timer, delay: int) -> str:
    """The timer: UTC calendar, random delay, catch-up after downtime."""
    return (HEADER + f"[Unit]\nDescription=afc {timer.name} schedule ({timer.schedule.text}, UTC)\n\n"
            f"[Timer]\nOnCalendar={timer.schedule.calendar}\nRandomizedDelaySec={delay}\n"
            "Persistent=true\nAccuracySec=1s\n\n[Install]\nWantedBy=timers.target\n")


def live_service(executable: str) -> str:
    """The long-running live loop: Type=notify with a watchdog, restarted on failure."""
    head = UNIT_HEAD.format(description="afc live-loop: follows matches in play")
    return (HEADER + head + "StartLimitIntervalSec=10min\nStartLimitBurst=5\n\n[Service]\nType=notify\n"
            f"NotifyAccess=main\nExecStart={command(executable, ('live-loop',))}\nWatchdogSec=90s\n"
            "Restart=on-failure\nRestartSec=10s\nTimeoutStopSec=30s\n"
            "# 2: a configuration error, restarting cannot help; 75: another host runs the loop\n"
            "RestartPreventExitStatus=2\nSuccessExitStatus=75\n" + HARDENING
            + "\n[Install]\nWantedBy=multi-user.target\n")


def mcp_http_service(executable: str) -> str:
    """`afc mcp http` on loopback (a TLS proxy in front for remote clients), its token via LoadCredential.

    It needs no API key, so it loads the token instead: a missing key file would keep it from starting.
    """
    head = UNIT_HEAD.format(description="afc mcp http: the read-only MCP server over streamable HTTP")
    hardening = HARDENING.replace("LoadCredential=api_key:/etc/afc/api_key",
                                  "LoadCredential=mcp_token:/etc/afc/mcp_token")
    return (HEADER + head + "StartLimitIntervalSec=10min\nStartLimitBurst=5\n\n[Service]\nType=exec\n"
            f"ExecStart={command(executable, ('mcp', 'http', '--host', '127.0.0.1', '--port', '8765'))}\n"
            "Restart=on-failure\nRestartSec=5s\nTimeoutStopSec=15s\n"
            "# 2: a configuration error (no token, --no-auth on a public address), restarting cannot help\n"
            "RestartPreventExitStatus=2\n" + hardening + "\n[Install]\nWantedBy=multi-user.target\n")


def notify_service(executable: str, credentials: list[str]) -> str:
    """The long-running `afc notify`: each target's secret or token comes in through LoadCredential=."""
    head = UNIT_HEAD.format(description="afc notify: pushes match events to webhooks and ntfy topics")
    loads = "".join(f"LoadCredential={name}:/etc/afc/{name}\n" for name in credentials)
    return (HEADER + head + "StartLimitIntervalSec=10min\nStartLimitBurst=5\n\n[Service]\nType=exec\n"
            f"ExecStart={command(executable, ('notify',))}\nRestart=on-failure\nRestartSec=10s\n"
            "TimeoutStopSec=30s\n# 2: a configuration error (a bad target, a missing secret): restarting cannot help\n"
            "RestartPreventExitStatus=2\n" + loads + HARDENING + "\n[Install]\nWantedBy=multi-user.target\n")


def crontab(found: list[Timer], executable: str, notify: bool = False) -> str:
    """The same schedules for cron, each run under `flock -n -E 75` so runs never overlap; with notify
    targets, `afc notify --once` every minute (delivery waits up to a minute, not half a second)."""
    lines = [HEADER.rstrip(), "# Install as /etc/cron.d/afc (the sixth field is the user). Times are UTC: cronie",
             "# reads CRON_TZ; with a cron that ignores it, keep the host's clock in UTC.",
             "# The key is read from $CREDENTIALS_DIRECTORY/api_key: /etc/afc/api_key, mode 0600, owned by afc.",
             "SHELL=/bin/sh", "PATH=/usr/local/bin:/usr/bin:/bin", "CRON_TZ=UTC", 'MAILTO=""',
             "CREDENTIALS_DIRECTORY=/etc/afc", "AFC_DATA_DIR=/var/lib/afc", "AFC_LOG_FORMAT=json", ""]
    for timer in found:
        if timer.schedule.cron is None:
            lines.append(f"# afc-{timer.name}: {timer.schedule.text!r} has no cron form; "
                         f"see systemd/afc-{timer.name}.timer")
            continue
        run = "; ".join(command(executable, args) for args in timer.commands)
        lock = f"/run/lock/afc-{timer.name}.lock"  # not afc's own lock file: afc takes that one itself
        lines.append(f"{timer.schedule.cron}  afc  flock -n -E 75 {lock} -c {shlex.quote(run)} 2>&1 "
                     f"| logger -t afc-{timer.name}")
    if notify:
        run = command(executable, ("notify", "--once"))
        lines.append(f"* * * * *  afc  flock -n -E 75 /run/lock/afc-notify.lock -c {shlex.quote(run)} 2>&1 "
                     "| logger -t afc-notify")
    return "\n".join(lines) + "\n"


def render(config: JobConfig, executable: str = DEFAULT_EXEC) -> dict[str, str]:
    """Every file, by path relative to the repository root: systemd/*.service|timer, cron/afc.crontab."""
    if not SAFE_EXEC.fullmatch(executable):
        raise ConfigError(f"--exec: systemd needs an absolute path to afc of letters, digits and ._+-/, "
                          f"got {executable!r}")
    found = timers(config)
    for timer in found:
        checked_values(timer)
    delay = ops_config(config).random_delay_seconds
    files: dict[str, str] = {}
    for timer in found:
        files[f"systemd/afc-{timer.name}.service"] = service(timer, executable)
        files[f"systemd/afc-{timer.name}.timer"] = timer_unit(timer, delay)
    files["systemd/afc-live.service"] = live_service(executable)
    files["systemd/afc-mcp-http.service"] = mcp_http_service(executable)
    files["systemd/afc-notify.service"] = notify_service(executable, _notify_credentials(config))
    files["cron/afc.crontab"] = crontab(found, executable, notify=bool(notify_config(config).targets))
    return files


def _notify_credentials(config: JobConfig) -> list[str]:
    """The credential files the notify targets name (their names are checked to be safe in a unit file)."""
    return sorted({name for target in notify_config(config).targets for name in target.credentials()})


def checked_values(timer: Timer) -> None:
    """Refuse a timer any of whose strings could break out of its line in a unit file or the crontab."""
    values = [("timer name", timer.name), ("schedule", timer.schedule.text), ("calendar", timer.schedule.calendar),
              ("cron", timer.schedule.cron or "-"), ("timeout", timer.timeout),
              *(("command argument", arg) for args in timer.commands for arg in args)]
    for what, value in values:
        if not SAFE_VALUE.fullmatch(value):
            raise ConfigError(f"afc-{timer.name}: {what} {value!r} is not safe in a unit file or crontab "
                              "(letters, digits, spaces and _.:,*/+=@- only)")


def differences(root: Path, files: dict[str, str]) -> list[str]:
    """Paths under `root` that differ from `files`, are missing, or are stale units no longer rendered."""
    changed = [p for p, text in files.items() if not (root / p).is_file() or (root / p).read_text() != text]
    stale = [str(p.relative_to(root)) for p in sorted((root / "systemd").glob("afc-*"))
             if str(p.relative_to(root)) not in files]
    return changed + stale


def write(root: Path, files: dict[str, str]) -> list[str]:
    """Write the rendered files under `root` and remove stale afc units; returns what changed."""
    changed = differences(root, files)
    for path in changed:
        target = root / path
        if path in files:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(files[path])
        else:
            target.unlink()
    return changed
