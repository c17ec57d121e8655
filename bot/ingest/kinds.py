"""Mark each passage's kind: a cold-open `teaser`, `sponsor` reads, the host's `intro` and
`outro`, and `content` for the conversation itself.

Ad reads often share a turn with real talk (the host's intro runs straight into two ads;
a sponsor segment ends mid-turn with the next question), so kinds are decided on character
spans inside a turn and a turn is split into passages only where its kind changes.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from bot.ingest.chunking import chunk
from bot.ingest.model import Passage, Turn

INTRO_CUE = re.compile(
    r"\b(?:today,? my guests? (?:is|are)|my guests? today (?:is|are)|today I'?m joined by"
    r"|on today'?s (?:episode|show)|welcome (?:back )?to (?:the )?\w+'?s? podcast)\b",
    re.IGNORECASE,
)
OUTRO_CUE = re.compile(
    r"\b(?:thanks? (?:you )?(?:so much )?for listening|see you (?:in|on) the next episode"
    r"|leave (?:us )?a review|until next time)\b",
    re.IGNORECASE,
)
AD_START = re.compile(
    r"\b(?:(?:this|today'?s) (?:episode|show) is (?:brought to you|sponsored) by"
    r"|brought to you by|(?:a word from|thanks to) our sponsors?|today'?s sponsor)\b",
    re.IGNORECASE,
)
SPONSOR_WORD = re.compile(r"\b(?:sponsors?|sponsored|promo code|free trial)\b", re.IGNORECASE)
# "Productboard.com/Lenny", "oneschema.co", "Stripe.com": an ad read ends on its address.
DOMAIN = re.compile(
    r"\b[\w'-]+\.(?:com|co|io|ai|org|net|app|dev|so|fm)(?:/[\w-]+)?\b\.?", re.IGNORECASE
)
SENTENCE_END = re.compile(r"[.!?]\s+")
WORD = re.compile(r"[a-z0-9']+")

INTRO_SEARCH_SHARE = 0.25  # the intro comes within the first quarter of the turns
AD_CHAIN_WORDS = 250  # a second ad read right after the first one is part of the same break
TEASER_RECURRENCE = 0.5  # share of a turn's 4-word shingles heard again later
SHINGLE = 4


@dataclass
class _Span:
    start: int
    end: int
    kind: str


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = WORD.findall(text.lower())
    return set(zip(*(words[i:] for i in range(SHINGLE)), strict=False))


def _last_seen(turns: list[Turn], prefix: int) -> dict[tuple[str, ...], int]:
    """For each 4-word shingle of the first `prefix` turns, the last turn that says it.

    Only those shingles are tracked, and a window is built only where its first word could
    start one: shingling a whole 20,000-word episode would dominate ingest time."""
    wanted = set().union(*(_shingles(t.text) for t in turns[:prefix]))
    firsts = {shingle[0] for shingle in wanted}
    last: dict[tuple[str, ...], int] = {}
    for index, turn in enumerate(turns):
        words = WORD.findall(turn.text.lower())
        for start in range(len(words) - SHINGLE + 1):
            if words[start] in firsts:
                shingle = tuple(words[start : start + SHINGLE])
                if shingle in wanted:
                    last[shingle] = index
    return last


def _recurs(turn: Turn, last: dict[tuple[str, ...], int], after: int) -> bool:
    own = _shingles(turn.text)
    later = sum(last[shingle] > after for shingle in own)
    return bool(own) and later / len(own) >= TEASER_RECURRENCE


def _find_intro(turns: list[Turn]) -> int | None:
    limit = max(3, int(len(turns) * INTRO_SEARCH_SHARE))
    for index, turn in enumerate(turns[:limit]):
        if INTRO_CUE.search(turn.text):
            return index
    return None


def _teaser_count(turns: list[Turn], intro: int | None) -> int:
    """How many leading turns form a cold open: lines that recur later in the episode."""
    if intro == 0:
        return 0
    prefix = intro if intro is not None else min(len(turns) // 4, 20)
    last = _last_seen(turns, prefix)
    if intro is not None:
        recurring = sum(_recurs(turns[i], last, intro - 1) for i in range(intro))
        return intro if recurring * 3 >= intro else 0
    # No intro cue: the longest leading run of recurring (or very short) turns.
    run, recurring = 0, 0
    for index in range(prefix):
        if _recurs(turns[index], last, index):
            run, recurring = index + 1, recurring + 1
        elif len(turns[index].text.split()) >= 15:
            break
    return run if recurring >= 2 else 0


def _sentence_start(text: str, at: int) -> int:
    """Start of the sentence holding offset `at` (or `at` itself for unpunctuated speech)."""
    ends = [m.end() for m in SENTENCE_END.finditer(text, 0, at)]
    start = ends[-1] if ends else 0
    return start if len(text[start:at].split()) <= 12 else at


def _ad_end(text: str, start: int) -> int | None:
    """Where an ad read that begins at `start` ends: after its last address in a chain of
    addresses no more than AD_CHAIN_WORDS apart. None when it names no address."""
    end = None
    cursor = start
    for match in DOMAIN.finditer(text, start):
        if end is not None and len(text[cursor : match.start()].split()) > AD_CHAIN_WORDS:
            break
        end = cursor = match.end()
    return end


def _ad_spans(text: str) -> list[_Span]:
    lowered = text.lower()
    if "sponsor" not in lowered and "brought to you" not in lowered:
        return []  # every AD_START phrase has one of these; skips the regex on most turns
    spans: list[_Span] = []
    cursor = 0
    while match := AD_START.search(text, cursor):
        start = _sentence_start(text, match.start())
        end = _ad_end(text, match.end()) or len(text)
        spans.append(_Span(start, end, "sponsor"))
        cursor = end
    return spans


def _guest_sponsor_blocks(turns: list[Turn]) -> dict[int, tuple[int, int]]:
    """Turns of a sponsor conversation: a minor speaker (the sponsor's CEO) who appears only
    in a short run of turns that talks about sponsoring. Returns turn index -> (start, end)."""
    counts = Counter(t.speaker for t in turns)
    main = {name for name, _ in counts.most_common(2)}
    marked: dict[int, tuple[int, int]] = {}
    for speaker, count in counts.items():
        if speaker in main or count > 6:
            continue
        indexes = [i for i, t in enumerate(turns) if t.speaker == speaker]
        first, last = indexes[0], indexes[-1]
        if last - first > 12:
            continue
        before, after = max(first - 1, 0), min(last + 1, len(turns) - 1)
        block_text = " ".join(t.text for t in turns[before : after + 1])
        if not (SPONSOR_WORD.search(block_text) or AD_START.search(block_text)):
            continue
        for index in range(first, last + 1):
            marked[index] = (0, len(turns[index].text))
        name = speaker.split()[0]
        if before < first and (hit := re.search(rf"\b{re.escape(name)}\b", turns[before].text)):
            marked[before] = (
                _sentence_start(turns[before].text, hit.start()),
                len(turns[before].text),
            )
        if after > last:
            end = _ad_end(turns[after].text, 0)
            if end is not None:
                marked[after] = (0, end)
    return marked


def _split(turn: Turn, spans: list[_Span], base_kind: str) -> list[tuple[str, str]]:
    """Cut a turn's text at span edges; returns (kind, text) pieces, neighbours merged."""
    pieces: list[tuple[str, str]] = []
    cursor = 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start > cursor:
            pieces.append((base_kind, turn.text[cursor : span.start]))
        pieces.append((span.kind, turn.text[max(span.start, cursor) : span.end]))
        cursor = max(cursor, span.end)
    if cursor < len(turn.text):
        pieces.append((base_kind, turn.text[cursor:]))
    merged: list[tuple[str, str]] = []
    for kind, text in pieces:
        text = text.strip()
        if not text:
            continue
        if merged and merged[-1][0] == kind:
            merged[-1] = (kind, f"{merged[-1][1]} {text}")
        else:
            merged.append((kind, text))
    return merged


def mark_passages(turns: list[Turn]) -> list[Passage]:
    """Split turns into passages and give each its kind."""
    intro = _find_intro(turns)
    teasers = _teaser_count(turns, intro)
    blocks = _guest_sponsor_blocks(turns)
    outro_from = len(turns)
    for index in range(len(turns) - 1, max(len(turns) - 4, teasers) - 1, -1):
        if OUTRO_CUE.search(turns[index].text):
            outro_from = index

    passages: list[Passage] = []
    for index, turn in enumerate(turns):
        if index < teasers:
            base = "teaser"
        elif index == intro:
            base = "intro"
        elif index >= outro_from:
            base = "outro"
        else:
            base = "content"
        spans = _ad_spans(turn.text) if base != "teaser" else []
        if index in blocks:
            spans.append(_Span(*blocks[index], "sponsor"))
        pieces = [
            (kind, piece) for kind, text in _split(turn, spans, base) for piece in chunk(text)
        ]
        for part, (kind, text) in enumerate(pieces):
            passages.append(
                Passage(turn.position, part, turn.speaker, text, kind, turn.start_seconds)
            )
    return passages
