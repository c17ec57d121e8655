"""`episode-bot`: ingest transcripts, list episodes, search and ask from the command line."""

from __future__ import annotations

import gc
import logging
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.answering import Answer, format_timestamp
from bot.answering.moment import moment_url
from bot.answering.prepare import prepare, store_trace
from bot.cli.checks import eval_command, replay_command
from bot.cli.support import echo_json as _echo_json
from bot.cli.support import one_scope as _one_scope
from bot.cli.support import open_or_exit as _library
from bot.cli.support import plain_query_errors as _plain_query_errors
from bot.cli.support import settings_or_exit as _settings
from bot.config import Settings, secret, slack_problem
from bot.ingest.model import FORMATS, ParseError
from bot.ingest.pipeline import FileResult, expand_paths, ingest_files
from bot.retrieval import retrieve
from bot.retrieval.evidence import library_index
from bot.services.answerers import answerer_from_settings, takeaway_writer_from_settings
from bot.slack.in_flight import InFlight
from db.engine import DatabaseError, head_revision, open_database
from db.episodes import list_episodes

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.services.scheduler import DigestScheduler

PROGRESS_THRESHOLD = 5  # files; fewer than this finish before a bar would help
PREVIEW_CHARS = 220


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="episode-bot")
def cli() -> None:
    """Ask questions about podcast episodes, answered from their transcripts."""


@cli.command()
def migrate() -> None:
    """Create the database or bring it to the latest schema."""
    settings = _settings()
    try:
        open_database(settings.database_url)
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Database {settings.database_url} is at schema revision {head_revision()}.")


