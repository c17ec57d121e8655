"""`episode-bot ask`: the answer Slack would give, in the terminal."""

from __future__ import annotations

from dataclasses import asdict

import click

from bot.answering import Answer, Watcher, format_timestamp
from bot.answering.moment import moment_url
from bot.cli.options import json_option, scope_options, words_of
from bot.cli.support import echo_json, open_or_exit, plain_query_errors, printable, settings_or_exit
from bot.services.answerers import answerer_from_settings
from bot.services.asking import ask as ask_library


def render_answer(answer: Answer, *, library_wide: bool) -> str:
    """The answer, then each quote with who said it, where, and a link to the moment (or
    the episode's page). Across the library each names its episode: nobody picked it."""
    lines = [f"({answer.notice})\n" if answer.notice else "", answer.text]
    with_episode = library_wide or len({c.episode_slug for c in answer.citations}) > 1
    for number, citation in enumerate(answer.citations, start=1):
        stamp = format_timestamp(citation.start_seconds)
        where = f"turn {citation.position}" + (f", {stamp}" if stamp else "")
        if citation.chapter:
            where += f", chapter “{citation.chapter}”"
        source = f"{citation.episode_title}, " if with_episode else ""
        lines.append(
            f"\n  [{number}] “{citation.quote}”\n      — {citation.speaker} ({source}{where})"
        )
        if url := citation.url or citation.episode_url:
            lines.append(f"        {printable(url)}")
    return "\n".join(line for line in lines if line)


class _Searches(Watcher):
    """Prints what Claude searches for while a library-wide answer is written."""

    def searching(self, doing: str) -> None:
        click.echo(f"{printable(doing)}…", err=True)


def _watcher() -> Watcher | None:
    """In a terminal, a watcher of the searches (the answer itself prints once checked)."""
    return _Searches() if click.get_text_stream("stderr").isatty() else None


@click.command()
@click.argument("question", nargs=-1)
@scope_options("Ask about one episode (by slug).", "Ask across the whole library (the default).")
@json_option()
def ask(question: tuple[str, ...], episode: str | None, as_json: bool) -> None:
    """Answer QUESTION from the transcripts, citing who said it and where: across the whole
    library unless --episode names one."""
    text = words_of(question, "question")
    settings = settings_or_exit()
    answerer = answerer_from_settings(settings)
    with (
        open_or_exit(settings=settings) as library,
        plain_query_errors("question", episode, library),
    ):
        answer = ask_library(library, text, answerer, episode=episode, watcher=_watcher())
    if as_json:
        payload = asdict(answer)
        payload.pop("trace")
        for citation in payload["citations"]:
            citation["timestamp"] = format_timestamp(citation["start_seconds"])
            citation["url"] = moment_url(citation["episode_url"], citation["start_seconds"])
        echo_json(payload)
    else:
        click.echo(render_answer(answer, library_wide=episode is None))
