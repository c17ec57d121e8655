"""`episode-bot workspace list|forget` and `episode-bot stats`: the workspaces the bot
serves, deleting one's data at once, and how helpful its answers were."""

from __future__ import annotations

from collections.abc import Callable

import click

from bot.cli.options import json_option
from bot.cli.support import echo_json, open_or_exit
from bot.services import feedback, workspaces
from bot.services.library import Library

STATS_PERIODS = (7, 30)


@click.group()
def workspace() -> None:
    """The Slack workspaces the bot is installed in."""


@workspace.command("list")
def list_command() -> None:
    """Every workspace the bot knows: installed, or uninstalled and waiting out the grace
    period (WORKSPACE_GRACE_DAYS) before its data is deleted."""
    with open_or_exit(load_sample=False) as library:
        rows = workspaces.listed(library)
    if not rows:
        click.echo("No workspaces yet: install the bot in Slack (see the README, In Slack).")
        return
    for row in rows:
        name = f" ({row.name})" if row.name else ""
        state = (
            f"uninstalled {row.uninstalled_at:%Y-%m-%d}"
            if row.uninstalled_at
            else f"installed {row.installed_at:%Y-%m-%d}"
        )
        click.echo(f"{row.team_id}{name}: {state}")


@workspace.command("forget")
@click.argument("team_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def forget_command(team_id: str, yes: bool) -> None:
    """Delete everything of workspace TEAM_ID now: its questions, answers, threads,
    feedback, traces, channel settings, daily posts and installation. The episode library
    is kept."""
    team = team_id.strip()
    if not team:
        raise click.ClickException("Name the workspace by its team id (T0123ABCD).")
    if not yes:
        click.confirm(f"Delete every row of workspace {team}? This cannot be undone", abort=True)
    with open_or_exit(load_sample=False) as library:
        gone = workspaces.forget_workspace(library, team)
    if not gone.was_listed and not gone.rows:
        raise click.ClickException(
            f"No workspace {team} is stored: `episode-bot workspace list` shows those there are."
        )
    click.echo(f"Deleted workspace {team}: {gone.rows} rows of its data, and its installation.")


def scoped(library: Library, team: str | None) -> Library:
    """The library for `--team`, or for the one workspace with answers; with several and
    no `--team`, a one-sentence error naming them."""
    if team is not None:
        return library.of_workspace(team.strip())
    teams = [t for t in workspaces.teams_with_data_in(library) if t]
    if len(teams) > 1:
        raise click.ClickException(
            f"This database holds {len(teams)} workspaces ({', '.join(teams)}): "
            "name one with --team."
        )
    return library.of_workspace(teams[0] if teams else "")


def team_option() -> Callable[[click.Command], click.Command]:
    """`--team TEAM_ID`."""
    return click.option(
        "--team",
        metavar="TEAM_ID",
        help="The workspace (its team id); needed when the database holds several.",
    )


def library_team_option() -> Callable[[click.Command], click.Command]:
    """`--team TEAM_ID` for the commands that read or fill the episode library."""
    return click.option(
        "--team",
        metavar="TEAM_ID",
        help="The workspace whose own library to use (LIBRARY_PER_WORKSPACE=true); "
        "by default, every episode.",
    )


def library_of(library: Library, team: str | None, *, required: bool = False) -> Library:
    """The library `--team` names: the workspace's own with a library per workspace, the
    shared one (with a note) without. `required`: with a library per workspace, leaving out
    `--team` is a one-sentence error (an ingest must say whose episodes they are)."""
    if team is None or not team.strip():
        if required and library.per_workspace:
            raise click.ClickException(
                "LIBRARY_PER_WORKSPACE is on, so say whose library these episodes are for: "
                "--team TEAM_ID (`episode-bot workspace list` names the workspaces)."
            )
        return library
    if not library.per_workspace:
        click.echo(
            "LIBRARY_PER_WORKSPACE is off: every workspace shares one library, so --team "
            "changes nothing here.",
            err=True,
        )
    return library.of_workspace(team.strip())


@click.command()
@team_option()
@json_option("Print the figures as JSON.")
def stats(team: str | None, as_json: bool) -> None:
    """Answers given in a workspace over the last 7 and 30 days, and the share rated
    helpful (what `/episode stats` shows in Slack)."""
    with open_or_exit(load_sample=False) as library:
        periods = feedback.recent_stats(scoped(library, team), STATS_PERIODS)
    if as_json:
        echo_json(
            [
                {"days": d, "answers": s.answers, "rated": s.rated, "helpful": s.helpful}
                for d, s in periods
            ]
        )
        return
    for days, figures in periods:
        share = feedback.helpful_share(figures)
        click.echo(f"Last {days} days: {figures.answers} answers, helpful: {share}.")
