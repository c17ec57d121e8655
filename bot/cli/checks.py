"""`episode-bot eval` and `episode-bot replay`: is retrieval, or a new model, better or worse
than before?"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from bot.answering.offline import OfflineAnswerer
from bot.cli.options import json_option, scope_options
from bot.cli.support import echo_json, open_or_exit, plain_query_errors, settings_or_exit
from bot.cli.workspace import library_of, library_team_option, team_option
from bot.config import secret
from bot.evaluation.recall import QuestionsError, parse_ks, read_questions, render
from bot.evaluation.replay import as_json as replay_json
from bot.evaluation.report import render as render_replay
from bot.services.answerers import answerer_from_settings
from bot.services.evaluation import recall_of, replay_recent


@click.command("eval")
@click.argument("questions_file", type=click.Path(dir_okay=False, path_type=Path))
@scope_options(
    "Search one episode (by slug); its turns are the gold turns.",
    "Search the whole library (the default).",
)
@click.option(
    "--gold-episode",
    help='Library-wide: the episode the gold turns are in, for lines without "episode".',
)
@click.option("ks_text", "--k", default="1,5,10", show_default=True, help="The k of recall@k.")
@json_option("Print the figures as JSON.")
@library_team_option()
def eval_command(
    questions_file: Path,
    episode: str | None,
    gold_episode: str | None,
    ks_text: str,
    as_json: bool,
    team: str | None,
) -> None:
    """Retrieval recall@k, MRR and misses on QUESTIONS_FILE: one JSON object a line,
    {"q": "...", "gold": [turn, ...]} (the format of dev_questions.jsonl)."""
    try:
        ks = parse_ks(ks_text)
        questions = read_questions(questions_file)
    except QuestionsError as exc:
        raise click.ClickException(f"{exc}.") from None
    with open_or_exit() as shared:
        library = library_of(shared, team)
        with plain_query_errors("question", episode, library):
            try:
                result = recall_of(
                    library, questions, episode=episode, gold_episode=gold_episode, ks=ks
                )
            except QuestionsError as exc:
                raise click.ClickException(f"{exc}.") from None
    if as_json:
        echo_json(result.as_json())
    else:
        click.echo(render(result))


@click.command("replay")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M"]),
    help="Only answers given on or after this date (UTC), e.g. 2026-11-20.",
)
@click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=20,
    show_default=True,
    help="Replay the newest N answers.",
)
@click.option("--model", help="Answer with this Claude model (needs ANTHROPIC_API_KEY).")
@click.option(
    "--answerer",
    "answerer_name",
    type=click.Choice(["claude", "offline"]),
    help="Who answers now. Default: Claude when ANTHROPIC_API_KEY is set, else offline.",
)
@team_option()
@json_option("Print JSON instead of markdown.")
def replay_command(
    since: datetime | None,
    limit: int,
    model: str | None,
    answerer_name: str | None,
    team: str | None,
    as_json: bool,
) -> None:
    """Answer stored questions again with another model or answerer, and show the old and
    new answers side by side: text, citations, tokens and latency. Replays are not stored.
    With --team, only that workspace's answers (and its threads' history)."""
    settings = settings_or_exit()
    has_key = bool(secret(settings.anthropic_api_key))
    if (model or answerer_name == "claude") and not has_key:
        raise click.ClickException(
            "Answering with Claude needs ANTHROPIC_API_KEY; set it, or use --answerer offline."
        )
    if model and answerer_name == "offline":
        raise click.ClickException("--model picks a Claude model, so it needs Claude, not offline.")
    answerer = (
        OfflineAnswerer()
        if answerer_name == "offline"
        else answerer_from_settings(settings, model=model)
    )
    with (
        open_or_exit(load_sample=False, settings=settings) as library,
        plain_query_errors("question", None),
    ):
        replayed = replay_recent(library, answerer, since=since, limit=limit, team=team)
    if not replayed:
        raise click.ClickException(
            "No stored answers to replay"
            + (f" in workspace {team}" if team else "")
            + (f" since {since:%Y-%m-%d}" if since else "")
            + ": answers are stored as they are given (`episode-bot ask`, or in Slack)."
        )
    if as_json:
        echo_json(replay_json(replayed))
    else:
        click.echo(render_replay(replayed))
