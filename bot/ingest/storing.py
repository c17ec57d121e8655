"""Which stored episode a new file is, and whether it may take its place: the same slug, or
another source of it (the same title and conversation, or the very same conversation under
another title). The queries are `db.episodes`'; the rules are here."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from dataclasses import replace as with_changes
from enum import StrEnum

from sqlalchemy.orm import Session

from bot.ingest.identity import same_conversation
from db.episodes import (
    EpisodeRecord,
    StoredVersion,
    insert_episode,
    lock_for_storing,
    passage_texts,
    swap_episode,
    version_by_conversation,
    version_by_slug,
    versions_titled,
)
from db.shelves import library_of, own, owned_by_another


class StoreOutcome(StrEnum):
    """What storing an episode did."""

    INGESTED = "ingested"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"


class EpisodeExists(Exception):
    """The slug is taken by an episode with different content, and replacing it was not
    asked for."""


class SharedEpisode(Exception):
    """The episode to replace belongs to other workspaces' libraries too, and one
    workspace's ingest may not change what another reads."""


class SameEpisode(Exception):
    """Another source of a stored episode (same title and conversation, or the very same
    conversation under another title; other slug, different content) that may not replace
    it: nothing was written. `slug` is the stored episode's."""

    def __init__(self, slug: str, *, by_title: bool = True) -> None:
        super().__init__(slug)
        self.slug = slug
        self.by_title = by_title


@dataclass(frozen=True)
class Stored:
    """What storing did, under which slug (the stored episode's when found by title), and
    how it was found. `title_shared_with`: a stored episode of the same title but another
    conversation (a source's metadata copied from the wrong episode, say)."""

    outcome: StoreOutcome
    slug: str
    by_title: bool = False
    title_shared_with: str | None = None
    by_conversation: bool = False


def _same_title(
    session: Session, record: EpisodeRecord, segments: Sequence[dict[str, object]]
) -> tuple[StoredVersion | None, str | None]:
    """The stored episode this record is another source of: same title key and the same
    conversation (oldest first, should a library hold one twice). Else None, and the slug
    of an episode that only shares the title, if any."""
    if record.title_key is None:
        return None, None
    namesakes = versions_titled(session, record.title_key)
    for episode in namesakes:
        if episode.content_hash == record.content_hash:
            return episode, None
    new_texts = [str(row["text"]) for row in segments]
    for episode in namesakes:
        if same_conversation(passage_texts(session, episode.id), new_texts):
            return episode, None
    return None, namesakes[0].slug if namesakes else None


def store_episode(
    session: Session,
    record: EpisodeRecord,
    segments: Sequence[dict[str, object]],
    summary_takeaways: Sequence[str],
    speaker_tokens: Sequence[str],
    *,
    replace: bool,
    keep: Collection[str] = (),
) -> Stored:
    """Insert the episode, or swap it in for the stored one it is a version of.

    Found by slug, different content: EpisodeExists unless `replace`. Not found by slug but
    by title, and the transcripts are of one conversation, or by the very same transcript
    under another title: another source of that episode, SameEpisode unless `replace` and
    its slug is not in `keep`; swapped in, it keeps the stored slug, so channel focus,
    links and what people type stay the same. Ingested for one workspace's own library
    (db/shelves.py), the episode stored or found is that workspace's, and one that other
    workspaces own too is never replaced (SharedEpisode). Runs inside the caller's
    transaction, so a failure anywhere leaves the old episode (or nothing) in place.
    """
    lock_for_storing(session)
    existing = version_by_slug(session, record.slug)
    by_title, by_conversation, shared_with = False, False, None
    if existing is None:
        existing, shared_with = _same_title(session, record, segments)
        by_title = existing is not None
    if existing is None and record.conversation_hash is not None:
        existing = version_by_conversation(session, record.conversation_hash)
        by_conversation = existing is not None
    owner = library_of(session)
    if existing is None:
        new_id = insert_episode(session, record, segments, summary_takeaways, speaker_tokens)
        _owned_by(session, owner, new_id)
        return Stored(StoreOutcome.INGESTED, record.slug, title_shared_with=shared_with)
    another_source = by_title or by_conversation
    if existing.content_hash == record.content_hash:
        _owned_by(session, owner, existing.id)
        return Stored(StoreOutcome.UNCHANGED, existing.slug, by_title, None, by_conversation)
    if another_source and (not replace or existing.slug in keep):
        raise SameEpisode(existing.slug, by_title=by_title)
    if not another_source and not replace:
        raise EpisodeExists(record.slug)
    if owner is not None and owned_by_another(session, owner, existing.id):
        raise SharedEpisode(existing.slug)
    record = with_changes(record, slug=existing.slug)
    new_id = swap_episode(session, existing.id, record, segments, summary_takeaways, speaker_tokens)
    _owned_by(session, owner, new_id)
    return Stored(StoreOutcome.REPLACED, existing.slug, by_title, None, by_conversation)


def _owned_by(session: Session, owner: str | None, episode_id: int) -> None:
    """The workspace a library-per-workspace ingest is for owns the episode it stored or
    found already stored."""
    if owner is not None:
        own(session, owner, episode_id)


def own_duplicate(session: Session, slug: str) -> None:
    """A duplicate of a stored episode, ingested for a workspace: the workspace owns the
    stored one (the file was not stored twice, but it is in that workspace's library)."""
    owner = library_of(session)
    found = version_by_slug(session, slug)
    if owner is not None and found is not None:
        own(session, owner, found.id)
