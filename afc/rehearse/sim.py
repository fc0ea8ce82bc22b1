"""Simulated time for many process-like threads: each runs until it sleeps, then the next one due runs.

One shared `SimClock` stands still (speed 0) and jumps from event to event. Every simulated process
(a timer's invocation, the live service) is a thread with its own clock view (`ProcessClock`, which
may be skewed); its `sleep` queues a wake-up and hands control back to the scheduler, so exactly one
process runs at a time and a 30-day rehearsal takes as long as the work, not the waiting. Waits
inside afc (retry back-off, a full minute, the live loop's idle hours) use the clock they were given,
so they interleave in simulated time the way they would on a host.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from afc.clock import SimClock


class Killed(BaseException):  # noqa: N818 - a signal, not an error: `except Exception` must not catch it
    """Raised inside a process the rehearsal killed (kill -9): nothing else of it may run."""


@dataclass(eq=False)
class Process:
    """One simulated process: its thread, wake-up signal, and whether it was killed or has ended."""

    name: str
    target: Callable[[Process], None]
    skew: float = 0.0
    group: str = "-"
    killed: bool = False
    generation: int = 0  # bumped on every wake-up, so a stale queued wake-up is ignored
    done: bool = False
    wake: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


class ProcessClock:
    """What a simulated process sees: the shared time plus its host's skew; sleeping yields."""

    speed = 0.0  # a frozen clock: afc's StopClock then sleeps through `sleep` below

    def __init__(self, sim: Simulation, process: Process):
        self.sim, self.process = sim, process

    def now(self) -> datetime:
        if self.process.killed:
            raise Killed(self.process.name)
        return self.sim.clock.now() + timedelta(seconds=self.process.skew)

    def sleep(self, seconds: float) -> None:
        if self.process.killed:
            raise Killed(self.process.name)
        if seconds <= 0:
            return
        self.sim.suspend(self.process, self.sim.clock.now() + timedelta(seconds=seconds))


class Simulation:
    """The event queue: timed actions (run by the scheduler) and processes waiting to wake."""

    def __init__(self, start: datetime):
        self.clock = SimClock(start.astimezone(UTC), speed=0)
        self._queue: list[tuple[datetime, int, tuple[Process, int] | Callable[[], None]]] = []
        self._seq = itertools.count()
        self._yielded = threading.Event()
        self.running: list[Process] = []
        self.turn: Process | None = None  # the process running now, if any

    def at(self, when: datetime, action: Callable[[], None]) -> None:
        """Run `action` in the scheduler when the clock reaches `when` (no process runs meanwhile)."""
        heapq.heappush(self._queue, (when, next(self._seq), action))

    def spawn(self, when: datetime, name: str, target: Callable[[Process], None], skew: float = 0.0,
              group: str = "-") -> Process:
        """Start `target(process)` as a new process at `when`."""
        process = Process(name, target, skew, group)
        heapq.heappush(self._queue, (when, next(self._seq), (process, process.generation)))
        return process

    def current(self) -> str:
        """The group of the process running now ("-" between processes)."""
        return self.turn.group if self.turn is not None else "-"

    def clock_for(self, process: Process) -> ProcessClock:
        """The clock a process's code must use."""
        return ProcessClock(self, process)

    def kill(self, process: Process) -> None:
        """kill -9: the process's next look at its clock raises Killed; its queued wake-up runs it out."""
        if process.done or process.killed:
            return
        process.killed = True
        if process.thread is not None:
            self.resume(process)

    def run_until(self, end: datetime) -> None:
        """Process every event due before `end`, in time order, then stop the clock at `end`."""
        while self._queue and self._queue[0][0] < end:
            when, _, item = heapq.heappop(self._queue)
            if when > self.clock.now():
                self.clock.set(when)
            if isinstance(item, tuple):
                process, generation = item
                if generation == process.generation:
                    self.resume(process)
            else:
                item()
        if end > self.clock.now():
            self.clock.set(end)

    def suspend(self, process: Process, until: datetime) -> None:
        """Called from `process`'s own thread: wait until the scheduler wakes it at `until`."""
        heapq.heappush(self._queue, (until, next(self._seq), (process, process.generation)))
        process.wake.clear()
        self._yielded.set()
        process.wake.wait()
        if process.killed:
            raise Killed(process.name)

    def resume(self, process: Process) -> None:
        """Give `process` the turn now, and wait until it sleeps or ends (scheduler side only)."""
        if process.done:
            return
        process.generation += 1
        self.turn = process
        self._yielded.clear()
        if process.thread is None:
            process.thread = threading.Thread(target=self._main, args=(process,), name=f"rehearse-{process.name}",
                                              daemon=True)
            self.running.append(process)
            process.thread.start()
        else:
            process.wake.set()
        self._yielded.wait()
        self.turn = None

    def _main(self, process: Process) -> None:
        try:
            process.target(process)
        except Killed:
            pass
        finally:
            process.done = True
            self.running = [p for p in self.running if p is not process]
            self._yielded.set()

    def shutdown(self) -> None:
        """Kill every process still alive (the end of the rehearsal)."""
        for process in list(self.running):
            self.kill(process)
