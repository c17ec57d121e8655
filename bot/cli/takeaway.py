"""`episode-bot takeaway`: the channel's next takeaway of the day, shown or posted now."""

from __future__ import annotations

import click

from bot.answering import format_timestamp
from bot.cli.options import channel_id
from bot.cli.support import open_or_exit, settings_or_exit
from bot.config import Settings, slack_problem
from bot.services.answerers import takeaway_writer_from_settings
from bot.services.takeaways import next_for_channel


@click.command()
@click.option("--channel", help="Slack channel id. Default: DIGEST_CHANNEL.")
@click.option("--post", "post_now", is_flag=True, help="Post it now (once a day per channel).")
@click.option(
    "--team",
    metavar="TEAM_ID",
    help="The channel's workspace: needed with many workspaces (SLACK_CLIENT_ID).",
)
def takeaway(channel: str | None, post_now: bool, team: str | None) -> None:
    """Print the channel's next takeaway of the day, or post it now."""
    settings = settings_or_exit()
    channel = channel_id(channel) or settings.digest_channel
    if post_now:
        _post(settings, channel, team)
        return
    with open_or_exit(settings=settings) as library:
        pick = next_for_channel(
            library.of_workspace(team or ""),
            channel or "",
            when_done=settings.digest_when_done,
            writer=takeaway_writer_from_settings(settings),
        )
    if pick is None:
        raise click.ClickException("The library has no takeaways yet: ingest an episode first.")
    stamp = format_timestamp(pick.start_seconds)
    where = f"turn {pick.position}" + (f", {stamp}" if stamp else "")
    if pick.text.strip() != pick.quote.strip():
        click.echo(pick.text + "\n")
    click.echo(f"  “{pick.quote}”\n      — {pick.speaker} ({pick.episode_title}, {where})\n")
    click.echo(pick.question)


def _post(settings: Settings, channel: str | None, team: str | None) -> None:
    if not channel:
        raise click.ClickException("Say which channel: --channel C0123ABCD, or set DIGEST_CHANNEL.")
    if settings.many_workspaces and not team:
        raise click.ClickException(
            "With many workspaces, say whose channel it is: --team T0123ABCD "
            "(`episode-bot workspace list` shows them)."
        )
    many = settings.many_workspaces
    problem = slack_problem(settings, socket_mode=not many)
    if problem and ("SLACK_BOT_TOKEN" in problem or many):
        raise click.ClickException(problem)
    from bot.services.daily_posts import Outcome  # Slack's SDK only when posting
    from bot.slack.app import SlackStartError
    from bot.slack.runtime import post_takeaway_now

    with open_or_exit(settings=settings) as library:
        try:
            result = post_takeaway_now(settings, library, channel, team=team)
        except SlackStartError as exc:
            raise click.ClickException(str(exc)) from None
    if result.outcome is Outcome.POSTED and result.pick is not None:
        click.echo(f"Posted to {channel}: {result.pick.text}")
    elif result.outcome is Outcome.FAILED:
        raise click.ClickException(f"Slack refused the post ({result.error}); try again later.")
    else:
        click.echo(f"Nothing posted to {channel}: today's takeaway was {result.outcome.value}.")
