"""Claude's reply back into an Answer: its prose, with a marker after each cited claim, and
citations mapped to the transcript passages they point at. A citation of anything that was
not given, or whose quoted text is not what the cited blocks say, is dropped (and logged):
a reader must be able to check every quote shown."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.answering import Citation, passage_id
from bot.answering.claude.prompt import Prompt, block_text
from bot.answering.offline import best_quote
from bot.retrieval.query import term_groups
from bot.retrieval.words import query_terms
from db.search import SearchHit

log = logging.getLogger(__name__)
SPACES = re.compile(r"\s+")
# How Claude says the transcript does not cover a question (its prompt asks for one plain
# sentence): "does not cover", "isn't mentioned", "no mention of", "couldn't find"...
NOT_COVERED = re.compile(
    r"\b(?:(?:does|do|did|is|are|was|were|could|can)(?: not|n[\u2019']t)|cannot)\s+"
    r"(?:seem to\s+|appear to\s+)?(?:be\s+)?"
    r"(?:cover|mention|discuss|address|say|talk about|touch on|include|find|contain)"
    r"|\bnot\s+(?:covered|mentioned|discussed|addressed)\b"
    r"|\bno\s+(?:mention|discussion|information)\b",
    re.IGNORECASE,
)
# A reply longer than this is an answer, whatever it says about coverage on the way.
NOT_COVERED_MAX_WORDS = 60


@dataclass(frozen=True)
class ReadReply:
    """Claude's answer text (with [n] markers), its citations, and how many were dropped."""

    text: str
    citations: list[Citation]
    dropped: int


def _same_text(cited: str, blocks: Sequence[SearchHit]) -> bool:
    # Blocks of a range are concatenated with or without a separator: compare sans spaces.
    given = SPACES.sub("", "".join(block_text(hit) for hit in blocks))
    said = SPACES.sub("", cited)
    return bool(said) and said in given


def _cited_passages(citation: Any, prompt: Prompt) -> list[SearchHit] | None:
    """The passages a citation points at, or None when it points at nothing given."""
    start, end = citation.start_block_index, citation.end_block_index
    if citation.type == "content_block_location":
        index = citation.document_index
        if not 0 <= index < len(prompt.documents):
            return None
        blocks = prompt.documents[index]
    elif citation.type == "search_result_location":
        index = citation.search_result_index
        if not 0 <= index < len(prompt.search_results):
            return None
        hit = prompt.search_results[index]
        if citation.source != passage_id(hit):
            return None
        blocks = [hit]
    else:
        return None
    if not 0 <= start < end <= len(blocks):
        return None
    cited = blocks[start:end]
    return cited if _same_text(citation.cited_text, cited) else None


class ReplyReader:
    """Reads a reply one text block at a time, as it streams or all at once: each block's
    piece of the answer (its text, with a marker after a cited claim) and, at the end, the
    whole ReadReply. Markers number the passages in the order they are first cited, so a
    block's markers are known the moment the block ends."""

    def __init__(self, prompt: Prompt, question: str) -> None:
        self._prompt = prompt
        self._groups = term_groups(query_terms(question))
        self._numbers: dict[str, int] = {}
        self._citations: list[Citation] = []
        self._pieces: list[str] = []
        self._dropped = 0

    def add(self, block: Any) -> str:
        """Read one content block; its piece of the answer ("" for a block that is not
        text)."""
        if getattr(block, "type", None) != "text":
            return ""
        markers = [self._number(hit) for hit in self._checked(block.citations or [])]
        piece = block.text
        if markers:
            piece = piece.rstrip() + " " + "".join(f"[{n}]" for n in dict.fromkeys(markers))
            # Claude's cited spans end mid-sentence; keep the space that followed the span.
            if block.text != block.text.rstrip():
                piece += " "
        self._pieces.append(piece)
        return piece

    def _checked(self, citations: Sequence[Any]) -> list[SearchHit]:
        cited: list[SearchHit] = []
        for citation in citations:
            passages = _cited_passages(citation, self._prompt)
            if passages is None:
                self._dropped += 1
                log.warning(
                    "dropped a citation of something not given: %s",
                    getattr(citation, "type", "?"),
                )
                continue
            cited.extend(passages)
        return cited

    def _number(self, hit: SearchHit) -> int:
        key = passage_id(hit)
        if key not in self._numbers:
            self._numbers[key] = len(self._citations) + 1
            self._citations.append(
                Citation(
                    episode_slug=hit.episode_slug,
                    episode_title=hit.episode_title,
                    position=hit.position,
                    speaker=hit.speaker,
                    start_seconds=hit.start_seconds,
                    quote=best_quote(hit.text, self._groups),
                    episode_url=hit.episode_url,
                )
            )
        return self._numbers[key]

    @property
    def text(self) -> str:
        """The answer so far, as it reads when finished."""
        return "".join(self._pieces).strip()

    def reply(self) -> ReadReply:
        """Everything read: the text, the checked citations, how many were dropped."""
        return ReadReply(self.text, list(self._citations), self._dropped)


def read_reply(content: Sequence[Any], prompt: Prompt, question: str) -> ReadReply:
    """Text and checked citations from a Messages API response's content blocks."""
    reader = ReplyReader(prompt, question)
    for block in content:
        reader.add(block)
    return reader.reply()


def reads_as_not_covered(text: str) -> bool:
    """Whether a reply is Claude saying, briefly, that the transcript does not cover the
    question (what it is asked to say then, with nothing to cite)."""
    return len(text.split()) <= NOT_COVERED_MAX_WORDS and NOT_COVERED.search(text) is not None


def unbacked(reply: ReadReply) -> str | None:
    """Why the reply's prose must not be shown (no checked citation backs it), or None: a
    reply with citations left, or a brief "the transcript does not cover this"."""
    if reply.citations:
        return None
    if reply.dropped:
        return f"all {reply.dropped} citations were dropped"
    if reads_as_not_covered(reply.text):
        return None
    return "it cited nothing but did not say the transcript does not cover the question"
