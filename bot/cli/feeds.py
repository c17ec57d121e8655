"""`episode-bot feed add|list|remove|poll`: podcast feeds whose new episodes arrive by
themselves."""

from __future__ import annotations

import click

from bot.cli.options import channel_id, json_option
from bot.cli.support import echo_json, open_or_exit, printable, settings_or_exit
from bot.cli.workspace import team_option
from bot.config import Settings
from bot.services import feeds, workspaces
from bot.services.feeds import FeedProblem, FeedView
from bot.services.library import Library

STATE_WORDS = {
    "ingested": "loaded",
    "waiting": "waiting",
    "broken": "broken",
    "removed": "removed since",
    "earlier": "",
}


def subscriber(library: Library, team: str | None) -> Library:
    """The workspace a feed command is for: `--team`, else the one installed workspace, else
    the command line's own; with several installed and no `--team`, a one-sentence error."""
    if team is not None and team.strip():
        return library.of_workspace(team.strip())
    installed = sorted(workspaces.active_teams(library))
    if len(installed) > 1:
        raise click.ClickException(
            f"The bot is installed in {len(installed)} workspaces ({', '.join(installed)}): "
            "name one with --team."
        )
    return library.of_workspace(installed[0] if installed else "")


@click.group()
def feed() -> None:
    """Podcast feeds: new episodes with a transcript are loaded and announced by themselves."""


@feed.command("add")
@click.argument("url")
@click.option("--channel", help="The channel id (C0123ABCD) to announce new episodes in.")
@team_option()
def add_command(url: str, channel: str | None, team: str | None) -> None:
    """Subscribe to the podcast feed at URL: its newest episode is loaded now, later ones as
    they appear (each announced in --channel, which then asks about it)."""
    settings = settings_or_exit()
    channel = channel_id(channel)
    with open_or_exit(load_sample=False, settings=settings) as library:
        try:
            added = feeds.subscribe(subscriber(library, team), settings, url, channel=channel)
        except FeedProblem as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"Subscribed to {printable(added.title)} (feed {added.id}).")
    _echo_items(added)


@feed.command("list")
@team_option()
@json_option()
def list_command(team: str | None, as_json: bool) -> None:
    """The subscribed feeds: their episodes loaded, waiting for a transcript, or broken."""
    with open_or_exit(load_sample=False) as library:
        found = feeds.subscriptions(subscriber(library, team))
    if as_json:
        echo_json([_as_json(view) for view in found])
        return
    if not found:
        click.echo("No feeds yet: `episode-bot feed add URL` subscribes to one.")
    for view in found:
        where = f", announced in {view.channel}" if view.channel else ""
        click.echo(f"{view.id}. {printable(view.title)}  {printable(view.url)}{where}")
        if view.error:
            click.echo(f"   failing ({view.failures} in a row): {view.error}")
        _echo_items(view)


def _echo_items(view: FeedView) -> None:
    earlier = view.count("earlier")
    counts = [f"{view.count(s)} {w}" for s, w in STATE_WORDS.items() if w and view.count(s)]
    if earlier:
        counts.append(f"{earlier} from before the subscription, not loaded")
    click.echo("   " + (", ".join(counts) or "no episodes yet"))
    for item in view.items:
        if item.state in ("waiting", "broken"):
            click.echo(f"   {item.state}: {printable(item.title)}: {item.note or ''}")
        elif item.note:  # loaded, and something to say of it (its announcement given up)
            click.echo(f"   loaded: {printable(item.title)}: {item.note}")
    for line in view.skipped:
        click.echo(f"   skipped: {printable(line)}")


def _as_json(view: FeedView) -> dict[str, object]:
    return {
        "id": view.id,
        "url": view.url,
        "title": view.title,
        "channel": view.channel,
        "polled_at": view.polled_at.isoformat() if view.polled_at else None,
        "error": view.error,
        "items": [
            {"title": i.title, "state": i.state, "note": i.note, "episode": i.slug}
            for i in view.items
        ],
        "skipped": view.skipped,
    }


@feed.command("remove")
@click.argument("feed_ref", metavar="URL|ID")
@team_option()
def remove_command(feed_ref: str, team: str | None) -> None:
    """Stop polling a feed (by its URL or the number `feed list` gives); its episodes stay."""
    with open_or_exit(load_sample=False) as library:
        try:
            gone = feeds.unsubscribe(subscriber(library, team), feed_ref)
        except FeedProblem as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"Unsubscribed from {printable(gone.title)}; its episodes stay in the library.")


@feed.command("poll")
def poll_command() -> None:
    """Poll every subscribed feed now (serve and socket poll on their own, every
    FEED_POLL_MINUTES): load new episodes, announce them when Slack is set up."""
    settings = settings_or_exit()
    with open_or_exit(load_sample=False, settings=settings) as library:
        report = feeds.poll(library, settings, _announcer(settings, library), every_feed=True)
    if report.skipped_poll:
        click.echo("Another process is polling the feeds right now; try again in a minute.")
        return
    click.echo(
        f"Polled {report.polled} feeds: {len(report.loaded)} episodes loaded, "
        f"{report.announced} announced."
    )
    for line in report.failed:
        click.echo(f"   failed: {printable(line)}")


def _announcer(settings: Settings, library: Library) -> feeds.Announcer | None:
    """Slack's announcer when Slack is set up; else None (serve announces them later)."""
    from bot.slack.announcer import announcer_from_settings  # Slack's SDK only when polling
    from bot.slack.app import SlackStartError

    try:
        return announcer_from_settings(settings, library)
    except SlackStartError as exc:
        click.echo(f"Not announced: {exc}", err=True)
        return None
