"""The local API-Football v3 sandbox: a seeded world served over HTTP with the real contract.

    from afc.sandbox import SandboxConfig, start_sandbox
    with start_sandbox(SandboxConfig(plan="pro"), clock=SimClock(start, speed=0)) as sb:
        httpx.get(sb.url + "/status", headers={"x-apisports-key": sb.key})
"""

from afc.sandbox.config import SandboxConfig
from afc.sandbox.server import Sandbox, serve, start_sandbox
from afc.sandbox.truth import season_year
from afc.sandbox.world import World

__all__ = ["Sandbox", "SandboxConfig", "World", "season_year", "serve", "start_sandbox"]
