"""Ingest files and folders: parse, mark kinds, store; one file's failure never stops the run
(a full disk does: every later file would fail the same way)."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import multiprocessing
import os
import re
import sqlite3
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from itertools import islice
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.ingest.identity import conversation_hash, title_key
from bot.ingest.kinds import mark_passages
from bot.ingest.misfiled import Namesake, misfiled, own_title, speaking_guest
from bot.ingest.model import ParsedEpisode, ParseError
from bot.ingest.reader import parse_text, read_text
from bot.ingest.storing import (
    EpisodeExists,
    SameEpisode,
    SharedEpisode,
    Stored,
    StoreOutcome,
    own_duplicate,
    store_episode,
)
from bot.retrieval.scope import LIBRARY_WORDS
from bot.retrieval.words import query_terms
from db.episodes import EpisodeRecord, add_alias, namesake_rows, refresh_statistics, retitle
from db.shelves import library_of, owned_by_another

log = logging.getLogger(__name__)

TRANSCRIPT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".vtt", ".srt"})
SLUG_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")
NOT_SLUG_CHARS = re.compile(r"[^a-z0-9]+")
# Parsing and marking is about 30 ms of CPU per episode, storing about as much again; a pool
# of parsing workers beside the one writer pays for itself only in a run of many files.
PARALLEL_MIN_FILES = 16
IN_FLIGHT_PER_WORKER = 4
MAX_WORKERS = 4


@dataclass(frozen=True)
class FileResult:
    """The outcome for one file: ingested, replaced, unchanged, duplicate (another source of
    a stored episode: reported, nothing written) or failed (with why)."""

    path: Path
    status: str
    slug: str | None = None
    turns: int = 0
    message: str = ""
    # The run cannot go on (the disk is full): no later file is tried.
    stops_run: bool = False

    @property
    def failed(self) -> bool:
        """True when nothing of this file was stored."""
        return self.status == "failed"


def slugify(text: str) -> str:
    """Lowercase letters, digits and single hyphens; 'episode' when nothing is left."""
    return NOT_SLUG_CHARS.sub("-", text.lower()).strip("-")[:100].strip("-") or "episode"


# File names that say nothing about the episode: an archive's `episodes/<guest>/transcript.md`
# is named by its folder.
GENERIC_STEMS = frozenset({"transcript", "index", "readme", "episode", "captions", "subtitles"})


def file_name_slug(path: Path) -> str:
    """The name a file's slug comes from: its stem, or its folder's name when the stem is
    generic."""
    stem = path.stem
    if stem.lower() in GENERIC_STEMS and path.parent.name:
        return path.parent.name
    return stem


def _names_differ(one: Path, other: Path) -> bool:
    return file_name_slug(one) != file_name_slug(other)


def check_slug(slug: str) -> str:
    """Refuse slugs that could not be typed back or that smuggle paths (`../`, `/`, NUL),
    and the words that mean the whole library (`/episode use all`)."""
    if not SLUG_PATTERN.fullmatch(slug):
        raise ParseError(
            f"slug {slug!r} is not allowed: use lowercase letters, digits and hyphens "
            "(up to 100 characters)"
        )
    if slug in LIBRARY_WORDS:
        raise ParseError(
            f"slug {slug!r} is not allowed: it means the whole library in "
            f"`/episode use {slug}`; choose another"
        )
    return slug


def derived_slug(name: str) -> str:
    """The slug a file name gives; `all.txt` becomes `all-episode`, since `all` means the
    whole library."""
    slug = slugify(name)
    return f"{slug}-episode" if slug in LIBRARY_WORDS else slug


def _inside(path: Path, folder: Path) -> bool:
    """Whether `path`, every link on the way followed, is within `folder` (resolved)."""
    return path.resolve().is_relative_to(folder)


def _link_out(link: Path, folder: Path) -> FileResult:
    kind = "folder" if link.is_dir() else "file"
    return FileResult(
        link,
        "failed",
        message=f"skipped: it is a link to a {kind} outside {folder}, and links are followed "
        "only within the folder given; name the file itself to ingest it",
    )


def _walk(folder: Path) -> tuple[list[Path], list[FileResult]]:
    """A folder's transcript files, recursively, leaving out hidden ones. A link (to a file
    or a folder) is followed only when it leads to a place within the folder: an untrusted
    archive must not publish whatever else the process can read."""
    root = folder.resolve()
    found: list[Path] = []
    refused: list[FileResult] = []
    for parent, folders, names in os.walk(folder):  # links to folders are not walked into
        here = Path(parent)
        folders[:] = sorted(d for d in folders if not d.startswith("."))
        for name in folders:
            if (here / name).is_symlink() and not _inside(here / name, root):
                refused.append(_link_out(here / name, folder))
        for name in sorted(names):
            path = here / name
            if name.startswith(".") or path.suffix.lower() not in TRANSCRIPT_SUFFIXES:
                continue
            if path.is_symlink() and not _inside(path, root):
                refused.append(_link_out(path, folder))
            elif path.is_file():
                found.append(path)
    return sorted(found), refused


def expand_paths(paths: Iterable[Path]) -> tuple[list[Path], list[FileResult]]:
    """Files to ingest (folders walked recursively, duplicates dropped), and the paths that
    fail before reading: missing ones, and links out of a folder given. A file named
    itself is read even when it is a link: the person named it."""
    files: list[Path] = []
    failed: list[FileResult] = []
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found, refused = _walk(path)
            failed.extend(refused)
        elif path.exists():
            found = [path]
        else:
            failed.append(FileResult(path, "failed", message="no such file or folder"))
            continue
        for file in found:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                files.append(file)
    return files, failed


@dataclass(frozen=True)
class PreparedEpisode:
    """A parsed file ready to store: everything but the database work, so that preparing
    can run in worker processes while one writer stores."""

    path: Path
    record: EpisodeRecord
    segments: list[dict[str, object]]
    takeaways: list[str]
    speaker_tokens: list[str]


def _record(parsed: ParsedEpisode, slug: str, text: str, path: Path) -> EpisodeRecord:
    # A title made from the file name gets no title key: names like `talk.vtt` or
    # `episodes/<guest>/transcript.md` say nothing about which episode it is.
    named = " ".join(file_name_slug(path).replace("-", " ").replace("_", " ").split())
    return EpisodeRecord(
        slug=slug,
        title=parsed.title or named or path.stem,
        title_key=title_key(parsed.title),
        source_format=parsed.source_format,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        turn_count=len(parsed.turns),
        summary=parsed.summary,
        audience=parsed.audience,
        guest=parsed.guest,
        published_on=parsed.published_on,
        source_url=parsed.source_url,
    )


def prepare_file(path: Path, fmt: str = "auto", slug: str | None = None) -> PreparedEpisode:
    """Read, parse and mark one file. Raises ParseError with a one-sentence reason."""
    text = read_text(path)
    parsed = parse_text(text, fmt)
    chosen = check_slug(slug) if slug else derived_slug(parsed.slug_hint or file_name_slug(path))
    return _prepared(parsed, text, path, chosen)


@dataclass(frozen=True)
class Described:
    """What a feed says of an episode, which wins over what its transcript says."""

    title: str
    guest: str | None = None
    published_on: date | None = None
    source_url: str | None = None
    summary: str | None = None


def prepare_text(
    text: str, label: Path, *, fmt: str, slug: str, described: Described
) -> PreparedEpisode:
    """Parse and mark a fetched transcript (`label` names it in results), described by its
    feed. Raises ParseError with a one-sentence reason."""
    parsed = parse_text(text, fmt)
    parsed.title = described.title
    parsed.guest = described.guest or parsed.guest
    parsed.published_on = described.published_on or parsed.published_on
    parsed.source_url = described.source_url or parsed.source_url
    parsed.summary = described.summary or parsed.summary
    return _prepared(parsed, text, label, check_slug(slug))


def _prepared(parsed: ParsedEpisode, text: str, path: Path, chosen: str) -> PreparedEpisode:
    segments: list[dict[str, object]] = [
        {
            "position": p.position,
            "part": p.part,
            "speaker": p.speaker,
            "start_seconds": p.start_seconds,
            "text": p.text,
            "kind": p.kind,
        }
        for p in mark_passages(parsed.turns)
    ]
    speakers = {turn.speaker for turn in parsed.turns}
    tokens = sorted({token for name in speakers for token in query_terms(name)})
    record = dataclasses.replace(
        _record(parsed, chosen, text, path),
        conversation_hash=conversation_hash(
            (str(row["speaker"]), str(row["text"])) for row in segments
        ),
    )
    return PreparedEpisode(path, record, segments, parsed.takeaways, tokens)


def _prepare_or_fail(path: Path, fmt: str, slug: str | None) -> PreparedEpisode | FileResult:
    try:
        return prepare_file(path, fmt, slug)
    except ParseError as exc:
        return FileResult(path, "failed", message=str(exc))
    except Exception as exc:  # a parser bug must cost one file, not the whole run
        log.exception("unexpected error while reading %s", path)
        return FileResult(
            path, "failed", message=f"could not be read ({exc.__class__.__name__}); see the log"
        )


@dataclass
class RunMemory:
    """What one ingest run has done so far: the slugs it claimed and the episodes it stored
    (or found stored), each with its file. Runs agree with each other because files come
    in path order."""

    slugs: dict[str, Path] = dataclasses.field(default_factory=dict)
    stored: dict[str, Path] = dataclasses.field(default_factory=dict)


def _claim_slug(prepared: PreparedEpisode, run: RunMemory) -> PreparedEpisode | FileResult:
    """The prepared episode under a slug no other file of this run has, or a failure."""
    path, slug = prepared.path, prepared.record.slug
    if slug in run.slugs and _names_differ(path, run.slugs[slug]):
        # `andy-raskin` and `andy-raskin_`: two files whose names lose their difference in
        # a slug. The later one (in path order, so every run agrees) is numbered.
        slug = next(f"{slug}-{n}" for n in range(2, 1000) if f"{slug}-{n}" not in run.slugs)
        record = dataclasses.replace(prepared.record, slug=slug)
        prepared = dataclasses.replace(prepared, record=record)
    if slug in run.slugs:
        return FileResult(
            path,
            "failed",
            message=f"slug {slug!r} was already used by {run.slugs[slug]} in this run; "
            "rename the file or ingest it alone with --slug",
        )
    run.slugs[slug] = path
    return prepared


def _duplicate(path: Path, same: SameEpisode, earlier: Path | None) -> FileResult:
    stored_now = f"{earlier}, already stored in this run" if earlier is not None else ""
    if same.by_title:
        where = f" as {stored_now}" if stored_now else ""
        what = f"same episode as {same.slug} (same title and conversation{where})"
    else:
        # The words said are identical but the titles are not: one source filed the
        # conversation under the wrong episode, and no file says which.
        where = f" ({stored_now})" if stored_now else ""
        what = f"same conversation as {same.slug} under another title{where}"
    advice = "" if stored_now else "; add --replace to switch to this source"
    return FileResult(
        path, "duplicate", slug=same.slug, message=f"{what}; not stored twice{advice}"
    )


def _retitle_misfiled(session: Session, title_key: str) -> dict[str, str]:
    """Among the episodes sharing a title, give those it was not written for (their speakers
    are not who it names) a title of their own and no video link; slug -> new title."""
    namesakes = [
        Namesake(row.episode_id, row.slug, row.title, row.guest, frozenset(row.speaker_tokens))
        for row in namesake_rows(session, title_key)
    ]
    retitled = {}
    owner = library_of(session)
    for namesake in misfiled(namesakes):
        # One workspace's ingest never retitles an episode another workspace reads.
        if owner is not None and owned_by_another(session, owner, namesake.episode_id):
            continue
        retitled[namesake.slug] = own_title(namesake)
        retitle(session, namesake.episode_id, retitled[namesake.slug], speaking_guest(namesake))
    return retitled


def _shared_title_note(stored: Stored, slug: str, retitled: dict[str, str]) -> str:
    other = stored.title_shared_with
    note = f"same title as {other} but another conversation, so stored as an episode of its own"
    if slug in retitled:
        return (
            f"{note}; the title names {other}'s speakers, not this one's, so it is stored as "
            f"'{retitled[slug]}', without {other}'s video link"
        )
    if other in retitled:
        return (
            f"{note}; the title names this episode's speakers, so {other} is now "
            f"'{retitled[other]}', without this episode's video link"
        )
    return note


def _note(stored: Stored, slug: str, retitled: dict[str, str]) -> str:
    """What a person should know about how the file was stored, if anything."""
    if stored.outcome is StoreOutcome.UNCHANGED and stored.slug != slug:
        return f"already stored as {stored.slug}"
    if stored.by_title and stored.outcome is StoreOutcome.REPLACED:
        return f"replaced {stored.slug} (same title and conversation) with this source"
    if stored.by_conversation and stored.outcome is StoreOutcome.REPLACED:
        return f"replaced {stored.slug} (same conversation, another title) with this source"
    if stored.title_shared_with:
        return _shared_title_note(stored, slug, retitled)
    if stored.slug in retitled:
        own = retitled[stored.slug]
        return f"its title names another episode's speakers, so it is stored as '{own}'"
    return ""


def _remember_alias(session_factory: sessionmaker[Session], slug: str, stored: str) -> None:
    """A duplicate's own slug finds the stored episode from now on (its transaction was
    rolled back with the duplicate), and a workspace it was ingested for owns that episode;
    losing the alias costs nothing but the alias."""
    try:
        with session_factory.begin() as session:
            add_alias(session, slug, stored)
            own_duplicate(session, stored)
    except SQLAlchemyError:
        log.debug("alias %s -> %s not stored", slug, stored, exc_info=True)


DISK_FULL = (
    "the disk holding the database is full, so the run stopped here; the files stored "
    "before this one are kept: free some space and run the same ingest again"
)
POSTGRES_DISK_FULL = "53100"  # SQLSTATE disk_full


def disk_full(exc: SQLAlchemyError) -> bool:
    """Whether the database refused a write because its disk (or its size limit) is full:
    every later file would fail the same way."""
    orig = getattr(exc, "orig", None)
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        if code is not None:
            return code & 0xFF == sqlite3.SQLITE_FULL
        return "database or disk is full" in str(orig)
    # psycopg 3 names it sqlstate (psycopg2: pgcode).
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return code == POSTGRES_DISK_FULL


def store_prepared(
    session_factory: sessionmaker[Session],
    prepared: PreparedEpisode,
    *,
    replace: bool = False,
    run: RunMemory | None = None,
) -> FileResult:
    """Store one prepared episode in its own transaction; never raises for bad input.

    Another source of a stored episode (same title and conversation, other slug) is a
    duplicate unless `replace`; within one run the first file of an episode wins even with
    `replace`, so a run never swaps an episode's sources back and forth."""
    if run is not None:
        claimed = _claim_slug(prepared, run)
        if isinstance(claimed, FileResult):
            return claimed
        prepared = claimed
    path, record = prepared.path, prepared.record
    try:
        with session_factory.begin() as session:
            stored = store_episode(
                session,
                record,
                prepared.segments,
                prepared.takeaways,
                prepared.speaker_tokens,
                replace=replace,
                keep=run.stored if run else (),
            )
            if stored.slug != record.slug:  # found under its other source's slug
                add_alias(session, record.slug, stored.slug)
            retitled: dict[str, str] = {}
            # Also on a replace: a misfiled episode swapped in again must not win back the
            # title and video it was given by mistake.
            if record.title_key and stored.outcome is not StoreOutcome.UNCHANGED:
                retitled = _retitle_misfiled(session, record.title_key)
    except EpisodeExists:
        return FileResult(
            path,
            "failed",
            slug=record.slug,
            message=f"episode {record.slug} already exists with different content; "
            "add --replace to swap it in",
        )
    except SharedEpisode as shared:
        return FileResult(
            path,
            "failed",
            slug=record.slug,
            message=f"episode {shared} is in other workspaces' libraries too, so it is not "
            "replaced for one; ingest this file under its own --slug",
        )
    except SameEpisode as same:
        _remember_alias(session_factory, record.slug, same.slug)
        return _duplicate(path, same, run.stored.get(same.slug) if run else None)
    except SQLAlchemyError as exc:
        log.debug("database error while ingesting %s", path, exc_info=True)
        if disk_full(exc):
            return FileResult(path, "failed", message=DISK_FULL, stops_run=True)
        return FileResult(path, "failed", message=f"database error: {exc.__class__.__name__}")
    if run is not None:
        run.stored.setdefault(stored.slug, path)
    turns = 0 if stored.outcome is StoreOutcome.UNCHANGED else record.turn_count
    return FileResult(
        path,
        stored.outcome.value,
        slug=stored.slug,
        turns=turns,
        message=_note(stored, record.slug, retitled),
    )


