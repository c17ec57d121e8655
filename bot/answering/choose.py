"""Which answerer the settings call for: Claude with a key, the offline quoter without."""

from __future__ import annotations

from bot.answering import Answerer
from bot.answering.offline import OfflineAnswerer
from bot.config import Settings, secret


def answerer_from_settings(settings: Settings) -> Answerer:
    """Decided before any client is built: no key, no Anthropic client at all."""
    offline = OfflineAnswerer()
    key = secret(settings.anthropic_api_key)
    if not key:
        return offline
    # Imported here: the SDK adds a noticeable pause to every CLI start that does not need it.
    from bot.answering.claude import ClaudeAnswerer
    from bot.answering.claude_client import build_client

    client = build_client(key, settings.anthropic_base_url)
    return ClaudeAnswerer(client, settings.anthropic_model, offline)
