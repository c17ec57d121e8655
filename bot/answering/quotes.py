"""Quotes from a passage: whole sentences, or whole clauses where speech-to-text left no
punctuation, chosen for the question's words. One picker serves the offline answer and the
takeaway of the day, so both follow the same rules:

- a quote starts where a sentence (or a clause) starts, never inside a quotation the
  speaker is reporting (an unclosed `"` or `“` before it), and ends where one ends, with its
  quotation marks balanced;
- it never ends on a comma (or a semicolon, a colon, a dash, or a word such as "the" that
  leaves the thought hanging);
- it is at most about two spoken sentences long.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.retrieval.words import light_stem

TOKEN = re.compile(r"\S+")
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
MAX_WORDS = 40  # about two spoken sentences
# A quote shorter than this says too little to stand alone, when a longer one can be had.
FULL_WORDS = 12
# Ends a sentence: a full stop, question or exclamation mark, maybe inside closing quotes.
SENTENCE_END = re.compile("[.!?\u2026]+[\"\u201d\u2019')\\]]*$")
# Not the end of a sentence, though they end with a full stop.
ABBREVIATIONS = frozenset(
    "mr. mrs. ms. dr. st. vs. etc. e.g. i.e. u.s. u.k. inc. co. jr. sr. prof. no.".split()
)
# Where unpunctuated speech opens a new clause: a quote may start before these words
# ("like" and "or" are left out: in speech they open a phrase more often than a clause)...
CLAUSE_WORDS = frozenset("and so but because which then".split())
# A clause quoted on its own starts after these: they join it to what came before.
JOINING = frozenset("and so but then".split())
# ...or where a claim starts.
CLAIM_STARTS = (
    "i think", "i believe", "what i've learned", "the key", "the biggest", "the lesson",
    "the way to", "the goal", "the trick", "the hardest", "you have to", "you need to",
    "the best", "the most important", "my advice", "the thing i",
)  # fmt: skip
# A clause is not cut shorter than this, so clauses stay clauses and not stray phrases.
MIN_CLAUSE_WORDS = 5
# A quote does not end on these: it would stop mid-thought.
HANGING = frozenset(
    "a an the of to in on at for with by from and or but so that this is are was were be been "
    "it its it's i i'm i'd i'll you you're we we're we'll they they're my our your their me us "
    "he she them am has have had not can could would will do does did don't what how why when "
    "where who as if then than about into up out all some more most much many one two there "
    "here those these that's there's like just really very kind sort kinda sorta gonna wanna "
    "um uh know mean think say said get got go going thing things stuff way".split()
)
DASHES = ("-", "\u2013", "\u2014")  # hyphen, en dash, em dash
TRAILING = ",;:" + "".join(DASHES)  # never the last character of a quote
OPENING_QUOTES = "“"
CLOSING_QUOTES = "”"


@dataclass(frozen=True)
class Quote:
    """A verbatim stretch of a passage, and whether the passage goes on before or after it
    (an answer shows an ellipsis there)."""

    text: str
    cut_before: bool
    cut_after: bool

    def shown(self) -> str:
        """The quote with an ellipsis where the passage was cut."""
        return ("…" if self.cut_before else "") + self.text + ("…" if self.cut_after else "")


@dataclass(frozen=True)
class _Unit:
    first: int  # token indexes, inclusive
    last: int
    clause: bool  # starts a clause inside a sentence, not the sentence
    sentence_end: bool  # ends a sentence, not just a clause
    can_start: bool
    can_end: bool
    hangs: bool  # ends on a word that leaves the thought open (only at the passage's end)


def _quote_depth(tokens: Sequence[str]) -> list[int]:
    """How many quotations are open before each token, and after the last (one more entry).
    Straight quotes open at a word's start and close at its end; curly ones say which."""
    depth, before = 0, []
    for token in tokens:
        before.append(depth)
        for index, char in enumerate(token):
            if char in OPENING_QUOTES:
                depth += 1
            elif char in CLOSING_QUOTES:
                depth = max(0, depth - 1)
            elif char == '"':
                opens = index == 0 or not token[index - 1].isalnum()
                closes = index == len(token) - 1 or not token[index + 1].isalnum()
                if depth and (closes or not opens):
                    depth -= 1
                else:
                    depth += 1
    before.append(depth)
    return before


