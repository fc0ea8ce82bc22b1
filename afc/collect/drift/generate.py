"""Learn the known shapes from real recorded responses: `python -m afc.collect.drift.generate SAMPLES_DIR`.

Run once (and again when new recordings arrive); the output under `afc/collect/drift/known/` is committed
and ships in the wheel. On top of what the recordings show it adds the fields the API reference
documents as newer, and widens the fields known to mix types.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from afc.collect.drift.shapes import KNOWN_DIR, learn

# Endpoints whose items have another endpoint's shape too (reference §6.1, §6.6).
_PLAYER_LISTS = ("players", "players/topscorers", "players/topassists", "players/topyellowcards")
ALSO_LEARN_FROM: dict[str, tuple[str, ...]] = {
    "fixtures/headtohead": ("fixtures",),
    **{name: tuple(other for other in _PLAYER_LISTS if other != name) for name in _PLAYER_LISTS},
    "players/topredcards": _PLAYER_LISTS,
}
# Newer fields (reference §6.1: in 2025 payloads, missing from older recordings).
_NEWER = {"fixture.status.extra": {"type": "number|null", "optional": True},
          "league.standings": {"type": "boolean", "optional": True}}
# Fields the API fills with numbers or strings ("68%", "1.87", 4 or "Home"): known-mixed.
_MIXED = {"type": "number|string|null"}
# /teams/statistics goals per line (reference §6.7: `under_over{"0.5".."4.5":{over,under}}`, in current answers,
# missing from the recordings, which are older).
_LINES = {"type": "object", "optional": True, "fields": {
    line: {"type": "object", "fields": {"over": {"type": "number|null"}, "under": {"type": "number|null"}}}
    for line in ("0.5", "1.5", "2.5", "3.5", "4.5")}}
# A card count's bucket without a minute: the key "" beside "0-15" … "106-120", there when some card of the season has
# no minute (a recorded /predictions answer has it for one side and not the other).
_NO_MINUTE = {"type": "object", "optional": True,
              "fields": {"total": {"type": "number"}, "percentage": {"type": "string"}}}
_CARDS = {f"cards.{colour}.": _NO_MINUTE for colour in ("yellow", "red")}
OVERRIDES: dict[str, dict[str, dict[str, Any]]] = {
    "fixtures": {**_NEWER, "statistics[].statistics[].value": _MIXED,
                 "players[].players[].statistics[].passes.accuracy": _MIXED},
    "fixtures/headtohead": dict(_NEWER),
    "predictions": {**{f"h2h[].{path}": spec for path, spec in _NEWER.items()},
                    **{f"teams.{side}.league.{path}": spec
                       for side in ("home", "away") for path, spec in _CARDS.items()}},
    "fixtures/statistics": {"statistics[].value": _MIXED},
    "fixtures/players": {"players[].statistics[].passes.accuracy": _MIXED},
    "players": {"statistics[].passes.accuracy": _MIXED},
    "players/topscorers": {"statistics[].passes.accuracy": _MIXED},
    "players/topassists": {"statistics[].passes.accuracy": _MIXED},
    "players/topyellowcards": {"statistics[].passes.accuracy": _MIXED},
    "players/topredcards": {"statistics[].passes.accuracy": _MIXED},
    "odds": {"bookmakers[].bets[].values[].value": _MIXED},
    "teams/statistics": {"goals.for.under_over": _LINES, "goals.against.under_over": _LINES, **_CARDS},
    "odds/live": {"odds[].values[].value": _MIXED},
}


def read_samples(directory: Path) -> dict[str, list[tuple[str, list[Any]]]]:
    """Successful recorded responses per endpoint: (file, items), skipping error answers."""
    found: dict[str, list[tuple[str, list[Any]]]] = defaultdict(list)
    for file in sorted(directory.rglob("*")):
        if file.suffix not in (".json", ".js") or not file.is_file():
            continue
        text = file.read_text(encoding="utf-8-sig")
        try:
            body = json.loads(text[text.index("{"):].rstrip().rstrip(";"))
        except ValueError:
            continue  # not a recorded envelope (the headers dump, YAML notes)
        if not isinstance(body, dict) or body.get("errors") or "get" not in body:
            continue
        items = body.get("response")
        items = items if isinstance(items, list) else [items] if items is not None else []
        found[str(body["get"]).strip("/")].append((str(file.relative_to(directory)), items))
    return found


def _place(spec: dict[str, Any], path: str, value: dict[str, Any]) -> None:
    """Set the node at `path` (`a[].b.c`), creating the nodes on the way."""
    node = spec
    for segment in path.split("."):
        key, arrays = segment.removesuffix("[]" * segment.count("[]")), segment.count("[]")
        node = node.setdefault("fields", {}).setdefault(key, {"type": "object"})
        for _ in range(arrays):
            node = node.setdefault("items", {"type": "object"})
    node.update(value)


def shapes(samples: dict[str, list[tuple[str, list[Any]]]]) -> dict[str, dict[str, Any]]:
    """The shape document of every endpoint with recordings."""
    documents = {}
    for endpoint in sorted(set(samples) | set(ALSO_LEARN_FROM)):
        sources = (endpoint, *ALSO_LEARN_FROM.get(endpoint, ()))
        recordings = [r for source in sources for r in samples.get(source, [])]
        spec = learn(item for _, items in recordings for item in items)
        for path, value in OVERRIDES.get(endpoint, {}).items():
            _place(spec, path, value)
        documents[endpoint] = {"endpoint": endpoint, "sources": [name for name, _ in recordings], "shape": spec}
    return documents


def write(documents: dict[str, dict[str, Any]], directory: Path = KNOWN_DIR) -> list[Path]:
    """Write one file per endpoint (`fixtures/headtohead` → `fixtures_headtohead.json`)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for endpoint, document in documents.items():
        path = directory / (endpoint.replace("/", "_") + ".json")
        path.write_text(_format(document) + "\n", encoding="utf-8")
        written.append(path)
    return written


def _format(value: Any, indent: str = "") -> str:
    """JSON with one line per leaf node, so a shape reads (and diffs) like an outline."""
    if not isinstance(value, dict) or not any(isinstance(v, (dict, list)) for v in value.values()):
        return json.dumps(value, ensure_ascii=False)
    inner = indent + " "
    lines = [f"{inner}{json.dumps(k)}: {_format(v, inner)}" for k, v in value.items()]
    return "{\n" + ",\n".join(lines) + f"\n{indent}}}"


def main(argv: list[str]) -> int:
    """Learn from the recordings in argv[0] and rewrite afc/collect/drift/known/."""
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        sys.stderr.write("usage: python -m afc.collect.drift.generate SAMPLES_DIR\n")
        return 2
    written = write(shapes(read_samples(Path(argv[0]))))
    sys.stderr.write(f"wrote {len(written)} shapes to {KNOWN_DIR}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
