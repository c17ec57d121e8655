"""`episode-bot`: ingest transcripts, list episodes, search and ask from the command line, and
run the Slack app and the MCP server. One module per group of commands."""

from __future__ import annotations

import click

from bot.cli.ask import ask
from bot.cli.checks import eval_command, replay_command
from bot.cli.doctor import doctor
from bot.cli.feeds import feed
from bot.cli.library import episodes, ingest, migrate, remove, search
from bot.cli.run import mcp, serve, socket
from bot.cli.takeaway import takeaway
from bot.cli.workspace import stats, workspace


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="episode-bot")
def cli() -> None:
    """Ask questions about podcast episodes, answered from their transcripts."""


for command in (
    migrate,
    ingest,
    remove,
    episodes,
    search,
    ask,
    serve,
    socket,
    mcp,
    takeaway,
    doctor,
    eval_command,
    replay_command,
    stats,
    workspace,
    feed,
):
    cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    cli()
