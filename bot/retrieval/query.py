"""A question as search terms: each word with the spellings a transcript may use for it,
and as FTS5 syntax. User text never reaches FTS5 as syntax: each word is quoted and the words
are OR-ed together, so quotes, `-`, `*`, `AND`/`NOT`, parentheses and emoji are all text."""

from __future__ import annotations

import re

from bot.retrieval.words import light_stem

# Speech-to-text spells some names as ordinary words: "Cloud Code" for Claude Code,
# "MTV" for MCP. A question that names the real thing must find the misheard turns.
ASR_ALIASES: dict[str, tuple[str, ...]] = {
    "claude": ("cloud",),
    "mcp": ("mtv",),
    "cursor": ("kursor",),
    "swe": ("sweet", "suite"),
    "dario": ("daria",),
    "daniela": ("danielle",),
}
# Speech-to-text writes most numbers as words ("opus four", "three seven").
NUMBER_WORDS = dict(
    enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
)
# A few concepts people ask about by a word the speakers never say.
CONCEPT_ALIASES: dict[str, tuple[str, ...]] = {
    "pronoun": ("gender", "he", "she", "they"),
    "pronouns": ("gender", "he", "she", "they"),
    "ads": ("sponsor", "brought"),
    "sponsors": ("sponsor", "brought"),
}

SPONSOR_INTENT = re.compile(r"\b(?:sponsor\w*|ads?|advert\w*|promo\w*)\b", re.IGNORECASE)


def variants(term: str) -> tuple[str, ...]:
    """The term and the spellings that mean the same in a transcript."""
    extra = ASR_ALIASES.get(term, ()) + CONCEPT_ALIASES.get(term, ())
    # ASCII and short: "²".isdigit() is true but int() refuses it, and int() of a
    # 5,000-digit paste is refused too.
    if term.isascii() and term.isdigit() and len(term) <= 2 and int(term) in NUMBER_WORDS:
        extra += (NUMBER_WORDS[int(term)],)
    return (term, *extra)


def term_expression(term: str) -> str:
    """One term as FTS5 syntax: its quoted variants, OR-ed."""
    return "(" + " OR ".join(f'"{v}"' for v in variants(term)) + ")"


def build_expression(terms: list[str], operator: str = "OR") -> str:
    """An FTS5 expression joining the terms' expressions with OR (or AND)."""
    return f" {operator} ".join(term_expression(term) for term in terms)


def term_groups(terms: list[str]) -> list[frozenset[str]]:
    """Per question term, the stems of it and its variants: any one of them is a match."""
    return [frozenset(light_stem(v) for v in variants(t)) for t in terms]