def _ends_sentence(token: str) -> bool:
    return bool(SENTENCE_END.search(token)) and token.lower() not in ABBREVIATIONS


def _bare(token: str) -> str:
    return token.lower().strip("\"\u201c\u201d'\u2019,.;:!?()[]\u2026" + "".join(DASHES))


def _clause_starts(tokens: Sequence[str], first: int, last: int) -> list[int]:
    """Where clauses may start inside one unpunctuated sentence: after a comma or a dash,
    before a word that opens a clause, or where a claim starts."""
    starts = []
    for i in range(first + 1, last + 1):
        ahead = " ".join(_bare(t) for t in tokens[i : i + 4])
        if (
            tokens[i - 1][-1] in TRAILING
            or tokens[i] in DASHES
            or _bare(tokens[i]) in CLAUSE_WORDS
            or any(ahead.startswith(claim) for claim in CLAIM_STARTS)
        ):
            starts.append(i)
    return starts


def _units(tokens: Sequence[str], max_words: int) -> list[_Unit]:
    """Sentences, and a long sentence's clauses, with where a quote may start and end."""
    depth = _quote_depth(tokens)
    sentences: list[tuple[int, int]] = []
    first = 0
    for i, token in enumerate(tokens):
        if _ends_sentence(token) or i == len(tokens) - 1:
            sentences.append((first, i))
            first = i + 1
    units: list[_Unit] = []
    for first, last in sentences:
        pieces = [_Piece(first, last, starts=True, ends=True, whole_end=True)]
        if last - first + 1 > max_words:
            pieces = _clauses(tokens, first, last, max_words)
        for piece in pieces:
            end = piece.last
            # A clause that ends at a comma is quoted without it; one that ends on "the" or
            # "and" leaves the thought open. A passage cut off mid-sentence ("...the merge
            # queue was full and") may still be quoted to its end, but only when nothing
            # else can be (see pick_quote).
            hangs = not _ends_sentence(tokens[end]) and _bare(tokens[end]) in HANGING
            at_end = end == len(tokens) - 1
            units.append(
                _Unit(
                    piece.first,
                    end,
                    clause=piece.first != first,
                    sentence_end=piece.whole_end,
                    can_start=piece.starts and depth[piece.first] == 0,
                    can_end=piece.ends and depth[end + 1] == 0 and (at_end or not hangs),
                    hangs=hangs,
                )
            )
    return units


@dataclass(frozen=True)
class _Piece:
    first: int
    last: int
    starts: bool  # a clause starts here
    ends: bool  # a clause ends here
    whole_end: bool  # the sentence ends here


def _clauses(tokens: Sequence[str], first: int, last: int, max_words: int) -> list[_Piece]:
    """One long sentence cut into clauses of MIN_CLAUSE_WORDS to max_words words. Where no
    clause starts for max_words words it is cut there anyway, but a quote neither ends at
    such a cut nor starts after it: the words either side are mid-clause."""
    pieces: list[_Piece] = []
    start, starts = first, True
    for cut in [*_clause_starts(tokens, first, last), last + 1]:
        while cut - start > max_words:
            pieces.append(_Piece(start, start + max_words - 1, starts, False, False))
            start, starts = start + max_words, False
        if cut - start >= MIN_CLAUSE_WORDS or cut == last + 1:
            if cut > start:
                pieces.append(_Piece(start, cut - 1, starts, True, cut == last + 1))
            start, starts = cut, True
    return pieces


def _windows(
    tokens: Sequence[str], units: Sequence[_Unit], max_words: int
) -> list[tuple[int, int, int]]:
    """Runs of whole units that may stand as a quote: (first token, last unit, last
    token). A clause's joining word ("and", "so") is left out of a quote it starts."""
    runs = []
    for i, unit in enumerate(units):
        if not unit.can_start:
            continue
        first = unit.first
        if unit.clause and _bare(tokens[first]) in JOINING and first < unit.last:
            first += 1
        for j in range(i, len(units)):
            if units[j].last - first + 1 > max_words:
                break
            if units[j].can_end:
                runs.append((first, j, units[j].last))
    return runs


