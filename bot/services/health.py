"""What works with the current settings (`episode-bot doctor`): the database and Claude here,
Slack in bot/slack/health.py. A verdict never holds a token or key, only whether it was
accepted, and a URL is shown without its user info (`user:key@` is `***@`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings, redacted_url, secret
from db.backend import connection_limit, describe_backend
from db.engine import POOL_CONNECTIONS, DatabaseError, head_revision, open_database
from db.episodes import count_episodes
from db.shelves import owned_counts
from db.workspaces import workspaces

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
            backend = describe_backend(session)
            limit = connection_limit(session)
    except DatabaseError as exc:
        return Check("database", False, str(exc))
    except SQLAlchemyError as exc:  # opened, then lost
        return Check("database", False, f"the database stopped answering ({type(exc).__name__})")
    detail = (
        f"{backend} at {redacted_url(settings.database_url)}, schema {head_revision()}, "
        f"{episodes} episode(s)"
    )
    if limit is not None:
        # Each bot process may hold up to POOL_CONNECTIONS; a second one doubles it.
        detail += f"; the server takes {limit} connections, a bot process up to {POOL_CONNECTIONS}"
    return Check("database", True, detail)


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


def check_workspaces(settings: Settings) -> Check:
    """The workspaces the bot is installed in (and those uninstalled, waiting out the grace
    period before their data is deleted)."""
    try:
        with open_database(settings.database_url)() as session:
            rows = workspaces(session)
            owned = owned_counts(session) if settings.library_per_workspace else None
    except (DatabaseError, SQLAlchemyError):
        return Check("workspaces", None, "not listed: the store above does not open")
    installed = [r for r in rows if r.uninstalled_at is None]
    gone = [r for r in rows if r.uninstalled_at is not None]
    if not rows:
        how = "install it at /slack/install" if settings.many_workspaces else "start serve once"
        return Check("workspaces", None, f"none installed yet ({how})")
    detail = f"{len(installed)} installed"
    if installed:
        detail += ": " + ", ".join(_named(r.team_id, r.name) for r in installed)
    if owned is not None:
        empty = [r.team_id for r in installed if not owned.get(r.team_id)]
        detail += "; a library per workspace" + (
            f", empty in {', '.join(empty)} (`episode-bot ingest --team TEAM_ID PATH`)"
            if empty
            else ": " + ", ".join(_episodes_of(r.team_id, owned[r.team_id]) for r in installed)
        )
        if empty:
            return Check("workspaces", None, detail)
    if gone:
        detail += (
            f"; {len(gone)} uninstalled, data kept {settings.workspace_grace_days} days: "
            + ", ".join(_named(r.team_id, r.name) for r in gone)
        )
    return Check("workspaces", bool(installed) or None, detail)


def _episodes_of(team_id: str, count: int) -> str:
    return f"{team_id} {count} episode" + ("" if count == 1 else "s")


def _named(team_id: str, name: str | None) -> str:
    return f"{team_id} ({name})" if name else team_id
