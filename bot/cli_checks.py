"""`episode-bot eval` and `episode-bot replay`: is retrieval, or a new model, better or worse
than before? Kept apart from the everyday commands in bot/cli.py."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli_support import echo_json, one_scope, open_or_exit, plain_query_errors
from bot.evaluation import QuestionsError, evaluate, parse_ks, read_questions, render


@click.command("eval")
@click.argument("questions_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--episode", help="Search one episode (by slug); its turns are the gold turns.")
@click.option("library_wide", "--all", is_flag=True, help="Search the whole library (the default).")
@click.option(
    "--gold-episode",
    help='Library-wide: the episode the gold turns are in, for lines without "episode".',
)
@click.option("ks_text", "--k", default="1,5,10", show_default=True, help="The k of recall@k.")
@click.option("as_json", "--json", is_flag=True, help="Print the figures as JSON.")
def eval_command(
    questions_file: Path,
    episode: str | None,
    library_wide: bool,
    gold_episode: str | None,
    ks_text: str,
    as_json: bool,
) -> None:
    """Retrieval recall@k, MRR and misses on QUESTIONS_FILE: one JSON object a line,
    {"q": "...", "gold": [turn, ...]} (the format of dev_questions.jsonl)."""
    one_scope(episode, library_wide)
    try:
        ks = parse_ks(ks_text)
        questions = read_questions(questions_file)
    except QuestionsError as exc:
        raise click.ClickException(f"{exc}.") from None
    with (
        open_or_exit() as session_factory,
        session_factory() as session,
        plain_query_errors("question", episode),
    ):
        try:
            result = evaluate(session, questions, episode=episode, gold_episode=gold_episode, ks=ks)
        except QuestionsError as exc:
            raise click.ClickException(f"{exc}.") from None
    if as_json:
        echo_json(result.as_json())
    else:
        click.echo(render(result))
