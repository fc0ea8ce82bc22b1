"""Bodies afc cannot hold: each ends as one line, exit 1, the run failed, the text archived (issue 14, item 6)."""

from __future__ import annotations

import gc
import json
import logging
import tempfile

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from afc.api.body import NotJson, Unparsable, has_nul, parse
from afc.api.client import ApiClient, Request
from afc.cli import app
from afc.db import connect
from afc.errors import MalformedResponse, UnreadableBody
from tests.fakeapi import KEY, Answer, FakeApi

ENVELOPE = ('{{"get": "countries", "parameters": [], "errors": [], "results": 1, '
            '"paging": {{"current": 1, "total": 1}}, "response": [{item}]}}')
DEEP = ENVELOPE.format(item="[" * 100_000 + "]" * 100_000)
NESTED = ENVELOPE.format(item='{"name": "X", "flag": ' + "[" * 200 + "]" * 200 + "}")
BIGINT = ENVELOPE.format(item='{"name": "X", "code": ' + "7" * 5000 + "}")
WIDEINT = ENVELOPE.format(item='{"name": "X", "code": ' + "9" * 30 + "}")
SURROGATE = ENVELOPE.format(item='{"name": "X\\ud800", "code": "XX"}')
NAN = ENVELOPE.format(item='{"name": "X", "code": NaN}')
INFINITY = ENVELOPE.format(item='{"name": "X", "code": -Infinity}')
OVERFLOW = ENVELOPE.format(item='{"name": "X", "code": 1e400}')
UNREADABLE = {"deep": DEEP, "nested": NESTED, "bigint": BIGINT, "wideint": WIDEINT, "surrogate": SURROGATE,
              "nan": NAN, "infinity": INFINITY, "overflow": OVERFLOW}


@pytest.mark.parametrize(("text", "reason"), [
    (DEEP, "nested more than 64 levels deep"),
    (NESTED, "nested more than 64 levels deep"),
    (BIGINT, "a number afc cannot read (Exceeds the limit (4300 digits)"),
    (WIDEINT, "an integer of 30 digits, beyond 64 bits"),
    (SURROGATE, "a lone UTF-16 surrogate (\\ud800) in a string"),
    (NAN, "a NaN literal, which JSON does not allow"),
    (INFINITY, "a -Infinity literal, which JSON does not allow"),
    (OVERFLOW, "a number too large for a 64-bit float"),
])
@pytest.mark.parametrize("as_bytes", [False, True])
def test_parse_refuses_what_no_later_stage_can_hold(text, reason, as_bytes):
    with pytest.raises(Unparsable) as caught:
        parse(text.encode() if as_bytes else text)
    assert str(caught.value).startswith(reason) and not isinstance(caught.value, NotJson)


def test_parse_keeps_what_is_fine_and_calls_garbage_not_json():
    assert parse('{"a": ["\\ud83d\\ude00", 9223372036854775807, -1.5e300, null]}') == {
        "a": ["\U0001f600", 2**63 - 1, -1.5e300, None]}
    with pytest.raises(NotJson, match=r"not JSON \(Expecting value at line 1 column 1\)"):
        parse("<html>oops</html>")



def recorded_bodies() -> list[str]:
    """Every recorded answer in shared/api-samples, as text (BOM and JS wrappers removed)."""
    from tests.conftest import SAMPLES

    texts = []
    for path in sorted(SAMPLES.rglob("*.json")):
        text = path.read_text(encoding="utf-8-sig")
        texts.append(text[text.index("{"):].rstrip().rstrip(";"))
    return texts


def test_the_fast_reading_is_the_standard_one_for_every_recorded_answer():
    texts = recorded_bodies()
    assert len(texts) > 50
    for text in texts:
        value = parse(text)
        assert value == json.loads(text) and orjson.dumps(value) == orjson.dumps(json.loads(text))
        assert orjson.dumps(parse(text.encode())) == orjson.dumps(value)  # UTF-8 bytes, as rebuild reads SQLite


