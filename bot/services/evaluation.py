"""Is retrieval, or another model, better or worse than before: recall on questions whose
answering turns are known, and the newest stored answers asked again."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.answering import Answerer
from bot.evaluation.recall import Evaluation, GoldQuestion, evaluate
from bot.evaluation.replay import Replayed, replay
from bot.services.library import Library
from bot.services.library_reader import LibraryReader
from db.traces import recent_traces


def recall_of(
    library: Library,
    questions: Sequence[GoldQuestion],
    *,
    episode: str | None,
    gold_episode: str | None,
    ks: Sequence[int],
) -> Evaluation:
    """Recall@k and MRR of retrieval on the questions (from `read_questions`). Raises
    QuestionsError (one sentence) for a gold episode that is not in the library."""
    with library.sessions() as session:
        return evaluate(session, questions, episode=episode, gold_episode=gold_episode, ks=ks)


def replay_recent(
    library: Library,
    answerer: Answerer,
    *,
    since: datetime | None,
    limit: int,
    team: str | None = None,
) -> list[Replayed]:
    """The newest `limit` stored answers (given on or after `since`; of workspace `team`,
    if given) answered again by `answerer`; [] when none are stored."""
    with library.sessions() as session:
        rows = recent_traces(session, since=since, limit=limit, team=team)
        return replay(session, rows, answerer, reader=LibraryReader(library)) if rows else []
