"""`afc rehearse`: the installed schedule for simulated days against the sandbox (see docs/rehearse.md)."""

from afc.rehearse.options import Options, check
from afc.rehearse.report import DayReport, Rehearsal
from afc.rehearse.run import rehearse

__all__ = ["DayReport", "Options", "Rehearsal", "check", "rehearse"]
