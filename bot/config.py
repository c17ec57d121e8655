"""Settings from the environment and `.env`, validated once at start, and the words of a daily
schedule (a clock time, a zone, days) that settings and `/episode digest here` both read."""

from __future__ import annotations

import os
import re
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """Where the embedded database lives unless DATABASE_URL says otherwise.

    Follows the XDG convention so `serve`, cron jobs and the CLI all find the same
    file regardless of the directory they are started from.
    """
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "episode-bot"


def default_database_url() -> str:
    """SQLite file under the data directory."""
    return f"sqlite:///{default_data_dir() / 'episode-bot.db'}"


# -- the words of a daily schedule, read alike from settings and from `/episode digest here`

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CLOCK = re.compile(r"(\d{1,2}):(\d{2})")


class ScheduleError(ValueError):
    """A time, zone or day list that cannot be used; the message is one plain sentence."""


def parse_time(text: str) -> time:
    """`09:30` -> 09:30. 24-hour clock."""
    match = CLOCK.fullmatch(text.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ScheduleError(f"{text.strip()!r} is not a time: use HH:MM on a 24-hour clock.")
    return time(int(match[1]), int(match[2]))


def parse_zone(text: str) -> ZoneInfo:
    """An IANA time zone such as `Europe/Berlin` or `UTC`."""
    name = text.strip()
    if name.upper() in {"UTC", "GMT"}:
        name = name.upper()
    try:
        if not name or name.startswith(("/", ".")) or ".." in name:
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f"{name!r} is not a time zone: use a name such as Europe/Berlin or America/New_York."
        ) from None


def parse_days(text: str) -> frozenset[int]:
    """`mon-fri`, `mon,wed,fri` or `daily` -> weekday numbers (Monday is 0)."""
    spec = text.strip().lower()
    if spec in {"daily", "every day", "all"}:
        return frozenset(range(7))
    days: set[int] = set()
    for part in filter(None, (p.strip() for p in spec.split(","))):
        first, _, last = part.partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            raise ScheduleError(
                f"{text.strip()!r} is not a list of days: use mon-fri, or mon,wed,fri, or daily."
            )
        start, end = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
        days.update(range(start, end + 1) if start <= end else [*range(start, 7), *range(end + 1)])
    if not days:
        raise ScheduleError("No days given: use mon-fri, or mon,wed,fri, or daily.")
    return frozenset(days)


# A current Sonnet-class model: good written answers at a moderate price per question.
DEFAULT_MODEL = "claude-sonnet-5-5"


class Settings(BaseSettings):
    """Every setting the bot reads; `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    load_sample_episode: bool = True
    log_level: str = "WARNING"
    # Secrets are SecretStr so that no repr, log line or error message can show them.
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    # Many workspaces: with the app's client id and secret (and no SLACK_BOT_TOKEN) `serve`
    # runs Slack's OAuth install flow and keeps each workspace's installation.
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    # Where Slack's "Add to Slack" page is (tests point it at a stand-in).
    slack_authorize_url: str = "https://slack.com/oauth/v2/authorize"
    # The public address Slack sends installers back to: https://YOUR-HOST/slack/oauth_redirect
    slack_redirect_uri: str | None = None
    # An uninstalled workspace's data is kept this long (a reinstall finds it), then deleted.
    workspace_grace_days: int = Field(default=30, ge=0, le=3650)
    # Each workspace asks about only the episodes ingested for it (`ingest --team`); off,
    # every workspace shares one library (transcripts are public).
    library_per_workspace: bool = False
    # Subscribed podcast feeds are polled this often by serve and socket.
    feed_poll_minutes: float = Field(default=30, ge=0.05, le=1440)
    # Feeds and transcripts on loopback or private networks are refused unless this is on
    # (an intranet feed; the tests' loopback server).
    feeds_allow_private: bool = False
    port: int = Field(default=3000, ge=1, le=65535)
    # On SIGTERM (a deploy), how long answers under way may take to finish before exiting;
    # what is left is answered by the next process to start.
    shutdown_grace_seconds: float = Field(default=20.0, ge=0, le=600)
    # Claude writes the answers when a key is set; without one, answers quote the transcript.
    anthropic_api_key: SecretStr | None = None
    anthropic_model: str = DEFAULT_MODEL
    anthropic_base_url: str | None = None
    # The takeaway of the day: the channel it goes to (per-channel settings come from
    # `/episode digest`), its local time and zone, and the days it is posted.
    digest_channel: str | None = None
    digest_time: str = "09:00"
    digest_timezone: str = "UTC"
    digest_days: str = "mon-fri"
    # When every takeaway of a channel's episode has been posted: "next" episode or "restart".
    digest_when_done: str = "next"

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value.startswith(("sqlite:///", "sqlite+pysqlite:///", "postgresql+psycopg://")):
            return value
        for scheme in ("postgresql://", "postgres://"):  # psycopg 3 is the driver
            if value.startswith(scheme):
                return "postgresql+psycopg://" + value.removeprefix(scheme)
        raise ValueError(
            "use sqlite:///path/to/episode-bot.db or postgresql://user:password@host:5432/database"
        )

    @field_validator("anthropic_model")
    @classmethod
    def _model_named(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name a model, such as " + DEFAULT_MODEL)
        return value.strip()

    @field_validator("anthropic_base_url", "anthropic_api_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `ANTHROPIC_API_KEY=` in a copied .env.example means "no key", not an empty key.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("digest_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        parse_time(value)
        return value.strip()

    @field_validator("digest_timezone")
    @classmethod
    def _time_zone(cls, value: str) -> str:
        parse_zone(value)
        return value.strip()

    @field_validator("digest_days")
    @classmethod
    def _week_days(cls, value: str) -> str:
        parse_days(value)
        return value.strip().lower()

    @field_validator("digest_when_done")
    @classmethod
    def _when_done(cls, value: str) -> str:
        if value.strip().lower() not in {"next", "restart"}:
            raise ValueError('use "next" (the next episode) or "restart"')
        return value.strip().lower()

    @field_validator("digest_channel", mode="before")
    @classmethod
    def _blank_channel(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("use DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @property
    def many_workspaces(self) -> bool:
        """Whether the bot runs Slack's OAuth install flow for many workspaces (a client id
        and secret, and no single bot token)."""
        return bool(self.slack_client_id and secret(self.slack_client_secret)) and not secret(
            self.slack_bot_token
        )


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one plain sentence."""


