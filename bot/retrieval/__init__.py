"""Retrieval: a question -> ranked transcript passages, in one episode or the whole library.

The front door is `retrieve()`; the rest are its steps: query terms (words, query),
library-wide candidates, episode evidence, the rerank and the answers host questions lead
to (answers.py)."""

from bot.retrieval.search import EmptyQuery, OnlyCommonWords, UnknownEpisode, retrieve

__all__ = ["EmptyQuery", "OnlyCommonWords", "UnknownEpisode", "retrieve"]
