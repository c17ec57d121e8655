"""What an answerer is given for a question: the passages retrieval ranks for it, the whole
episode when the answerer reads one, and the thread so far."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from bot.answering import (
    Answerer,
    AnswerRequest,
    EpisodeText,
    Exchange,
    LibraryReader,
    Watcher,
    parse_turn_id,
)
from bot.retrieval import retrieve
from bot.retrieval.words import STOPWORDS, query_terms
from db.episodes import get_episode
from db.search import SearchHit, episode_passages

PASSAGES_FOR_ANSWER = 6
# A follow-up with fewer words of its own than this leans on the thread ("tell me more").
OWN_TERMS_FOR_FOLLOW_UP = 2
# A library-wide follow-up is given again at most this many turns its thread's answer cited.
CARRIED_TURNS = 6
# Not given to an answerer as the episode: ads, and the cold open that repeats later lines.
LEFT_OUT_KINDS = ("sponsor", "teaser")


def episode_text(session: Session, slug: str) -> EpisodeText | None:
    """An episode's citable passages, for answerers that read the whole episode."""
    episode = get_episode(session, slug)
    if episode is None:
        return None
    passages = episode_passages(session, episode.id, leave_out=LEFT_OUT_KINDS)
    return EpisodeText(episode.slug, episode.title, passages)


def cited_passages(session: Session, turn_ids: Sequence[str]) -> list[SearchHit]:
    """The passages of cited turns (`slug#turn-23`), in the order cited; a turn whose episode
    is gone, or that was re-ingested away, is left out."""
    found: list[SearchHit] = []
    for turn_id in list(dict.fromkeys(turn_ids))[:CARRIED_TURNS]:
        parsed = parse_turn_id(turn_id)
        episode = get_episode(session, parsed[0]) if parsed else None
        if parsed is None or episode is None:
            continue
        found += episode_passages(session, episode.id, turns=(parsed[1], parsed[1]))
    return found


def prepare(
    session: Session,
    question: str,
    answerer: Answerer,
    *,
    episode: str | None = None,
    history: Sequence[Exchange] = (),
    reader: LibraryReader | None = None,
    watcher: Watcher | None = None,
) -> AnswerRequest:
    """What `answerer` needs for `question`, read from the library. A follow-up that says
    little on its own ("and why was that?") is searched for together with the thread's
    previous question. Answering comes after, so no database read stays open during it.
    A library-wide question also carries `reader`, for an answerer that searches further,
    and every question `watcher`, to tell the person asking what it is doing."""
    own = [t for t in query_terms(question) if t not in STOPWORDS]
    search_for = question
    if len(own) < OWN_TERMS_FOR_FOLLOW_UP and history:
        search_for = f"{history[-1].question} {question}"
    passages = retrieve(session, search_for, episode=episode, limit=PASSAGES_FOR_ANSWER)
    whole = episode_text(session, episode) if episode and answerer.reads_whole_episode else None
    carried = cited_passages(session, history[-1].cited) if history and episode is None else []
    return AnswerRequest(
        question,
        passages,
        whole,
        tuple(history),
        searched_for=search_for,
        library_wide=episode is None,
        library=reader if episode is None else None,
        carried=carried,
        watcher=watcher,
    )
