"""What a question is about: one episode, or the whole library. The words that say "the
whole library" are never an episode's slug, so they always mean what people expect."""

from __future__ import annotations

LIBRARY_WORDS = frozenset({"all", "everything", "library"})


def means_library(word: str) -> bool:
    """True for `all`, `Everything`, ` library ` and the like."""
    return word.strip().lower() in LIBRARY_WORDS
