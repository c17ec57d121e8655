"""Words: how questions, transcripts and speaker names are cut into comparable terms."""

from __future__ import annotations

import re
from functools import lru_cache

from bot.retrieval.porter import porter_stem

WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)
MAX_TERMS = 24  # a 5,000-character paste still costs one bounded query

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are aren't as at be because
    been before being below between both but by can can't could did didn't do does
    doesn't doing don't down during each episode few for from further get got guest
    guests had has have having he he'd he'll he's her here here's hers herself him
    himself his how how's i i'd i'll i'm i've if in into is isn't it it's its itself
    just let's like me more most much my myself no nor not of off on once only or other
    ought our ours ourselves out over own podcast said same say says she she'd she'll
    she's should so some such tell than that that's the their theirs them themselves
    then there there's these they they'd they'll they're they've this those through to
    too under until up very was wasn't we we'd we'll we're we've were weren't what
    what's when when's where where's which while who who's whom why why's will with
    won't would you you'd you'll you're you've your yours yourself yourselves""".split()
)


def _normalise(word: str) -> str:
    word = word.lower()
    if word.endswith("'s"):
        word = word[:-2]  # "Artifact's" asks about Artifact
    return word.replace("'", "")


def word_set(text: str) -> set[str]:
    """Every distinct word of `text`, normalised as question terms are, lightly stemmed."""
    return {light_stem(w) for w in (_normalise(w) for w in WORD.findall(text)) if w}


def query_terms(text: str) -> list[str]:
    """Distinct lowercase words worth searching for, stopwords dropped unless nothing else."""
    words = [w for w in dict.fromkeys(_normalise(w) for w in WORD.findall(text)) if w]
    meaningful = [w for w in words if w not in STOPWORDS]
    return (meaningful or words)[:MAX_TERMS]


@lru_cache(maxsize=1 << 16)
def light_stem(word: str) -> str:
    """The word's stem as FTS5's porter tokenizer makes it, so that what the index matched
    ("pricing" for "priced") is what reranking and quoting count as a match. Cached: a
    transcript's vocabulary is small and reranking stems every candidate word."""
    return porter_stem(word)


def stems(text: str) -> list[str]:
    """Every word of `text`, lowercased and lightly stemmed, in order."""
    return [light_stem(w.lower()) for w in WORD.findall(text)]
