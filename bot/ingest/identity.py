"""What makes two files one episode (a team's copy and the community archive's, say): the
title reduced to what two sources of it have in common, the text check that confirms it,
since a title alone can be wrong, and a fingerprint of the very same transcript."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

# Typographic quotes and apostrophes as their plain forms: one source types "Anthropic's",
# another the same with a right single quotation mark (U+2019).
QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u02bc": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
    }
)
NOT_ALPHANUMERIC = re.compile(r"[\W_]+")
# A heading that names no episode: two files titled "Transcript" are not one episode.
GENERIC_TITLES = frozenset(
    {"transcript", "index", "readme", "episode", "captions", "subtitles", "untitled"}
)


def title_key(title: str | None) -> str | None:
    """`Anthropic's CPO | Mike Krieger` -> `anthropic s cpo mike krieger` (curly quotes
    too); None when the title says nothing that could tell one episode from another.
    Migration 0006 holds a frozen copy: a change here needs a migration too."""
    if not title:
        return None
    text = unicodedata.normalize("NFKC", title).translate(QUOTES).casefold()
    key = NOT_ALPHANUMERIC.sub(" ", text).strip()
    if not key or key in GENERIC_TITLES:
        return None
    return key


# Two sources of one conversation share most of their five-word runs even when transcribed
# apart (the seed and the archive's copy of it share 59%); two conversations that only share
# a title (the archive has 24 such files, their metadata copied from the wrong video) share
# 3% or less.
SHINGLE_WORDS = 5
SAME_CONVERSATION_SHARE = 0.3
# And be of about one length: the seed and its archive copy differ by 3%.
SAME_LENGTH_SHARE = 0.5
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def _shingles(texts: Iterable[str]) -> set[tuple[str, ...]]:
    words = WORD.findall(" ".join(texts).casefold())
    return {tuple(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


def same_conversation(one: Iterable[str], other: Iterable[str]) -> bool:
    """Whether two transcripts (their passages' texts) are of one conversation: most of the
    shorter one's five-word runs are in the longer one too."""
    first, second = _shingles(one), _shingles(other)
    if not first or not second:
        return False
    shorter, longer = sorted((len(first), len(second)))
    if shorter < SAME_LENGTH_SHARE * longer:
        return False  # a clip or a trailer of the episode is not the episode
    shared = len(first & second) / shorter
    return shared >= SAME_CONVERSATION_SHARE


def conversation_hash(passages: Iterable[tuple[str, str]]) -> str:
    """A fingerprint of who said what, in order, from (speaker, text) pairs: equal for two
    files that hold the same transcript under different front matter (the community archive
    files 5 conversations twice, under two titles and two videos). Migration 0007 holds a
    frozen copy: a change here needs a migration that fingerprints stored episodes again."""
    digest = hashlib.sha256()
    for speaker, text in passages:
        for part in (speaker, text):
            digest.update(" ".join(WORD.findall(part.casefold())).encode())
            digest.update(b"\n")
    return digest.hexdigest()
