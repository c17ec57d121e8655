"""`episode-bot serve`, `socket` and `mcp`: the long-running servers."""

from __future__ import annotations

import click

from bot.cli.support import open_or_exit, settings_or_exit
from bot.config import slack_problem


@click.command()
@click.option("--port", type=click.IntRange(1, 65535), help="Default: PORT, or 3000.")
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
def serve(port: int | None, host: str) -> None:
    """Run the Slack app over HTTP: POST /slack/events, GET /healthz; with SLACK_CLIENT_ID
    and SLACK_CLIENT_SECRET instead of SLACK_BOT_TOKEN, also GET /slack/install for every
    workspace that adds the bot."""
    settings = settings_or_exit()
    if problem := slack_problem(settings, socket_mode=False):
        raise click.ClickException(problem)
    from bot.slack.app import SlackStartError  # Bolt and waitress only for the servers
    from bot.slack.runtime import run_http

    chosen = port or settings.port
    with open_or_exit(settings=settings) as library:
        try:
            run_http(
                settings,
                library,
                host=host,
                port=chosen,
                on_ready=lambda: click.echo(
                    f"Serving Slack requests on http://{host}:{chosen}/slack/events", err=True
                ),
            )
        except SlackStartError as exc:
            raise click.ClickException(str(exc)) from None


@click.command()
def socket() -> None:
    """Run the Slack app over Socket Mode: no public URL needed (uses SLACK_APP_TOKEN)."""
    settings = settings_or_exit()
    if problem := slack_problem(settings, socket_mode=True):
        raise click.ClickException(problem)
    from bot.slack.app import SlackStartError
    from bot.slack.runtime import run_socket

    with open_or_exit(settings=settings) as library:
        try:
            run_socket(
                settings,
                library,
                on_ready=lambda: click.echo("Connecting to Slack over Socket Mode…", err=True),
            )
        except SlackStartError as exc:
            raise click.ClickException(str(exc)) from None


@click.command()
def mcp() -> None:
    """Serve the library to AI assistants (Claude Desktop, Claude Code...) over the Model
    Context Protocol on stdin/stdout: search, read turns, ask, takeaways."""
    settings = settings_or_exit()
    with open_or_exit(settings=settings) as library:
        from bot.mcp.server import run_stdio  # the MCP SDK only for this command

        run_stdio(settings, library)
