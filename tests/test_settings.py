"""Settings from the environment, a credentials file and flags; bad values named clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from afc.clock import parse_clock
from afc.config.settings import load_settings
from afc.errors import ConfigError


def test_defaults_put_sqlite_in_the_data_directory(tmp_path):
    settings = load_settings({"XDG_DATA_HOME": str(tmp_path)})
    assert settings.db_url == f"sqlite:///{tmp_path / 'afc' / 'afc.db'}"
    assert settings.limits == (7500, 300) and settings.api_base_url == "https://v3.football.api-sports.io"


def test_systemd_state_and_credentials_directories_are_used(tmp_path):
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "api_key").write_text("secret-from-credential\n")
    settings = load_settings({"STATE_DIRECTORY": "/var/lib/afc", "CREDENTIALS_DIRECTORY": str(creds)})
    assert settings.data_dir == Path("/var/lib/afc") and settings.require_key() == "secret-from-credential"


def test_the_environment_key_overrides_and_never_shows_in_repr():
    settings = load_settings({"API_FOOTBALL_KEY": "abc123abc123", "AFC_PLAN": "free"})
    assert settings.require_key() == "abc123abc123" and "abc123abc123" not in repr(settings)
    assert settings.limits == (100, 10)
    assert settings.priority_floors.LOW == 10  # floors scale down on small plans


def test_a_missing_key_says_how_to_set_it():
    with pytest.raises(ConfigError, match="no API key: set API_FOOTBALL_KEY"):
        load_settings({}).require_key()


@pytest.mark.parametrize(("env", "message"), [
    ({"AFC_PLAN": "gold"}, "AFC_PLAN: input should be 'free', 'pro', 'ultra' or 'mega', got 'gold'"),
    ({"AFC_DAILY_LIMIT": "lots"}, "AFC_DAILY_LIMIT: input should be a valid integer"),
    ({"AFC_HTTP_TIMEOUT": "-1"}, "AFC_HTTP_TIMEOUT: input should be greater than 0"),
    # values that loaded and crashed later: an integer no ledger column holds, a key too long for an index
    ({"AFC_DAILY_LIMIT": "99999999999999999999"}, "AFC_DAILY_LIMIT: input should be less than or equal to 2147483647"),
    ({"AFC_MINUTE_LIMIT": str(2**31)}, "AFC_MINUTE_LIMIT: input should be less than or equal to 2147483647"),
    ({"AFC_HTTP_TIMEOUT": "inf"}, "AFC_HTTP_TIMEOUT: input should be less than or equal to 3600"),
    ({"AFC_ACCOUNT": "x" * 101}, "AFC_ACCOUNT: must be one token of printable ASCII, at most 100 characters"),
    ({"AFC_ACCOUNT": "two words"}, "AFC_ACCOUNT: must be one token of printable ASCII"),
])
def test_bad_values_name_the_variable(env, message):
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert str(caught.value).startswith(message)


def test_flags_win_over_the_environment():
    settings = load_settings({"AFC_DATABASE_URL": "sqlite:///a.db"}, database_url="sqlite:///b.db")
    assert settings.db_url == "sqlite:///b.db"


@pytest.mark.parametrize(("spec", "message"), [
    ("2026-11-28T12:00:00Z@nan", "AFC_CLOCK: clock speed must be between 0 and 1000000, got nan"),
    ("2026-11-28T12:00:00Z@inf", "AFC_CLOCK: clock speed must be between 0 and 1000000, got inf"),
    ("2026-11-28T12:00:00Z@-5", "AFC_CLOCK: clock speed must be between 0 and 1000000, got -5"),
    ("9999-12-31T23:59:59Z@1000000", "AFC_CLOCK: clock start must lie in the years 1970 to 9000"),
    ("sim:nan:1:1", "AFC_CLOCK: cannot read 'sim:nan:1:1' (not a time: 'nan')"),
    # a sim: spec past the platform's time_t, or whose anchors put now out of range: OverflowError's traceback
    ("sim:0:1e20:1", "AFC_CLOCK: cannot read 'sim:0:1e20:1' (timestamp out of range"),
    ("sim:1e300:0:1", "AFC_CLOCK: cannot read 'sim:1e300:0:1' (timestamp out of range"),
    ("sim:0:1795867200:1000000", "AFC_CLOCK: cannot read 'sim:0:1795867200:1000000' (year "),
])
def test_a_clock_afc_cannot_run_is_refused_at_start(spec, message):
    """NaN speeds and starts near year 9999 loaded, then failed with a traceback (ValueError) on first use."""
    with pytest.raises(ConfigError) as caught:
        parse_clock(spec)
    assert str(caught.value).startswith(message)
