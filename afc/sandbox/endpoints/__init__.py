"""Every endpoint of the API, by path (without the leading slash)."""

from __future__ import annotations

from afc.sandbox.contract import Endpoint
from afc.sandbox.endpoints import details, fixtures, general, matchday, odds, people, players, teams

ROUTES: dict[str, Endpoint] = {
    ep.path: ep
    for module in (general, teams, fixtures, details, players, people, matchday, odds)
    for ep in module.ENDPOINTS
}
