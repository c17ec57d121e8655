"""`episode-bot doctor`: what works with the current settings, one line per part. Never
prints a token or key, only whether it was accepted, and never a URL's user info."""

from __future__ import annotations

import sys

import click

from bot.cli.support import settings_or_exit
from bot.config import Settings, redacted_url
from bot.services.health import Check, check_claude, check_database, check_workspaces

MARKS = {True: "✓", False: "✗", None: "-"}  # works, broken, not configured


def line(check: Check) -> str:
    """`✓ database: …` when it works, `✗ …` when not, `- …` when not configured."""
    return f"{MARKS[check.ok]} {check.part}: {check.detail}"


def without_user_info(text: str, settings: Settings) -> str:
    """`text` with every configured URL in it shown as `redacted_url` shows it: a check
    written elsewhere (Slack's, say) may quote a URL as it was configured."""
    for url in (settings.slack_api_url, settings.anthropic_base_url, settings.database_url):
        if url and (shown := redacted_url(url)) != url:
            text = text.replace(url, shown)
    return text


@click.command()
def doctor() -> None:
    """Check the configuration: database, Slack token (or OAuth settings), the workspaces
    installed, Anthropic key. Says what works."""
    from bot.slack.health import check_slack  # Slack's SDK only for this command

    settings = settings_or_exit()
    checks = [
        check_database(settings),
        check_slack(settings),
        check_workspaces(settings),
        check_claude(settings),
    ]
    for check in checks:
        click.echo(without_user_info(line(check), settings))
    if any(check.ok is False for check in checks):
        sys.exit(1)