def secret(value: SecretStr | None) -> str:
    """A secret setting's value, "" when unset."""
    return value.get_secret_value() if value is not None else ""


def slack_problem(settings: Settings, *, socket_mode: bool) -> str | None:
    """Why the Slack app cannot start with these settings, in one sentence, or None."""
    if settings.many_workspaces and not socket_mode:
        return _signing_secret_problem(secret(settings.slack_signing_secret))
    if not secret(settings.slack_bot_token).startswith("xoxb-"):
        return "SLACK_BOT_TOKEN must be the app's bot token (it starts with xoxb-)."
    if socket_mode:
        if not secret(settings.slack_app_token).startswith("xapp-"):
            return "SLACK_APP_TOKEN must be an app-level token (it starts with xapp-)."
        return None
    return _signing_secret_problem(secret(settings.slack_signing_secret))


def _signing_secret_problem(value: str) -> str | None:
    """What is wrong with the signing secret, said as it is: unset, or set but too short
    to be one (Slack's are 32 characters; a copy that lost some is the usual cause)."""
    if not value:
        return "SLACK_SIGNING_SECRET must be set to the app's signing secret (Basic Information)."
    if len(value) < 16:
        return (
            f"SLACK_SIGNING_SECRET is set but only {len(value)} characters long, and Slack's "
            "signing secrets are 32: copy it again from Basic Information, App Credentials."
        )
    return None


# Prefixes of the settings' families: an environment variable that starts with one and is
# no setting is most likely one mistyped (the rest of the environment is not ours to judge).
SETTING_PREFIXES = ("SLACK_", "ANTHROPIC_", "DIGEST_", "FEED", "DATABASE_", "LIBRARY_")


def misspelled_settings(env_file: Path = Path(".env")) -> list[tuple[str, str]]:
    """Names given in `.env` (any) or the environment (with a settings prefix) that are no
    setting but look like one, each with the setting it most likely meant."""
    from difflib import get_close_matches

    from dotenv import dotenv_values  # pydantic-settings reads .env with it too

    known = [name.upper() for name in Settings.model_fields]
    given = set(dotenv_values(env_file)) if env_file.is_file() else set()
    given |= {k for k in os.environ if k.upper().startswith(SETTING_PREFIXES)}
    found = []
    for name in sorted(given):
        if name.upper() in known:
            continue
        if near := get_close_matches(name.upper(), known, n=1, cutoff=0.8):
            found.append((name, near[0]))
    return found


def load_settings() -> Settings:
    """Read and validate settings, turning validation noise into one sentence."""
    try:
        return Settings()
    except UnicodeDecodeError:
        raise ConfigError("The .env file is not UTF-8 text: save it as UTF-8.") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "a setting"
        message = str(first["msg"]).removeprefix("Value error, ").rstrip(".")
        raise ConfigError(f"{name} is invalid: {message}.") from None


# What may sit between a URL's `scheme://` and its host: `user:key@` (the last `@` before
# the path wins, as a password may hold one).
_USER_INFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://)[^/?#]*@")
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)


def redacted_url(url: str | None) -> str:
    """`url` safe to print: any user info (`user:key@`) becomes `***@`, and a password
    given as a query parameter (`?password=…`, which libpq takes too) `password=***`; ""
    when unset."""
    if not url:
        return ""
    return _QUERY_PASSWORD.sub(r"\1***", _USER_INFO.sub(r"\1***@", url, count=1))
