"""Cut long passages into pieces of about one spoken paragraph.

A 900-word turn covers several topics; ranked whole, bm25's length normalisation buries
the one sentence that answers the question. Pieces of ~100 words rank on what they say.
"""

from __future__ import annotations

import re

SENTENCE = re.compile(r"(?<=[.!?])\s+")
TARGET_WORDS = 150
MAX_WORDS = 240  # unpunctuated speech-to-text has no sentences: cut it by word count


def _sentences(text: str) -> list[list[str]]:
    pieces: list[list[str]] = []
    for sentence in SENTENCE.split(text):
        words = sentence.split()
        while len(words) > MAX_WORDS:
            pieces.append(words[:TARGET_WORDS])
            words = words[TARGET_WORDS:]
        if words:
            pieces.append(words)
    return pieces


def chunk(text: str) -> list[str]:
    """Consecutive pieces of `text` of roughly TARGET_WORDS words, cut between sentences
    where there are sentences; a short remainder joins the piece before it."""
    chunks: list[list[str]] = []
    current: list[str] = []
    for words in _sentences(text):
        if current and len(current) + len(words) > MAX_WORDS:
            chunks.append(current)
            current = []
        current = current + words
        if len(current) >= TARGET_WORDS:
            chunks.append(current)
            current = []
    if current:
        if (
            chunks
            and len(current) < TARGET_WORDS // 3
            and len(chunks[-1]) + len(current) <= MAX_WORDS
        ):
            chunks[-1] = chunks[-1] + current
        else:
            chunks.append(current)
    return [" ".join(words) for words in chunks]