def test_bytes_read_as_their_text_would_be():
    text = '{"a": "\u00e9t\u00e9 \\u0000!", "b": "caf\\u00e9"}'  # a NUL escape: dropped from the value
    assert parse(text.encode()) == parse(text) == {"a": "\u00e9t\u00e9 !", "b": "caf\u00e9"}
    garbled = b'{"a": "caf\xe9"}'  # Latin-1, not UTF-8: read as decoded with a replacement character
    assert parse(garbled) == {"a": "caf\ufffd"}
    with pytest.raises(NotJson):
        parse(b"<html>oops</html>")


@pytest.mark.parametrize("text", [
    '{"a": 9223372036854775807, "b": -9223372036854775808, "c": 1234567890123456789}',  # the standard parser
    '{"a": 0.12345678901234567891, "b": 1e-7, "c": -0.0, "d": 123456789012345678.5}',
    '{"a": "\\ud83d\\ude00 \\u00e9 \\"", "b": [[[[]]]], "c": {}, "d": [true, false, null]}',
])
def test_the_fast_reading_agrees_on_numbers_and_escapes(text):
    expected = json.loads(text)
    assert parse(text) == expected
    assert [type(v) for v in parse(text).values()] == [type(v) for v in expected.values()]


def test_an_integer_orjson_would_read_past_64_bits_is_still_refused():
    with pytest.raises(Unparsable, match="an integer of 20 digits, beyond 64 bits"):
        parse('{"a": 18446744073709551615}')  # orjson reads it as an int (unsigned 64 bits)


@pytest.mark.parametrize("enabled", [True, False])
def test_parsing_leaves_the_garbage_collector_as_it_was(enabled):
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        parse(ENVELOPE.format(item='{"name": "X"}'))
        with pytest.raises(Unparsable):
            parse(NESTED)
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()

def run_cli(db_url: str, body: str, *extra_env: tuple[str, str]):
    api = FakeApi({"countries": Answer(200, body)})
    with api.serve() as url, tempfile.TemporaryDirectory() as data_dir:
        env = {"AFC_DATABASE_URL": db_url, "AFC_DATA_DIR": data_dir, "API_FOOTBALL_KEY": KEY, "AFC_API_BASE_URL": url,
               "AFC_CLOCK": "2026-11-28T12:00:00Z@0", **dict(extra_env)}
        result = CliRunner().invoke(app, ["bootstrap", "countries"], env=env)
    return api, result


def error_line(result) -> str:
    """The one error line on stderr (and no traceback anywhere)."""
    assert "Traceback" not in result.output and not isinstance(result.exception, (RecursionError, ValueError))
    lines = [line for line in result.stderr.splitlines() if line.startswith("afc: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def archived(db_url: str) -> tuple[list[tuple], list[tuple]]:
    db = connect(db_url)
    try:
        raws = db.fetchall("SELECT status, body IS NULL, body_text, errors FROM raw.responses ORDER BY id")
        jobs = db.fetchall("SELECT status, error FROM ops.job_runs ORDER BY id")
        return raws, jobs
    finally:
        db.close()


@pytest.mark.parametrize("kind", sorted(UNREADABLE))
def test_an_unreadable_body_is_archived_as_text_and_fails_the_run(db_url, kind, caplog):
    caplog.set_level(logging.DEBUG)
    body = UNREADABLE[kind]
    api, result = run_cli(db_url, body)
    assert result.exit_code == 1, result.output
    line = error_line(result)
    assert line.startswith("afc: bootstrap_countries: /countries: unreadable body: ") and "(kept as text)" in line
    assert len(api.requests) == 1  # the same answer would come again: no retry spends quota
    raws, jobs = archived(db_url)
    assert len(raws) == 1
    status, body_null, body_text, errors = raws[0]
    assert status == 200 and body_null and body_text == body
    assert "unreadable body" in str(errors)
    assert jobs == [("failed", line.removeprefix("afc: bootstrap_countries: "))]


def test_a_body_over_the_cap_is_not_read_and_fails_the_run(db_url):
    body = ENVELOPE.format(item='{"name": "' + "x" * 300_000 + '"}')
    api, result = run_cli(db_url, body, ("AFC_MAX_BODY_MB", "0.25"))
    assert result.exit_code == 1
    assert error_line(result) == ("afc: bootstrap_countries: /countries: unreadable body: the body is over "
                                  "the 0.25 MB cap (AFC_MAX_BODY_MB) (not kept)")
    assert len(api.requests) == 1
    raws, jobs = archived(db_url)
    assert [(r[0], r[1], r[2]) for r in raws] == [(200, True, None)] and "0.25 MB cap" in str(raws[0][3])
    assert jobs[0][0] == "failed" and "0.25 MB cap" in jobs[0][1]


def test_the_cap_stops_reading_a_stream_without_reading_it_all(clock):
    sent = []

    def endless():
        for _ in range(10_000):  # 640 MB if read to the end
            sent.append(1)
            yield b" " * 65_536

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless())

    client = ApiClient("http://api.test", KEY, clock,
                       transport=httpx.MockTransport(handle), max_body=2**20)
    response = client.get(Request.of("countries"))
    assert isinstance(response.error, UnreadableBody) and "over the 1 MB cap" in str(response.error)
    assert len(sent) <= 17  # 1 MB in 64 KB chunks, and one more to see it go past
    assert response.text is None and response.body is None


def test_a_declared_length_over_the_cap_is_refused_before_reading(clock):
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"{}", headers={"content-length": str(500 * 2**20)})

    client = ApiClient("http://api.test", KEY, clock,
                       transport=httpx.MockTransport(handle), max_body=2**20)
    assert isinstance(client.get(Request.of("countries")).error, UnreadableBody)


