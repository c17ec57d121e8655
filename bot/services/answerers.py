"""What the settings call for: Claude with a key, the offline quoter and heuristics without."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.answering import Answerer
from bot.answering.offline import OfflineAnswerer
from bot.config import Settings, secret

if TYPE_CHECKING:
    from bot.takeaways.written import TakeawayWriter


def answerer_from_settings(settings: Settings, *, model: str | None = None) -> Answerer:
    """Decided before any client is built: no key, no Anthropic client at all. `model`
    overrides ANTHROPIC_MODEL (a replay with another model)."""
    offline = OfflineAnswerer()
    key = secret(settings.anthropic_api_key)
    if not key:
        return offline
    # Imported here: the SDK adds a noticeable pause to every CLI start that does not need it.
    from bot.answering.claude.answerer import ClaudeAnswerer
    from bot.answering.claude.client import build_client

    client = build_client(key, settings.anthropic_base_url)
    return ClaudeAnswerer(client, model or settings.anthropic_model, offline)


def takeaway_writer_from_settings(settings: Settings) -> TakeawayWriter | None:
    """Claude writes the takeaways of the day when a key is set; None: the offline heuristic.
    Like the answerer, no client (and no SDK import) without a key."""
    key = secret(settings.anthropic_api_key)
    if not key:
        return None
    from bot.answering.claude.client import build_client
    from bot.takeaways.written import TakeawayWriter

    return TakeawayWriter(build_client(key, settings.anthropic_base_url), settings.anthropic_model)