def _printable(path: Path | str) -> str:
    """A file name (or a URL from a transcript) as one line of text: control characters
    shown as escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(path))


def _report(result: FileResult) -> None:
    # Failures go to stderr; notes about what was stored (a duplicate not stored twice, a
    # source switched in) are results, so stdout.
    if result.message:
        click.echo(f"{_printable(result.path)}: {result.message}", err=result.failed)


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


@cli.command()
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
def ingest(paths: tuple[Path, ...], slug: str | None, fmt: str, replace: bool) -> None:
    """Load transcript files, or folders of them (recursively), into the library.

    An episode already stored from another source (same title, other file) is reported as
    a duplicate and not stored twice."""
    with _library(load_sample=False) as session_factory:
        try:
            results = _ingest_with_progress(session_factory, paths, slug, fmt, replace)
        except ParseError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(_summary(results))
    if any(r.failed for r in results):
        sys.exit(1)


def _ingest_with_progress(
    session_factory: sessionmaker[Session],
    paths: tuple[Path, ...],
    slug: str | None,
    fmt: str,
    replace: bool,
) -> list[FileResult]:
    files, missing = expand_paths(paths)
    for result in missing:
        _report(result)
    if len(files) < PROGRESS_THRESHOLD:
        return missing + ingest_files(
            session_factory, files, fmt=fmt, slug=slug, replace=replace, on_result=_report
        )
    with click.progressbar(length=len(files), label="Ingesting", file=sys.stderr) as bar:

        def on_result(result: FileResult) -> None:
            _report(result)
            bar.update(1)

        return missing + ingest_files(
            session_factory, files, fmt=fmt, slug=slug, replace=replace, on_result=on_result
        )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def episodes(as_json: bool) -> None:
    """List the episodes in the library."""
    with _library() as session_factory, session_factory() as session:
        rows = [
            {
                "slug": e.slug,
                "title": e.title,
                "turns": e.turn_count,
                "published_on": e.published_on.isoformat() if e.published_on else None,
            }
            for e in list_episodes(session)
        ]
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo("The library is empty: add transcripts with `episode-bot ingest PATH`.")
    for row in rows:
        click.echo(
            f"{row['slug']}  {row['published_on'] or '—'}  {row['turns']} turns  {row['title']}"
        )


def _require_text(words: tuple[str, ...], what: str) -> str:
    text = " ".join(words).strip()
    if not text:
        raise click.ClickException(f"The {what} is empty: give some words to look for.")
    return text


@cli.command()
@click.argument("query", nargs=-1)
@click.option("--episode", help="Search one episode (by slug).")
@click.option("library_wide", "--all", is_flag=True, help="Search the whole library (the default).")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def search(
    query: tuple[str, ...], episode: str | None, library_wide: bool, limit: int, as_json: bool
) -> None:
    """Find the transcript turns that match QUERY, best first, across the whole library
    unless --episode names one."""
    episode = _one_scope(episode, library_wide)
    text = _require_text(query, "search")
    with (
        _library() as session_factory,
        session_factory() as session,
        _plain_query_errors("search", episode),
    ):
        ranked = retrieve(session, text, episode=episode, limit=limit)
    if as_json:
        _echo_json(
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
            click.echo(f"    {_printable(url)}")
        click.echo()


def _render_answer(answer: Answer, *, library_wide: bool) -> str:
    """The answer, then each quote with who said it, where, and a link to the moment (or
    the episode's page). Across the library each names its episode: nobody picked it."""
    lines = [f"({answer.notice})\n" if answer.notice else "", answer.text]
    with_episode = library_wide or len({c.episode_slug for c in answer.citations}) > 1
    for number, citation in enumerate(answer.citations, start=1):
        stamp = format_timestamp(citation.start_seconds)
        where = f"turn {citation.position}" + (f", {stamp}" if stamp else "")
        source = f"{citation.episode_title}, " if with_episode else ""
        lines.append(
            f"\n  [{number}] “{citation.quote}”\n      — {citation.speaker} ({source}{where})"
        )
        if url := citation.url or citation.episode_url:
            lines.append(f"        {_printable(url)}")
    return "\n".join(line for line in lines if line)


@cli.command()
@click.argument("question", nargs=-1)
@click.option("--episode", help="Ask about one episode (by slug).")
@click.option(
    "library_wide", "--all", is_flag=True, help="Ask across the whole library (the default)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def ask(question: tuple[str, ...], episode: str | None, library_wide: bool, as_json: bool) -> None:
    """Answer QUESTION from the transcripts, citing who said it and where: across the whole
    library unless --episode names one."""
    episode = _one_scope(episode, library_wide)
    text = _require_text(question, "question")
    settings = _settings()
    answerer = answerer_from_settings(settings)
    with _library(settings=settings) as session_factory:
        with session_factory() as session, _plain_query_errors("question", episode):
            request = prepare(session, text, answerer, episode=episode)
        answer = answerer.answer(request)
        try:
            with session_factory.begin() as session:
                store_trace(session, answer, episode=episode)
        except SQLAlchemyError as exc:
            # The answer is worth more than its trace (a locked or read-only database).
            logging.getLogger(__name__).warning("answer trace not stored (%s)", type(exc).__name__)
    if as_json:
        payload = asdict(answer)
        payload.pop("trace")
        for citation in payload["citations"]:
            citation["timestamp"] = format_timestamp(citation["start_seconds"])
            citation["url"] = moment_url(citation["episode_url"], citation["start_seconds"])
        _echo_json(payload)
    else:
        click.echo(_render_answer(answer, library_wide=episode is None))


def _slack_app(
    settings: Settings, session_factory: sessionmaker[Session], in_flight: InFlight | None = None
) -> App:
    from bot.slack.app import SlackStartError, create_app

    try:
        answerer = answerer_from_settings(settings)
        app = create_app(settings, session_factory, answerer, in_flight=in_flight)
    except SlackStartError as exc:
        raise click.ClickException(str(exc)) from None
    # Built now rather than by the first library-wide question (about 40 ms at 300 episodes;
    # rebuilt only when the library changes).
    with session_factory() as session:
        library_index(session)
    return app


@cli.command()
@click.option("--port", type=click.IntRange(1, 65535), help="Default: PORT, or 3000.")
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
def serve(port: int | None, host: str) -> None:
    """Run the Slack app over HTTP: POST /slack/events, GET /healthz."""
    settings = _settings()
    if problem := slack_problem(settings, socket_mode=False):
        raise click.ClickException(problem)
    from bot.slack.server import serve as run_server

    with _library(settings=settings) as session_factory:
        in_flight = InFlight()
        app = _slack_app(settings, session_factory, in_flight)
        chosen = port or settings.port
        click.echo(f"Serving Slack requests on http://{host}:{chosen}/slack/events", err=True)
        digest = _start_digest(settings, session_factory, app)
        try:
            run_server(
                app,
                host=host,
                port=chosen,
                in_flight=in_flight,
                signing_secret=secret(settings.slack_signing_secret),
            )
        finally:
            digest.shutdown()


@cli.command()
def socket() -> None:
    """Run the Slack app over Socket Mode: no public URL needed (uses SLACK_APP_TOKEN)."""
    settings = _settings()
    if problem := slack_problem(settings, socket_mode=True):
        raise click.ClickException(problem)
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    with _library(settings=settings) as session_factory:
        app = _slack_app(settings, session_factory)
        click.echo("Connecting to Slack over Socket Mode…", err=True)
        gc.collect()
        gc.freeze()  # as `serve` does: start-up objects out of the collector's way
        # The app's own client, so SLACK_API_URL and the rate-limit retries apply here too.
        handler = SocketModeHandler(
            app, app_token=secret(settings.slack_app_token), web_client=app.client
        )
        digest = _start_digest(settings, session_factory, app)
        try:
            handler.start()
        finally:
            digest.shutdown()


@cli.command()
def mcp() -> None:
    """Serve the library to AI assistants (Claude Desktop, Claude Code...) over the Model
    Context Protocol on stdin/stdout: search, read turns, ask, takeaways."""
    settings = _settings()
    with _library(settings=settings) as session_factory:
        from bot.mcp.server import run_stdio  # the MCP SDK only for this command

        run_stdio(settings, session_factory)


def _start_digest(
    settings: Settings, session_factory: sessionmaker[Session], app: App
) -> DigestScheduler:
    from bot.services.daily_posts import DailyPoster, schedules
    from bot.services.scheduler import DigestScheduler

    writer = takeaway_writer_from_settings(settings)
    poster = DailyPoster(session_factory, app.client, settings, writer=writer)
    scheduler = DigestScheduler(poster, lambda: schedules(session_factory, settings))
    scheduler.start()
    return scheduler


@cli.command()
@click.option("--channel", help="Slack channel id. Default: DIGEST_CHANNEL.")
@click.option("--post", "post_now", is_flag=True, help="Post it now (once a day per channel).")
def takeaway(channel: str | None, post_now: bool) -> None:
    """Print the channel's next takeaway of the day, or post it now."""
    from bot.takeaways.picking import next_takeaway

    settings = _settings()
    channel = channel or settings.digest_channel
    if post_now:
        _post_takeaway(settings, channel)
        return
    with _library(settings=settings) as session_factory:
        pick = next_takeaway(
            session_factory,
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


def _post_takeaway(settings: Settings, channel: str | None) -> None:
    from datetime import UTC, datetime

    from bot.services.daily_posts import DailyPoster, Outcome, schedules
    from bot.takeaways.schedule import parse_zone

    if not channel:
        raise click.ClickException("Say which channel: --channel C0123ABCD, or set DIGEST_CHANNEL.")
    if (problem := slack_problem(settings, socket_mode=True)) and "SLACK_BOT_TOKEN" in problem:
        raise click.ClickException(problem)
    with _library(settings=settings) as session_factory:
        app = _slack_app(settings, session_factory)
        zones = {s.channel: s.zone for s in schedules(session_factory, settings)}
        zone = zones.get(channel) or parse_zone(settings.digest_timezone)
        now = datetime.now(UTC)
        poster = DailyPoster(
            session_factory, app.client, settings, writer=takeaway_writer_from_settings(settings)
        )
        result = poster.post_for(channel, now.astimezone(zone).date(), now)
    if result.outcome is Outcome.POSTED and result.pick is not None:
        click.echo(f"Posted to {channel}: {result.pick.text}")
    elif result.outcome is Outcome.FAILED:
        raise click.ClickException(f"Slack refused the post ({result.error}); try again later.")
    else:
        click.echo(f"Nothing posted to {channel}: today's takeaway was {result.outcome.value}.")


@cli.command()
def doctor() -> None:
    """Check the configuration: database, Slack token, Anthropic key. Says what works."""
    from bot.services.health import run_checks

    checks = run_checks(_settings())
    for check in checks:
        click.echo(check.line())
    if any(check.ok is False for check in checks):
        sys.exit(1)


cli.add_command(eval_command)
cli.add_command(replay_command)


def main() -> None:
    """Console-script entry point."""
    cli()
