"""Which takeaway a channel gets next: none repeats in a channel until every takeaway of its
episode has been posted there; then the next episode not yet covered, or the same one again
(DIGEST_WHEN_DONE). Takeaways are prepared the first time an episode needs them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.answering.prepare import episode_text
from bot.takeaways.extract import (
    POSTABLE_KINDS,
    discussion_question,
    extract,
    guest_of,
    locate,
)
from db.channels import focus_episode
from db.digest import episodes_in_order, takeaways_of, times_posted
from db.models import Episode, Segment, Takeaway
from db.search import SearchHit, episode_passages

if TYPE_CHECKING:
    from bot.takeaways.written import TakeawayWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pick:
    """A takeaway with what its post shows."""

    takeaway_id: int
    episode_id: int
    episode_title: str
    text: str
    quote: str
    question: str
    speaker: str
    position: int
    start_seconds: float | None


def ensure_takeaways(
    session_factory: sessionmaker[Session], episode_id: int, writer: TakeawayWriter | None = None
) -> None:
    """Locate the episode's key-takeaway bullets and add more, once: written by Claude when
    there is a `writer` (and it answers well), else the guest's most quotable lines."""
    with session_factory() as session:
        episode = session.get(Episode, episode_id)
        if episode is None:
            return
        rows = takeaways_of(session, episode_id)
        if any(row.origin != "summary" for row in rows):
            return  # prepared already
        passages = episode_passages(session, episode_id)
        guest = guest_of(passages, episode.guest)
        used: set[str] = {row.quote for row in rows if row.quote}
        located: dict[int, tuple[SearchHit, str]] = {}
        for row in rows:
            if row.segment_id is None and (
                found := locate(session, row.text, episode.slug, guest, used)
            ):
                located[row.id] = found
                used.add(found[1])
        first_rank = max((row.rank for row in rows), default=-1) + 1
        whole = episode_text(session, episode.slug) if writer is not None else None
    more = writer.write(whole, first_rank) if writer is not None and whole is not None else []
    if not more and guest:
        more = extract(passages, guest, first_rank)
    extracted = [p for p in more if p.quote not in used]
    try:
        with session_factory.begin() as session:
            for row_id, (hit, quote) in located.items():
                row = session.get(Takeaway, row_id)
                if row is not None:
                    row.segment_id, row.quote = hit.segment_id, quote
                    row.positions = f"[{hit.position}]"
                    row.question = discussion_question(row.rank)
            for item in extracted:
                session.add(
                    Takeaway(
                        episode_id=episode_id,
                        text=item.text,
                        positions=f"[{item.position}]",
                        origin=item.origin,
                        segment_id=item.segment_id,
                        quote=item.quote,
                        question=item.question,
                        rank=item.rank,
                    )
                )
    except IntegrityError:
        log.info("takeaways of episode %s were prepared by another process", episode_id)


def _postable(session: Session, episode_id: int) -> list[tuple[Takeaway, Segment]]:
    pairs = []
    for row in takeaways_of(session, episode_id):
        segment = session.get(Segment, row.segment_id) if row.segment_id else None
        if segment is not None and row.quote and segment.kind in POSTABLE_KINDS:
            pairs.append((row, segment))
    return pairs


def _pick(row: Takeaway, segment: Segment, episode: Episode) -> Pick:
    return Pick(
        takeaway_id=row.id,
        episode_id=episode.id,
        episode_title=episode.title,
        text=row.text,
        quote=row.quote or "",
        question=row.question or discussion_question(row.rank),
        speaker=segment.speaker,
        position=segment.position,
        start_seconds=segment.start_seconds,
    )


def pick_by_id(session: Session, takeaway_id: int) -> Pick | None:
    """A stored takeaway as a Pick (a retried post repeats the takeaway it claimed)."""
    row = session.get(Takeaway, takeaway_id)
    segment = session.get(Segment, row.segment_id) if row and row.segment_id else None
    episode = session.get(Episode, row.episode_id) if row else None
    if row is None or segment is None or episode is None:
        return None
    return _pick(row, segment, episode)


def next_takeaway(
    session_factory: sessionmaker[Session],
    team: str,
    channel: str,
    *,
    when_done: str = "next",
    writer: TakeawayWriter | None = None,
) -> Pick | None:
    """The takeaway the channel (of workspace `team`) should get next, or None when the
    library has none."""
    with session_factory() as session:
        focus = focus_episode(session, team, channel)
        order = [e.id for e in episodes_in_order(session)]
    if not order:
        return None
    start = order.index(focus.id) if focus is not None else len(order) - 1
    # The focus episode first, then (when it is done) the others in order, wrapping round.
    candidates = order[start:] + order[:start] if when_done == "next" else [order[start]]
    for episode_id in candidates:
        ensure_takeaways(session_factory, episode_id, writer)
        with session_factory() as session:
            pairs = _postable(session, episode_id)
            counts = times_posted(session, team, channel, [row.id for row, _ in pairs])
            fresh = [(row, seg) for row, seg in pairs if not counts.get(row.id)]
            if fresh:
                episode = session.get(Episode, episode_id)
                assert episode is not None
                return _pick(*fresh[0], episode)
    # Everything covered: start the focus episode over, least-posted first.
    with session_factory() as session:
        pairs = _postable(session, order[start])
        if not pairs:
            return None
        counts = times_posted(session, team, channel, [row.id for row, _ in pairs])
        row, segment = min(pairs, key=lambda pair: (counts.get(pair[0].id, 0), pair[0].rank))
        episode = session.get(Episode, order[start])
        assert episode is not None
        return _pick(row, segment, episode)
