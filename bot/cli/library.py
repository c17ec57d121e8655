"""`episode-bot migrate`, `ingest`, `episodes` and `search`: the library itself."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import click

from bot.answering import format_timestamp
from bot.answering.moment import moment_url
from bot.cli.options import json_option, scope_options, words_of
from bot.cli.support import (
    echo_json,
    open_or_exit,
    plain_query_errors,
    printable,
    settings_or_exit,
)
from bot.cli.workspace import library_of, library_team_option
from bot.config import redacted_url
from bot.ingest.model import FORMATS, ParseError
from bot.ingest.pipeline import FileResult
from bot.services import library as library_service
from bot.services import removal
from bot.services.library import DatabaseError, Library

PROGRESS_THRESHOLD = 5  # files; fewer than this finish before a bar would help
PREVIEW_CHARS = 220


@click.command()
def migrate() -> None:
    """Create the database or bring it to the latest schema."""
    settings = settings_or_exit()
    try:
        revision = library_service.migrate(settings)
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from None
    where = redacted_url(settings.database_url)
    click.echo(f"Database {where} is at schema revision {revision}.")


def _report(result: FileResult) -> None:
    # Failures go to stderr; notes about what was stored (a duplicate not stored twice, a
    # source switched in) are results, so stdout.
    if result.message:
        click.echo(f"{printable(result.path)}: {result.message}", err=result.failed)


def _summary(results: list[FileResult]) -> str:
    """`3 ingested, 1 replaced, 2 unchanged, 1 duplicate, 0 failed`: replaced and duplicates
    only when there are some."""
    counts = Counter(r.status for r in results)
    parts = [f"{counts['ingested']} ingested"]
    if counts["replaced"]:
        parts.append(f"{counts['replaced']} replaced")
    parts.append(f"{counts['unchanged']} unchanged")
    if duplicates := counts["duplicate"]:
        parts.append(f"{duplicates} duplicate{'s' if duplicates > 1 else ''}")
    parts.append(f"{counts['failed']} failed")
    return ", ".join(parts)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--slug", help="Slug for the episode (one file only). Default: from the file name.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", *FORMATS]),
    default="auto",
    show_default=True,
    help="Transcript format; auto-detected by default.",
)
@click.option(
    "--replace",
    is_flag=True,
    help="Swap in new content for an existing slug, or switch an episode stored from another "
    "source (same title) to this one, keeping its slug.",
)
@library_team_option()
def ingest(
    paths: tuple[Path, ...], slug: str | None, fmt: str, replace: bool, team: str | None
) -> None:
    """Load transcript files, or folders of them (recursively), into the library.

    An episode already stored from another source (same title, other file) is reported as
    a duplicate and not stored twice. With LIBRARY_PER_WORKSPACE=true, --team says whose
    library they are for (one transcript ingested for two workspaces is stored once)."""
    with open_or_exit(load_sample=False) as shared:
        library = library_of(shared, team, required=True)
        try:
            results = _ingest_with_progress(library, paths, slug, fmt, replace)
        except ParseError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(_summary(results))
    if any(r.failed for r in results):
        sys.exit(1)


def _ingest_with_progress(
    library: Library, paths: tuple[Path, ...], slug: str | None, fmt: str, replace: bool
) -> list[FileResult]:
    files, missing = library_service.transcript_files(paths)
    for result in missing:
        _report(result)
    if len(files) < PROGRESS_THRESHOLD:
        return missing + library_service.ingest(
            library, files, fmt=fmt, slug=slug, replace=replace, on_result=_report
        )
    with click.progressbar(length=len(files), label="Ingesting", file=sys.stderr) as bar:

        def on_result(result: FileResult) -> None:
            _report(result)
            bar.update(1)

        return missing + library_service.ingest(
            library, files, fmt=fmt, slug=slug, replace=replace, on_result=on_result
        )


@click.command()
@click.argument("words", nargs=-1)
@json_option()
@library_team_option()
def episodes(words: tuple[str, ...], as_json: bool, team: str | None) -> None:
    """List the episodes in the library, newest first: all of them, or those whose title,
    guest or slug contain every one of WORDS (any case)."""
    text = " ".join(words).strip()
    with open_or_exit() as shared:
        found = library_service.episodes_matching(library_of(shared, team), text)
    rows = [
        {
            "slug": e.slug,
            "title": e.title,
            "turns": e.turns,
            "published_on": e.published_on.isoformat() if e.published_on else None,
        }
        for e in found
    ]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo(
            f"No episode's title, guest or slug contains {text!r}; `episode-bot episodes` "
            "lists them all."
            if text
            else "The library is empty: add transcripts with `episode-bot ingest PATH`."
        )
    for row in rows:
        click.echo(
            f"{row['slug']}  {row['published_on'] or '—'}  {row['turns']} turns  {row['title']}"
        )


@click.command()
@click.argument("query", nargs=-1)
@scope_options("Search one episode (by slug).", "Search the whole library (the default).")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@json_option()
@library_team_option()
def search(
    query: tuple[str, ...], episode: str | None, limit: int, as_json: bool, team: str | None
) -> None:
    """Find the transcript turns that match QUERY, best first, across the whole library
    unless --episode names one."""
    text = words_of(query, "search")
    with open_or_exit() as shared:
        library = library_of(shared, team)
        with plain_query_errors("search", episode, library):
            ranked = library_service.search(library, text, episode=episode, limit=limit)
    if as_json:
        echo_json(
            [
                {
                    "episode": r.hit.episode_slug,
                    "position": r.hit.position,
                    "part": r.hit.part,
                    "speaker": r.hit.speaker,
                    "start_seconds": r.hit.start_seconds,
                    "kind": r.hit.kind,
                    "score": round(r.score, 4),
                    "text": r.hit.text,
                    "url": moment_url(r.hit.episode_url, r.hit.start_seconds),
                }
                for r in ranked
            ]
        )
        return
    if not ranked:
        click.echo("No turns match.")
    for r in ranked:
        stamp = format_timestamp(r.hit.start_seconds)
        where = f"turn {r.hit.position}" + (f" ({stamp})" if stamp else "")
        kind = "" if r.hit.kind == "content" else f" [{r.hit.kind}]"
        preview = (
            r.hit.text if len(r.hit.text) <= PREVIEW_CHARS else r.hit.text[:PREVIEW_CHARS] + "…"
        )
        click.echo(f"{r.hit.episode_slug}  {where}  {r.hit.speaker}{kind}")
        click.echo(f"    {preview}")
        if url := moment_url(r.hit.episode_url, r.hit.start_seconds) or r.hit.episode_url:
            click.echo(f"    {printable(url)}")
        click.echo()


@click.command()
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def remove(slug: str, yes: bool) -> None:
    """Remove the episode SLUG from the library, with its passages and takeaways: says what
    will go and asks first. Channels focused on it ask across the library again."""
    with open_or_exit(load_sample=False) as library, plain_query_errors("remove", slug, library):
        plan = removal.removal_of(library, slug)
        refs = plan.references
        click.echo(
            f"Removing {plan.slug} ({printable(plan.title)}) deletes its {refs.passages} "
            f"passages and {refs.takeaways} takeaways; {refs.focused_channels} channels "
            f"focused on it will ask across the library, {refs.threads} threads about it "
            f"keep their messages, and the {refs.daily_posts} days its takeaways were posted "
            "stay in the daily history."
        )
        if not yes:
            click.confirm("Remove it?", abort=True)
        removal.remove_episode(library, plan.slug)
    click.echo(f"Removed {plan.slug}.")
