"""Settings: every one is documented in .env.example, and bad values get one sentence."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings, redacted_url
from tests.conftest import REPO

SETTING_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]+)=", re.MULTILINE)


def test_env_example_documents_exactly_the_settings() -> None:
    documented = set(SETTING_LINE.findall((REPO / ".env.example").read_text()))
    assert documented == {name.upper() for name in Settings.model_fields}


def test_env_example_loads_as_a_dot_env(tmp_path: Path) -> None:
    shutil.copy(REPO / ".env.example", tmp_path / ".env")  # the fixture chdirs to tmp_path
    settings = load_settings()
    assert settings.load_sample_episode is True
    assert settings.database_url.endswith("episode-bot/episode-bot.db")


@pytest.mark.parametrize(
    "given",
    [
        "postgres://bot:pw@db:5432/x",
        "postgresql://bot:pw@db:5432/x",
        "postgresql+psycopg://bot:pw@db:5432/x",
    ],
)
def test_a_postgresql_url_is_read_with_psycopg_3(
    monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", given)
    assert Settings().database_url == "postgresql+psycopg://bot:pw@db:5432/x"


@pytest.mark.parametrize(
    ("name", "value"),
    [("DATABASE_URL", "mysql://db/x"), ("LOG_LEVEL", "LOUD"), ("LOAD_SAMPLE_EPISODE", "maybe")],
)
def test_bad_values_are_one_sentence_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith(name) and "\n" not in message


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("DIGEST_TIME", "25:00", "'25:00' is not a time"),
        ("DIGEST_TIMEZONE", "Mars/Base", "'Mars/Base' is not a time zone"),
        ("DIGEST_DAYS", "someday", "'someday' is not a list of days"),
        ("DIGEST_WHEN_DONE", "never", 'use "next"'),
    ],
)
def test_bad_digest_settings_are_one_sentence(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"{name} is invalid: ") and says in message
    assert "Value error" not in message and not message.endswith("..")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://bot:hunter2@db:5432/x", "postgresql://***@db:5432/x"),
        (
            "postgresql://db/x?sslmode=require&password=hunter2",
            "postgresql://db/x?sslmode=require&password=***",
        ),
        ("postgresql://db/x?PASSWORD=hunter2#top", "postgresql://db/x?PASSWORD=***#top"),
        ("sqlite:////var/lib/episode-bot.db", "sqlite:////var/lib/episode-bot.db"),
    ],
)
def test_a_url_is_printed_without_its_password(url: str, shown: str) -> None:
    assert redacted_url(url) == shown
