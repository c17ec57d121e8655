"""What every `episode-bot` command shares: settings and the library opened with one plain
line for any failure, JSON output, printable file names, and refusals as sentences."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from bot.config import ConfigError, Settings, load_settings, misspelled_settings
from bot.retrieval import EmptyQuery, OnlyCommonWords, UnknownEpisode
from bot.services.library import DatabaseError, EpisodeInfo, Library, closest_episodes, open_library


def settings_or_exit() -> Settings:
    """The settings, logging set up to stderr; a bad setting ends the command in one line."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    logging.basicConfig(
        level=settings.log_level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    for given, meant in misspelled_settings():
        click.echo(f"Warning: {given} is not a setting; did you mean {meant}?", err=True)
    return settings


@contextmanager
def open_or_exit(load_sample: bool = True, settings: Settings | None = None) -> Iterator[Library]:
    """Open (and migrate) the library; turn storage failures into one plain line."""
    settings = settings or settings_or_exit()
    try:
        library, note = open_library(settings, load_sample=load_sample)
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from None
    if note:
        click.echo(note, err=True)
    yield library


def echo_json(data: object) -> None:
    """Print `data` as indented JSON, UTF-8 as it is."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


ONLY_COMMON_WORDS = (
    "The {what} has only common words (the, and, of…), which every passage holds: add a word "
    "that says what to look for."
)


@contextmanager
def plain_query_errors(
    what: str, episode: str | None, library: Library | None = None
) -> Iterator[None]:
    """Retrieval's refusals as one sentence each; an unknown slug with the closest ones
    (`library`: the one the command opened; without it, it is opened again to look)."""
    try:
        yield
    except OnlyCommonWords:
        raise click.ClickException(ONLY_COMMON_WORDS.format(what=what)) from None
    except EmptyQuery:
        raise click.ClickException(
            f"The {what} has no words to look for: use letters or numbers."
        ) from None
    except UnknownEpisode:
        raise click.ClickException(unknown_slug(episode or "", library)) from None
    except SQLAlchemyError as exc:
        logging.getLogger(__name__).debug("library error", exc_info=exc)
        raise click.ClickException(
            "The library could not be read (is DATABASE_URL an episode-bot database?); "
            "`episode-bot doctor` checks it."
        ) from None


def unknown_slug(slug: str, library: Library | None = None) -> str:
    """`No episode has the slug 'x'.` with up to three close slugs and their titles, or how
    to list the episodes when none is close."""
    closest = _closest(slug, library)
    if not closest:
        return f"No episode has the slug {slug!r}; `episode-bot episodes` lists them."
    options = [f"{e.slug} ({_shorten(e.title)})" for e in closest]
    one_of = options[0] if len(options) == 1 else ", ".join(options[:-1]) + " or " + options[-1]
    return f"No episode has the slug {slug!r}. Did you mean {one_of}?"


def _closest(slug: str, library: Library | None) -> list[EpisodeInfo]:
    """The did-you-mean episodes; none when the library cannot be read for them."""
    try:
        if library is None:
            library, _ = open_library(settings_or_exit(), load_sample=False)
        return closest_episodes(library, slug)
    except (click.ClickException, DatabaseError, SQLAlchemyError) as exc:
        logging.getLogger(__name__).debug("no did-you-mean: %s", type(exc).__name__)
        return []


def _shorten(title: str, limit: int = 80) -> str:
    """One line of a title, at most `limit` characters."""
    title = printable(" ".join(title.split()))
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def printable(path: Path | str) -> str:
    """A file name (or a URL from a transcript) as one line of text: control characters
    shown as escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(path))
