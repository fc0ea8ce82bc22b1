"""A simulated collector host: its timers' services and its live service, as systemd would run them.

A timer's service is skipped while the previous start is still running (the unit is active), is
killed after its TimeoutStartSec, and runs its ExecStart lines in order until one fails (75 counts as
success). The live service restarts 10 s after it fails or is killed (Restart=on-failure) and stays
down after exit 2 (RestartPreventExitStatus=2).
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from afc.config.settings import Settings
from afc.errors import EXIT_FAILURE, EXIT_NOTHING_DONE, AfcError, LockHeld
from afc.ops.groups import Timer
from afc.rehearse.commands import invoke
from afc.rehearse.sim import Killed, Process, Simulation

log = logging.getLogger("afc.rehearse")
RESTART_SECONDS = 10
_DURATION = re.compile(r"^(\d+)(min|h|s)$")


@dataclass(frozen=True)
class Event:
    """Something a host's service did that the report counts: a failure kind, at a time."""

    at: datetime
    host: int
    unit: str
    kind: str  # failed | nothing_done | traceback | timeout | killed | skipped | exited
    detail: str = ""


def timeout_seconds(text: str) -> int:
    """A unit's TimeoutStartSec (`45min`, `2h`) in seconds."""
    match = _DURATION.match(text)
    if not match:
        return 3600
    return int(match[1]) * {"s": 1, "min": 60, "h": 3600}[match[2]]


@dataclass
class Host:
    """One collector host: its settings (own data directory), clock skew, and what it ran."""

    index: int
    settings: Settings
    skew: float
    sim: Simulation
    record: Callable[[Event], None]
    active: dict[str, Process] = field(default_factory=dict)
    live: Process | None = None
    live_stop: threading.Event = field(default_factory=threading.Event)

    def start_unit(self, unit: str, group: str, commands: tuple[tuple[str, ...], ...], timeout: str) -> None:
        """The timer elapsed: start the unit's service unless it is still running."""
        now = self.sim.clock.now()
        running = self.active.get(unit)
        if running is not None and not running.done:
            self._note(Event(now, self.index, unit, "skipped", "the previous run is still active"))
            return
        process = self.sim.spawn(now, f"h{self.index}-{unit}", lambda p: self._service(p, unit, commands),
                                 self.skew, group)
        self.active[unit] = process
        self.sim.at(now + timedelta(seconds=timeout_seconds(timeout)), lambda: self._time_out(process, unit))

    def _note(self, event: Event) -> None:
        """Count the event for the report and put it in rehearse.log with its simulated time."""
        level = logging.INFO if event.kind == "nothing_done" else logging.WARNING
        log.log(level, "rehearse: %s UTC host %d %s: %s %s", f"{event.at:%Y-%m-%d %H:%M:%S}", event.host, event.unit,
                event.kind, event.detail)
        self.record(event)

    def fire(self, timer: Timer) -> None:
        """Start `timer`'s service (the event calendar calls this)."""
        self.start_unit(timer.name, timer.group, timer.commands, timer.timeout)

    def _time_out(self, process: Process, unit: str) -> None:
        if not process.done:
            self._note(Event(self.sim.clock.now(), self.index, unit, "timeout", "TimeoutStartSec reached"))
            self.sim.kill(process)

    def _service(self, process: Process, unit: str, commands: tuple[tuple[str, ...], ...]) -> None:
        clock = self.sim.clock_for(process)
        for args in commands:
            code = self._command(process, unit, args, clock)
            if code not in (0, EXIT_NOTHING_DONE):
                break

    def _command(self, process: Process, unit: str, args: tuple[str, ...], clock: object) -> int:
        try:
            code, error = invoke(args, self.settings, clock)  # type: ignore[arg-type]
        except Killed:
            raise
        except Exception as exc:  # a bug in afc: exactly what the drill is for
            self._note(Event(self.sim.clock.now(), self.index, unit, "traceback",
                              f"afc {' '.join(args)}: {type(exc).__name__}: {exc}"))
            log.error("rehearse: %s crashed:\n%s", unit, traceback.format_exc())
            return EXIT_FAILURE
        if code == EXIT_NOTHING_DONE:
            self._note(Event(self.sim.clock.now(), self.index, unit, "nothing_done", error or ""))
        elif code != 0:
            failed = f"afc {' '.join(args)}: {error or 'exit 1'}"
            self._note(Event(self.sim.clock.now(), self.index, unit, "failed", failed))
        return code

    # ---- the live service -------------------------------------------------------------------
    def start_live(self, when: datetime) -> None:
        """Start afc-live.service at `when`."""
        self.live = self.sim.spawn(when, f"h{self.index}-live", self._live, self.skew, "live")

    def kill_live(self) -> None:
        """kill -9 the live loop; systemd restarts it RestartSec later."""
        if self.live is not None and not self.live.done:
            self._note(Event(self.sim.clock.now(), self.index, "live", "killed", "kill -9"))
            self.sim.kill(self.live)
            self.start_live(self.sim.clock.now() + timedelta(seconds=RESTART_SECONDS))

    def stop_live(self) -> None:
        """systemctl stop: SIGTERM, the loop ends at its next sleep."""
        self.live_stop.set()
        if self.live is not None:
            self.sim.resume(self.live)

    def _live(self, process: Process) -> None:
        from afc.live import build
        from afc.ops.lock import hold

        clock = self.sim.clock_for(process)
        loop = None
        try:
            with hold(self.settings.data_dir, self.settings.db_url, "live"):  # as `afc live-loop` takes it
                loop = build(self.settings, clock=clock, stop=self.live_stop)
                loop.run()
        except Killed:
            _release(loop)  # what the kernel does for a killed process: its connections close
            raise
        except LockHeld as exc:
            self._note(Event(self.sim.clock.now(), self.index, "live", "nothing_done", str(exc)))
            return
        except AfcError as exc:
            self._note(Event(self.sim.clock.now(), self.index, "live", "exited", f"exit {exc.exit_code}: {exc}"))
            if exc.exit_code != 2:
                self.start_live(self.sim.clock.now() + timedelta(seconds=RESTART_SECONDS))
            return
        except Exception as exc:
            self._note(Event(self.sim.clock.now(), self.index, "live", "traceback", f"{type(exc).__name__}: {exc}"))
            log.error("rehearse: the live loop crashed:\n%s", traceback.format_exc())
            self.start_live(self.sim.clock.now() + timedelta(seconds=RESTART_SECONDS))
            return
        if not self.live_stop.is_set():
            self._note(Event(self.sim.clock.now(), self.index, "live", "exited", "the loop ended by itself"))


def _release(loop: Any) -> None:
    for close in (lambda: loop.collector.db.close(), lambda: loop.client.close()):
        with contextlib.suppress(Exception):  # already closed or never opened: nothing to release
            close()