def test_garbage_stays_a_retryable_malformed_answer(clock):
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text='{"get": "countries", "response": [')

    client = ApiClient("http://api.test", KEY, clock,
                       transport=httpx.MockTransport(handle))
    error = client.get(Request.of("countries")).error
    assert isinstance(error, MalformedResponse) and "the body is not JSON (Expecting value" in str(error)


def test_a_cut_string_is_named_in_plain_words(clock):
    """json's "Unterminated string starting at" reads on into the position: one "at", not "at at line"."""
    client = ApiClient("http://api.test", KEY, clock,
                       transport=httpx.MockTransport(lambda _: httpx.Response(200, text='{"get": "coun')))
    error = client.get(Request.of("countries")).error
    assert "the body is not JSON (Unterminated string starting at line 1 column 9)" in str(error), str(error)


def test_a_body_not_in_its_content_encoding_is_a_retryable_malformed_answer(clock):
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=httpx.ByteStream(b'{"response": []}'), headers={"content-encoding": "gzip"})

    client = ApiClient("http://api.test", KEY, clock, transport=httpx.MockTransport(handle))
    response = client.get(Request.of("countries"))
    assert isinstance(response.error, MalformedResponse)
    assert str(response.error) == "/countries: the body is not decodable as its Content-Encoding (gzip) says"


def test_a_lying_gzip_answer_is_archived_and_named_not_blamed_on_a_header(db_url):
    """zlib's "incorrect header check" read as a refused HTTP header, and the answer was never archived."""
    api = FakeApi({"countries": Answer(200, ENVELOPE.format(item='{"name": "X"}'), {"Content-Encoding": "gzip"})})
    with api.serve() as url, tempfile.TemporaryDirectory() as data_dir:
        env = {"AFC_DATABASE_URL": db_url, "AFC_DATA_DIR": data_dir, "API_FOOTBALL_KEY": KEY, "AFC_API_BASE_URL": url,
               "AFC_CLOCK": "2026-11-28T12:00:00Z@0"}
        result = CliRunner().invoke(app, ["bootstrap", "countries"], env=env)
    assert result.exit_code == 1
    assert error_line(result) == ("afc: bootstrap_countries: /countries: the body is not decodable as its "
                                  "Content-Encoding (gzip) says")
    raws, jobs = archived(db_url)
    assert len(raws) == len(api.requests) == 5  # retried (a proxy may garble once), every answer archived
    assert all(r[:3] == (200, True, None) and "Content-Encoding" in str(r[3]) for r in raws)
    assert jobs[0][0] == "failed"


