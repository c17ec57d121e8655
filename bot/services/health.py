"""What works with the current settings (`episode-bot doctor`): the database and Claude here,
Slack in bot/slack/health.py. A verdict never holds a token or key, only whether it was
accepted, and a URL is shown without its user info (`user:key@` is `***@`)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings, redacted_url, secret
from db.engine import DatabaseError, head_revision, open_database
from db.episodes import count_episodes

CHECK_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Check:
    """One part's verdict: ok True/False, or None when it is simply not configured."""

    part: str
    ok: bool | None
    detail: str


def check_database(settings: Settings) -> Check:
    """The database opens and migrates; how many episodes it holds."""
    try:
        session_factory = open_database(settings.database_url)
        with session_factory() as session:
            episodes = count_episodes(session)
    except DatabaseError as exc:
        return Check("database", False, str(exc))
    return Check(
        "database",
        True,
        f"{redacted_url(settings.database_url)} at schema {head_revision()}, {episodes} episode(s)",
    )


def check_claude(settings: Settings) -> Check:
    """The key is accepted and the model exists (one models.retrieve call, no tokens spent)."""
    key = secret(settings.anthropic_api_key)
    if not key:
        return Check("claude", None, "no ANTHROPIC_API_KEY: answers quote the transcript (offline)")
    import anthropic

    client = anthropic.Anthropic(
        api_key=key,
        base_url=settings.anthropic_base_url,
        max_retries=1,
        timeout=CHECK_TIMEOUT_SECONDS,
    )
    model = settings.anthropic_model
    try:
        client.models.retrieve(model)
    except anthropic.AuthenticationError:
        return Check("claude", False, "Anthropic refused ANTHROPIC_API_KEY: answers stay offline")
    except anthropic.PermissionDeniedError:
        return Check("claude", False, "the key may not use the API: answers stay offline")
    except anthropic.NotFoundError:
        return Check("claude", False, f"no model {model!r}: set ANTHROPIC_MODEL to a current one")
    except anthropic.APIStatusError as exc:
        return Check("claude", False, f"Anthropic answered HTTP {exc.status_code}; try again later")
    except anthropic.APIConnectionError:
        where = redacted_url(str(client.base_url))
        return Check("claude", False, f"cannot reach Anthropic at {where}")
    return Check("claude", True, f"key accepted, model {model} available: Claude writes answers")
