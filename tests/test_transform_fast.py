"""The per-item Python work made cheaper keeps every outcome: canonical JSON, rows, quarantine reasons, drift.

Each test pins a behaviour that a faster rewrite of the hot paths could lose without the broader
equivalence tests noticing (they replay real recordings, which hold few odd values).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from afc.db import dump_json


def _stdlib(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize("number", [1e-05, -3.2e-07, 2.5e-10, 1e16, 1.5e300, 0.0001, 6.3])
def test_a_float_after_many_hyphens_and_signs_is_still_written_as_json_dumps_writes_it(number: float) -> None:
    # The exponent check looks for each `-`/`+` and then at the bytes before it: URLs and names full of
    # hyphens (and a `e-` inside a string) come before the number here, so every candidate is passed over.
    value = {"photo": "https://media.api-sports.io/foot-ball/e-1+e+2.png", "name": "Jean-Pierre 2e-",
             "minute": "90+4", "rating": number, "ids": [-1, -2, "3e+"]}
    assert dump_json(value) == _stdlib(value)


def test_nul_is_dropped_only_where_the_text_has_an_escape() -> None:
    assert dump_json({"a": "x\x00y", "b": "c\\d"}) == _stdlib({"a": "xy", "b": "c\\d"})
    assert dump_json({"a": "back\\slash"}) == _stdlib({"a": "back\\slash"})