@pytest.fixture
def sandboxed(db_url):
    from datetime import UTC, datetime

    from afc.clock import SimClock
    from afc.collect.collector import Collector
    from afc.config.settings import load_settings
    from afc.sandbox import SandboxConfig, start_sandbox

    clock = SimClock(datetime(2026, 11, 28, 12, 0, tzinfo=UTC), speed=0)
    with start_sandbox(SandboxConfig(timeout_seconds=3), clock=clock) as sb:
        settings = load_settings({}, api_key=sb.key, api_base_url=sb.url, database_url=db_url, http_timeout=5)
        collector = Collector.open(settings, clock=clock)
        yield sb, collector
        collector.close()


@pytest.mark.parametrize("fault", ["deep", "bigint", "surrogate", "nan"])
def test_the_sandbox_fault_fails_the_step_once_and_keeps_the_text(sandboxed, fault):
    from afc.collect import runs
    from afc.collect import step as pipeline

    sb, collector = sandboxed
    sb.inject(fault)
    ctx = collector.context("drill", "drill", "LOW")
    with pytest.raises(UnreadableBody, match=r"^/countries: unreadable body: .* \(kept as text\)$"):
        pipeline.step(ctx, Request.of("countries"))
    rows = collector.db.fetchall("SELECT status, body IS NULL, body_text, errors FROM raw.responses")
    assert len(rows) == 1 and rows[0][0] == 200 and rows[0][1] and '"fault":' in rows[0][2]
    assert "unreadable body" in str(rows[0][3])
    assert runs.totals(collector.db, ctx.run_id).calls == 1
    assert pipeline.step(ctx, Request.of("countries")).counts.inserted > 10  # the next answer lands


def test_a_nul_escape_lands_without_the_nul_and_the_archive_keeps_the_text(db_url):
    body = ENVELOPE.format(item='{"name": "Eng\\u0000land", "code": "GB", "flag": null}')
    api, result = run_cli(db_url, body)
    assert result.exit_code == 0, result.stderr
    db = connect(db_url)
    try:
        assert db.fetchall("SELECT name FROM core.countries") == [("England",)]
        kept = db.fetchone("SELECT body, body_text FROM raw.responses")
        assert kept is not None
        assert "Eng\\u0000land" in (kept[1] if db.backend == "postgres" else kept[0])
    finally:
        db.close()


@pytest.mark.parametrize(("text", "nul"), [
    ('{"a": "x\\u0000"}', True), ('{"a": "\\u0000"}', True), ('{"a": "\\n\\u00e9"}', False),
    ('{"a": "u0000"}', False), ('{"a": "\\\\u0000"}', True), ("", False)])
def test_a_nul_escape_is_found_in_text_and_bytes_alike(text: str, nul: bool) -> None:
    """The one-byte search for a backslash first changes nothing of what is found."""
    assert has_nul(text) is nul and has_nul(text.encode()) is nul


@pytest.mark.parametrize(("item", "nul"), [('{"name": "Eng\\u0000land"}', True), ('{"name": "England"}', False)])
def test_the_client_says_whether_the_text_holds_a_nul_escape(clock, item, nul):
    client = ApiClient("http://api.test", KEY, clock,
                       transport=FakeApi({"countries": Answer(200, ENVELOPE.format(item=item))}).transport())
    response = client.get(Request.of("countries"))
    assert response.nul is nul and response.body is not None
    assert response.body["response"][0]["name"] == "England"  # the NUL dropped from the value either way


def test_the_archive_takes_the_clients_finding_instead_of_searching_again(db, clock):
    from afc.api.client import Response
    from afc.collect import raw

    text = ENVELOPE.format(item='{"name": "England"}')

    def archived_as_text(nul: bool | None) -> bool:
        response = Response(Request.of("countries"), 200, {}, json.loads(text), None, clock.now(), 1, raw_text=text,
                            nul=nul)
        raw.prepare(db, clock.now())
        with db.transaction():
            raw_id = raw.insert(db, response, None)
        row = db.fetchone("SELECT body IS NULL FROM raw.responses WHERE id = %s", (raw_id,))
        return bool(row and row[0])

    # PostgreSQL keeps a body with a NUL escape as text: the client's finding decides, the text is not searched again
    assert (archived_as_text(None), archived_as_text(False)) == (False, False)
    assert archived_as_text(True) is (db.backend == "postgres")
