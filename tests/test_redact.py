"""Secrets out of URLs, conninfo strings and library exception text (issue 14, item 4)."""

from __future__ import annotations

import psycopg
import pytest

from afc.db import connect, redact_url
from afc.errors import AfcError
from afc.redact import describe, origin, sanitize


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://u:pw@h/db", "postgresql://u:***@h/db"),
    ("postgresql://u:p@ss:w@h:5433/db", "postgresql://u:***@h:5433/db"),
    ("postgresql://u@h/db?password=pw&sslmode=require", "postgresql://u@h/db?password=***&sslmode=require"),
    ("postgres://h/db?sslmode=require&PassWord=pw", "postgres://h/db?sslmode=require&PassWord=***"),
    ("postgresql:///db?host=/run/postgresql&password=pw", "postgresql:///db?host=/run/postgresql&password=***"),
    ("postgresql://u:pw@h/db?sslpassword=pw", "postgresql://u:***@h/db?sslpassword=***"),
    ("sqlite:////var/lib/afc/afc.db", "sqlite:////var/lib/afc/afc.db"),
    ("postgresql://u@h/db", "postgresql://u@h/db"),
])
def test_redact_url_masks_every_password_of_a_url(url, shown):
    assert redact_url(url) == shown


@pytest.mark.parametrize("conninfo", [
    "host=h dbname=afc user=u password=pw",
    "host=h password='p w' dbname=afc",
    "password=pw host=h",
])
def test_redact_url_masks_the_password_of_a_conninfo_string(conninfo):
    shown = redact_url(conninfo)
    assert "password=***" in shown and "pw" not in shown.replace("password", "") and "host=h" in shown


def test_an_unparsable_conninfo_is_not_shown_at_all():
    assert redact_url("host=h password='unterminated") == "<connection string, not shown>"


def test_describe_drops_header_values_urls_and_conninfo_fragments():
    assert describe(ValueError("Illegal header value b'k3y\\n# old k3y2'")) == (
        "ValueError: an HTTP header was refused (its value is not shown)")
    text = describe(RuntimeError("Client error '404' for url 'https://hooks.example/T0/B0/s3cr3t?token=t0k'"))
    assert text == "RuntimeError: Client error '404' for url 'https://hooks.example'"
    with pytest.raises(psycopg.ProgrammingError) as caught:
        psycopg.connect("host=127.0.0.1 password=se cr3tpart")
    assert "cr3tpart" in str(caught.value)  # libpq quotes it …
    assert "cr3tpart" not in describe(caught.value)  # … afc does not
    assert sanitize("auth failed: password=hunter22 user=u") == "auth failed: password=*** user=u"
    assert origin("https://hooks.slack.com/services/T0/B0/XYZ") == "https://hooks.slack.com"


@pytest.mark.parametrize("url", [
    "postgresql://postgres:Pw0rdXYZ@127.0.0.1:1/afc",
    "postgresql://postgres@127.0.0.1:1/afc?password=Pw0rdXYZ",
    "postgresql://postgres@127.0.0.1/afc?password=Pw0rdXYZ&port=1",
    "host=127.0.0.1 port=1 password=Pw0rdXYZ dbname=afc",
    "postgresql://postgres:Pw0rd%XYZ@127.0.0.1:1/afc",
])
def test_database_errors_never_show_the_password(url):
    with pytest.raises(AfcError) as caught:
        connect(url)
    assert "Pw0rd" not in str(caught.value) and "\n" not in str(caught.value)