def candidate_quotes(text: str, *, min_words: int = 1, max_words: int = MAX_WORDS) -> list[str]:
    """Every stretch of `text` that may stand as a quote, min_words to max_words words long:
    whole sentences or clauses, outside any reported quotation, not ending on a comma."""
    spans = list(TOKEN.finditer(text))
    tokens = [m.group(0) for m in spans]
    units = _units(tokens, max_words)
    found = []
    for first, j, last in _windows(tokens, units, max_words):
        if last - first + 1 >= min_words and not units[j].hangs:
            found.append(_text(text, spans, first, last))
    return found


def _text(text: str, spans: Sequence[re.Match[str]], first: int, last: int) -> str:
    # A clause cut at a comma (or a colon, a dash) ends before it: never on a comma.
    return text[spans[first].start() : spans[last].end()].rstrip(TRAILING).rstrip()


def _matched(
    groups: Sequence[frozenset[str]], words: set[str], weights: Sequence[float] | None = None
) -> float:
    if weights is None:
        return sum(not group.isdisjoint(words) for group in groups)
    return sum(w for group, w in zip(groups, weights, strict=True) if not group.isdisjoint(words))


def group_weights(
    groups: Sequence[frozenset[str]], rarity: Mapping[str, float]
) -> list[float] | None:
    """Each term's weight from how rare its stems are (retrieval's idf), so that "PRD"
    outweighs "good" when choosing what to quote; a term retrieval did not weigh (a word
    of the thread, say) counts as the rarest. None when nothing is known."""
    if not rarity:
        return None
    rarest = max(rarity.values())
    return [max((rarity[s] for s in group if s in rarity), default=rarest) for group in groups]


def pick_quote(
    text: str,
    groups: Sequence[frozenset[str]],
    *,
    max_words: int = MAX_WORDS,
    weights: Sequence[float] | None = None,
) -> Quote:
    """The stretch of `text` that best quotes it for a question: whole sentences or
    clauses (see candidate_quotes) holding most of the question's terms (`groups`, each a
    set of stems; weighed by `weights` when given, see group_weights), then long enough to
    stand alone (FULL_WORDS), then the earliest. A passage with no such stretch (all of it
    inside one reported quotation, say) is quoted from its start, cut after a whole
    word."""
    spans = list(TOKEN.finditer(text))
    if not spans:
        return Quote(text.strip(), cut_before=False, cut_after=False)
    tokens = [m.group(0) for m in spans]
    stems = [{light_stem(w) for w in WORD.findall(t.lower())} for t in tokens]
    units = _units(tokens, max_words)
    best: tuple[tuple[bool, float, int, bool, int], int, int] | None = None
    for first, j, last in _windows(tokens, units, max_words):
        said: set[str] = set().union(*stems[first : last + 1])
        words = last - first + 1
        # One that does not trail off first; then more of the question; then a quote that
        # can stand alone; then one that ends a sentence rather than a clause; the earliest.
        key = (
            not units[j].hangs,
            _matched(groups, said, weights),
            min(words, FULL_WORDS),
            units[j].sentence_end,
            -first,
        )
        if best is None or key > best[0]:
            best = (key, first, last)
    if best is None:
        last = min(len(tokens), max_words) - 1
        while last > 0 and (_bare(tokens[last]) in HANGING or not _bare(tokens[last])):
            last -= 1
        first = 0
    else:
        _, first, last = best
    quote = _text(text, spans, first, last)
    return Quote(
        quote,
        cut_before=first > 0,
        cut_after=not SENTENCE_END.search(quote) and not text.rstrip().endswith(quote),
    )


def best_matching(
    text: str,
    groups: Sequence[frozenset[str]],
    *,
    min_words: int,
    max_words: int,
) -> str | None:
    """The candidate quote of `text`, min_words to max_words long, holding most of the
    terms in `groups`; None when none holds any."""
    scored = [
        (_matched(groups, {light_stem(w) for w in WORD.findall(q.lower())}), q)
        for q in candidate_quotes(text, min_words=min_words, max_words=max_words)
    ]
    scored = [(score, q) for score, q in scored if score > 0]
    return max(scored, key=lambda item: item[0])[1] if scored else None