def ingest_file(
    session_factory: sessionmaker[Session],
    path: Path,
    *,
    fmt: str = "auto",
    slug: str | None = None,
    replace: bool = False,
) -> FileResult:
    """Parse and store one file in a single transaction; never raises for bad input."""
    prepared = _prepare_or_fail(path, fmt, slug)
    if isinstance(prepared, FileResult):
        return prepared
    return store_prepared(session_factory, prepared, replace=replace)


def _prepared_in_order(
    files: list[Path], fmt: str, slug: str | None
) -> Iterator[PreparedEpisode | FileResult]:
    """Prepare files in worker processes when there are enough to pay for starting them;
    SQLite takes one writer at a time, so storing stays in this process. If the pool dies
    (a worker killed by the OOM killer, say) the rest is prepared here."""
    workers = min(MAX_WORKERS, (os.cpu_count() or 1), len(files) // PARALLEL_MIN_FILES)
    done = 0
    if workers >= 1:
        # Forked workers only parse; they never touch the parent's SQLite handles. Spawned
        # ones would re-import the caller's __main__, which breaks scripts and REPLs.
        context = multiprocessing.get_context("fork")
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                # A bounded window of files in flight: parsed episodes must not pile up in
                # memory faster than the one writer stores them.
                pending: deque[Future[PreparedEpisode | FileResult]] = deque()
                queued = iter(files)
                for path in islice(queued, workers * IN_FLIGHT_PER_WORKER):
                    pending.append(pool.submit(_prepare_or_fail, path, fmt, slug))
                while pending:
                    prepared = pending.popleft().result()
                    for path in islice(queued, 1):
                        pending.append(pool.submit(_prepare_or_fail, path, fmt, slug))
                    yield prepared
                    done += 1
        except BrokenProcessPool:
            log.warning("ingest workers stopped; preparing the remaining files in-process")
    yield from (_prepare_or_fail(path, fmt, slug) for path in files[done:])


def ingest_files(
    session_factory: sessionmaker[Session],
    files: list[Path],
    *,
    fmt: str = "auto",
    slug: str | None = None,
    replace: bool = False,
    on_result: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """Ingest `files` (as listed by `expand_paths`); `on_result` sees each outcome in turn."""
    if slug and len(files) > 1:
        raise ParseError("--slug names one episode, so give it exactly one file")
    run = RunMemory()
    results: list[FileResult] = []
    # closing: a run stopped early shuts its parsing workers down at once.
    with closing(_prepared_in_order(files, fmt, slug)) as prepared_files:
        for prepared in prepared_files:
            result = (
                prepared
                if isinstance(prepared, FileResult)
                else store_prepared(session_factory, prepared, replace=replace, run=run)
            )
            results.append(result)
            if on_result:
                on_result(result)
            if result.stops_run:
                break
    if any(r.status == "ingested" for r in results):
        _refresh_statistics(session_factory)
    return results


def _refresh_statistics(session_factory: sessionmaker[Session]) -> None:
    """Let the planner see the new passages (without, PostgreSQL searches a freshly loaded
    archive by row counts it has never seen, seconds a question); a failure costs speed,
    never the run."""
    try:
        with session_factory.begin() as session:
            refresh_statistics(session)
    except SQLAlchemyError:
        log.warning("table statistics not refreshed after the ingest", exc_info=True)


def ingest_paths(
    session_factory: sessionmaker[Session],
    paths: Iterable[Path],
    *,
    fmt: str = "auto",
    slug: str | None = None,
    replace: bool = False,
) -> list[FileResult]:
    """Ingest every file under `paths`; missing paths come first as failures."""
    files, missing = expand_paths(paths)
    return missing + ingest_files(session_factory, files, fmt=fmt, slug=slug, replace=replace)
