"""The quote rules, checked from the outside: what a reader of a quote and its passage can
see, written apart from the picker so that a picker breaking a rule fails."""

from __future__ import annotations

import re

MAX_QUOTE_WORDS = 40
CLOSERS = "[\"\u201d\u2019')]*"  # closing quotes and brackets after a full stop
SENTENCE_END = re.compile(f"[.!?\u2026]{CLOSERS}$")
STOPS = (",", ";", ":", "-", "\u2013", "\u2014")  # comma, ..., en and em dash
CLAUSE_OPENERS = ("and", "so", "but", "because", "which", "then")


def _sentence_around(text: str, start: int, end: int) -> str:
    """The sentence of `text` (between sentence ends) holding text[start:end]."""
    before = max((m.end() for m in re.finditer(f"[.!?]{CLOSERS}\\s", text[:start])), default=0)
    after = re.search(f"[.!?]{CLOSERS}(\\s|$)", text[end:])
    return text[before : end + (after.end() if after else len(text) - end)]


def check_quote(quote: str, passage: str) -> None:
    """Assert the quote is a verbatim run of whole sentences of the passage (or of whole
    clauses, inside a sentence too long to quote whole), outside any reported quotation,
    not ending on a comma, at most about two sentences long."""
    core = quote.strip("…")
    assert core, quote
    assert core in passage, (quote, passage[:200])
    start = passage.index(core)
    end = start + len(core)
    before, after = passage[:start], passage[end:]
    assert len(core.split()) <= MAX_QUOTE_WORDS, quote
    assert not core.endswith(STOPS), quote
    # Not inside a quotation: every quotation opened before the quote is closed before it.
    assert before.count('"') % 2 == 0, (quote, before[-120:])
    assert before.count("“") == before.count("”"), (quote, before[-120:])
    # Its own quotation marks are balanced: it neither opens nor leaves one.
    assert core.count('"') % 2 == 0 and core.count("“") == core.count("”"), quote
    long_sentence = len(_sentence_around(passage, start, end).split()) > MAX_QUOTE_WORDS
    starts_sentence = not before.strip() or re.search(f"[.!?]{CLOSERS}\\s+$", before)
    if not starts_sentence:
        # Only a sentence too long to quote whole is quoted from a clause: after a comma or
        # dash, at a word that opens a clause, or after one ("and then" -> "then ...").
        previous = before.split()[-1] if before.split() else ""
        clause = previous.endswith(STOPS) or (
            previous.lower() in CLAUSE_OPENERS
            or core.split()[0].lower() in CLAUSE_OPENERS
            or re.match(r"(?i)(i think|i believe|the |you have to|you need to|my advice)", core)
        )
        assert long_sentence and clause, (quote, before[-80:])
    ends_sentence = SENTENCE_END.search(core) or not after.strip()
    if not ends_sentence:
        following = after.split()[0].lower() if after.split() else ""
        assert long_sentence, (quote, after[:80])
        assert (
            following in CLAUSE_OPENERS
            or after.startswith(STOPS)
            or after.lstrip().startswith(STOPS[3:])
            or re.match(r"(?i)\s*(i think|i believe|the |you have to|you need to)", after)
        ), (quote, after[:80])
