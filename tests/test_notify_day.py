"""A simulated match day on the sandbox, then `afc notify` to a real receiver: every goal and red card of the
sandbox's truth arrives exactly once per key, on both backends; a re-fetch and a rebuild add no event."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

from afc.clock import SimClock
from afc.collect.changes import Observation, incidents
from afc.collect.rebuild import Scope, rebuild
from afc.config.notify import NotifyConfig, Target
from afc.db import Database, connect
from afc.notify.service import Courier, drain
from tests.live_support import DAY, Day, run_loop
from tests.notify_support import SECRET, Receiver


def truth_keys(day: Day) -> Counter[str]:
    """Keys of every goal and red card in the sandbox's final truth (each key once per event)."""
    found: Counter[str] = Counter()
    for fx in day.fixtures:
        final = day.sb.world.final(fx.id)
        seen = Observation(fx.id, {}, None, "FT", 90, {}, {}, (1, 1), final["events"], None)
        for key, (brief, _) in (incidents(seen) or {}).items():
            if brief["kind"] in ("goal", "red_card"):
                found[key] += 1
    return found


def outbox_size(db: Database) -> int:
    row = db.fetchone("SELECT COUNT(*) FROM ops.events_outbox")
    return int(row[0]) if row else 0


def test_every_goal_and_red_card_of_the_day_arrives_once(day: Day, tmp_path: Path) -> None:
    run_loop(day, DAY + timedelta(hours=23, minutes=30))
    db = connect(day.settings.db_url)
    try:
        kinds = Counter(r[0] for r in db.fetchall("SELECT kind FROM ops.events_outbox"))
        assert kinds["kickoff"] == kinds["full_time"] == kinds["half_time"] == len(day.fixtures)
        expected = truth_keys(day)
        assert sum(expected.values()) >= 10 and set(expected.values()) == {1}
        with Receiver().running() as receiver:
            conf = NotifyConfig(targets=[Target(name="hook", type="webhook", url=receiver.url, secret="s")],
                                start_window=7 * 86400)
            courier = Courier(db, conf, {"s": SECRET}, SimClock(day.clock.now(), speed=0))
            try:
                report = drain(courier)
            finally:
                courier.close()
        assert report.failed == 0 and report.delivered == outbox_size(db) == len(receiver.bodies)
        assert receiver.bad_signatures == 0 and set(receiver.keys.values()) == {1}
        delivered = receiver.keys
        cancelled = {b["cancels"] for b in receiver.bodies if b["kind"] in ("goal_cancelled", "correction")}
        incidents_sent = {k for k in delivered if k.split(":")[1] in ("goal", "red_card") and ":cancelled" not in k}
        standing = incidents_sent - cancelled
        assert standing == set(expected), "the goals and red cards delivered (less those cancelled) are the truth's"
        corrected = [b for b in receiver.bodies if b["kind"] in ("goal_cancelled", "correction")]
        assert all(b["cancels"] in delivered for b in corrected)
        finals = {b["fixture"]["id"]: b["fixture"]["score"] for b in receiver.bodies if b["kind"] == "full_time"}
        for fx in day.fixtures:
            goals = day.sb.world.final(fx.id)["goals"]
            assert finals[fx.id] == {"home": goals["home"], "away": goals["away"]} or \
                any(b["kind"] == "score_corrected" and b["fixture"]["id"] == fx.id for b in receiver.bodies)
        before = outbox_size(db)
        rebuild(db, day.clock, Scope())
        assert outbox_size(db) == before, "a rebuild replays history: it notifies nothing"
    finally:
        db.close()
