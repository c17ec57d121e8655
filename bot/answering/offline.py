"""The offline answerer: no API key, no model. It quotes the transcript's best moments,
each with who said it and where, and says plainly when the episode does not cover the
question instead of quoting whatever matched a stray word."""

from __future__ import annotations

from collections.abc import Mapping

from bot.answering import Answer, AnswerRequest, Citation, passage_id
from bot.answering.quotes import MAX_WORDS, group_weights, pick_quote
from bot.retrieval.query import term_groups
from bot.retrieval.words import query_terms
from db.traces import Trace

QUOTE_WORDS = MAX_WORDS  # about two spoken sentences

MAX_QUOTES = 3
# A passage much weaker than the best one is noise, not a second source.
RELATIVE_SCORE_FLOOR = 0.5
# The best passage must hold at least this rarity-weighted share of the question's terms to
# count as covering it. On the seed, the 20 dev questions score 0.31 and up; off-topic
# questions ("the weather in Paris", "hiring") 0.22 and below: the cut is between them.
MIN_COVERAGE = 0.26

NOT_COVERED = (
    "The episode doesn't seem to cover this: no part of the transcript matches the question "
    "well enough to quote. Try other words, or `episode-bot search` for a keyword."
)
NOT_COVERED_ANYWHERE = (
    "No episode seems to cover this: no part of any transcript matches the question well "
    "enough to quote. Try other words, or `episode-bot search` for a keyword."
)
COVERED_INTRO = "Here is what the episode says, quoted from the transcript:"
COVERED_INTRO_LIBRARY = "Here is what the episodes say, quoted from their transcripts:"


def best_quote(
    text: str, groups: list[frozenset[str]], rarity: Mapping[str, float] | None = None
) -> str:
    """The whole sentences (or clauses) of `text` that best quote it for the question's
    terms, the rarer weighing more, with ellipses where the passage was cut."""
    weights = group_weights(groups, rarity or {})
    return pick_quote(text, groups, max_words=QUOTE_WORDS, weights=weights).shown()


class OfflineAnswerer:
    """Extractive answers from retrieved passages; works with no network at all."""

    name = "offline"
    reads_whole_episode = False
    # Pure Python: under the GIL a second worker adds no throughput and takes CPU from
    # acknowledgements (measured: ack p99 145 ms with two, 109 ms with one).
    answers_at_once = 1
    writes_as_it_goes = False

    def answer(self, request: AnswerRequest) -> Answer:
        """Quote the best passages, or say the episode does not cover the question."""
        question, passages = request.question, request.passages
        trace = Trace(answerer=self.name, passages=tuple(passage_id(p.hit) for p in passages))
        groups = term_groups(query_terms(request.terms_text))
        if not passages or passages[0].coverage < MIN_COVERAGE:
            text = NOT_COVERED_ANYWHERE if request.library_wide else NOT_COVERED
            return Answer(question, text, covered=False, answerer=self.name, trace=trace)
        floor = passages[0].score * RELATIVE_SCORE_FLOOR
        citations = [
            Citation(
                episode_slug=p.hit.episode_slug,
                episode_title=p.hit.episode_title,
                position=p.hit.position,
                speaker=p.hit.speaker,
                start_seconds=p.hit.start_seconds,
                quote=best_quote(p.hit.text, groups, p.rarity),
                episode_url=p.hit.episode_url,
            )
            # In retrieval's order: a host's question never ahead of the answer after it.
            for p in passages[:MAX_QUOTES]
            if p.score >= floor
        ]
        episodes = {c.episode_slug for c in citations}
        return Answer(
            question,
            COVERED_INTRO_LIBRARY if len(episodes) > 1 else COVERED_INTRO,
            covered=True,
            answerer=self.name,
            citations=citations,
            trace=trace,
        )
