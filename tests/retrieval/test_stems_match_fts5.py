"""The rerank's stemmer must stem as SQLite's FTS5 `porter` tokenizer does, or a passage
FTS5 matched would look to the rerank as if it lacked the word: checked word by word
against FTS5 itself, on every word of the real seed transcript."""

from __future__ import annotations

import re
import sqlite3

from bot.retrieval.porter import porter_stem
from tests.conftest import SEED


def _fts5_stems(words: list[str]) -> dict[str, str]:
    """Each word as FTS5's porter tokenizer indexes it."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE words USING fts5(word, tokenize='porter unicode61')")
    db.execute("CREATE VIRTUAL TABLE stems USING fts5vocab(words, 'instance')")
    db.executemany("INSERT INTO words(rowid, word) VALUES (?, ?)", enumerate(words, start=1))
    return {words[row - 1]: term for row, term in db.execute("SELECT doc, term FROM stems")}


def test_every_word_of_the_seed_stems_as_fts5_stems_it() -> None:
    words = sorted(set(re.findall(r"[a-z]+", SEED.read_text().lower())))
    truth = _fts5_stems(words)
    assert len(truth) == len(words) > 1500
    differ = {w: (porter_stem(w), truth[w]) for w in words if porter_stem(w) != truth[w]}
    assert differ == {}


def test_the_rules_people_notice() -> None:
    # Where Porter's later rules differ from the 1980 paper (logi -> log), FTS5 follows them.
    words = ["pricing", "priced", "analogy", "apologies", "committing", "generalization", "as"]
    truth = _fts5_stems(words)
    assert [porter_stem(w) for w in words] == [truth[w] for w in words]
    assert truth["pricing"] == truth["priced"] == "price"
