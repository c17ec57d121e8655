"""Library-wide retrieval: the episode a question is about wins over stray mentions
elsewhere, and an answer is found even when only the question before it names the topic."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.ingest.pipeline import ingest_paths
from bot.retrieval import retrieve
from bot.retrieval.query import term_groups
from bot.retrieval.rerank import rerank
from db.search import SearchHit

FILLER = (
    "We talked about hiring, planning and roadmaps, and how teams decide what to build "
    "next quarter when every stakeholder wants something different."
)


def _episode(folder: Path, slug: str, title: str, guest: str, turns: list[tuple[str, str]]) -> None:
    lines = [
        "---",
        f"guest: {guest}",
        f"title: '{title}'",
        f"youtube_url: https://www.youtube.com/watch?v={slug[:11]}",
        "---",
        "",
        f"# {title}",
        "",
        "## Transcript",
        "",
    ]
    for number, (speaker, text) in enumerate(turns):
        lines += [f"{speaker} (00:{number:02d}:00):", text, ""]
    (folder / slug).mkdir()
    (folder / slug / "transcript.md").write_text("\n".join(lines))


@pytest.fixture
def library(session_factory: sessionmaker[Session], tmp_path: Path) -> Session:
    archive = tmp_path / "archive"
    archive.mkdir()
    host = "Lenny Rachitsky"
    # The news-app episode: the app comes up again and again, and the answer about how
    # people took its shutdown never says the app's name or "react".
    _episode(
        archive,
        "nora-news",
        "Why we shut down our news app | Nora Quill",
        "Nora Quill",
        [
            (host, "Nora, you built Pressly, the news app everyone loved."),
            ("Nora Quill", "Pressly started as a side project about reading the news."),
            (host, "What was hard about growing Pressly?"),
            ("Nora Quill", "Pressly never spread by word of mouth, and mobile sites got worse."),
            (host, "How did people react when you shut down Pressly?"),
            (
                "Nora Quill",
                "Honestly people were kind. Readers wrote thank-you notes, other "
                "founders told us it freed them to stop their own projects sooner, and a "
                "few asked for the code so they could keep reading that way.",
            ),
            (host, "What would you do differently with Pressly?"),
            ("Nora Quill", "I would have tested Pressly sharing features in the first month."),
        ],
    )
    # A stray mention elsewhere: a short passage holding the same words.
    _episode(
        archive,
        "omar-growth",
        "Hiring for early teams | Omar Vale",
        "Omar Vale",
        [
            (host, "Omar, welcome."),
            ("Omar Vale", "People react to Pressly shut down news differently, I guess."),
            ("Omar Vale", FILLER),
        ],
    )
    for n in range(4):
        _episode(
            archive,
            f"filler-{n}",
            f"Planning well, part {n} | Pat Filler",
            "Pat Filler",
            [(host, FILLER), ("Pat Filler", FILLER + " People react to plans.")],
        )
    results = ingest_paths(session_factory, [archive])
    assert not [r for r in results if r.failed]
    with session_factory() as session:
        yield session


def test_the_episode_about_the_topic_wins_over_a_stray_mention(library: Session) -> None:
    ranked = retrieve(library, "Why was Pressly shut down?", limit=3)
    assert ranked[0].hit.episode_slug == "nora-news"


def test_an_answer_is_found_by_the_question_it_answers(library: Session) -> None:
    ranked = retrieve(library, "How did people react when Pressly was shut down?", limit=5)
    found = [(r.hit.episode_slug, r.hit.position) for r in ranked]
    # Turn 6 is the answer, and says only "people" of the question; turn 5, the host's
    # question, holds every word and lends its score to the answer after it: the answer
    # first, the question still among the best.
    assert found[0] == ("nora-news", 6), found
    assert ("nora-news", 5) in found[:3], found


def _hit(segment_id: int, text: str) -> SearchHit:
    return SearchHit(
        segment_id, "ep", "Episode", segment_id, 0, "Guest", None, "content", text, 1.0
    )


def test_words_said_in_the_turn_or_its_question_count_towards_a_passage() -> None:
    hits = [_hit(1, "people were kind about it"), _hit(2, "people were kind about the launch")]
    groups = term_groups(["people", "react", "pressly"])
    # Passage 1's turn began with the host asking how people reacted to Pressly.
    nearby = {1: [True, True, True], 2: [True, False, False]}
    ranked = rerank(
        hits,
        groups,
        kind_weight=lambda kind: 1.0,
        is_named_speaker=lambda speaker: False,
        in_context=lambda hit: nearby[hit.segment_id],
    )
    assert [r.hit.segment_id for r in ranked] == [1, 2]
    assert ranked[0].score > ranked[1].score


def test_the_episode_index_follows_every_change_to_the_library(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    from bot.retrieval.evidence import library_index

    _episode(tmp_path, "ada", "Shipping small | Ada Example", "Ada Example", [("Ada", FILLER)])
    path = tmp_path / "ada" / "transcript.md"
    ingest_paths(session_factory, [path])
    with session_factory() as session:
        before = library_index(session)
        assert "ship" in next(iter(before.about.values()))  # Porter stems, as FTS5's
    # The newest episode replaced: SQLite may give it the same id and the same passages;
    # only the title differs, and the index must see it.
    path.write_text(path.read_text().replace("Shipping small", "Pricing boldly"))
    [replaced] = ingest_paths(session_factory, [path], replace=True)
    assert replaced.status == "replaced"
    with session_factory() as session:
        after = library_index(session)
        words = next(iter(after.about.values()))
        assert "price" in words and "ship" not in words


def test_an_episode_without_passages_is_never_searched(
    library: Session, session_factory: sessionmaker[Session]
) -> None:
    from sqlalchemy import text

    with session_factory.begin() as session:
        session.execute(
            text(
                "INSERT INTO episodes (slug, title, source_format, content_hash, turn_count) "
                "VALUES ('empty', 'Pressly Pressly Pressly', 'plain', 'x', 0)"
            )
        )
    ranked = retrieve(library, "Why was Pressly shut down?", limit=3)
    assert ranked and all(r.hit.episode_slug != "empty" for r in ranked)


def test_the_episode_prior_alone_beats_a_stray_mention(
    library: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.retrieval import search as retrieval

    monkeypatch.setattr(retrieval, "EPISODES_SEARCHED", 0)
    assert retrieve(library, "Why was Pressly shut down?", limit=3)[0].hit.episode_slug == (
        "nora-news"
    )
    # Without it too, the stray mention (a shorter passage with the same words) wins.
    monkeypatch.setattr(retrieval, "EPISODE_PRIOR", 0)
    assert retrieve(library, "Why was Pressly shut down?", limit=3)[0].hit.episode_slug == (
        "omar-growth"
    )


def test_the_best_episodes_are_searched_with_the_common_words_too(
    library: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Make every word but "shut" common, as "people" is across a real archive: the library-
    # wide search then matches "shut" alone, and the answer (which says only "people")
    # is found by searching its episode with every word.
    from bot.retrieval import answers
    from bot.retrieval import candidates as library_search
    from bot.retrieval import search as retrieval

    monkeypatch.setattr(library_search, "RARE_TERM_CAP", 3)
    question = "How did people react when Pressly was shut down?"
    found = [(r.hit.episode_slug, r.hit.position) for r in retrieve(library, question, limit=5)]
    assert ("nora-news", 6) in found
    # Without that search, nor the two other ways it is found (its host's question lending
    # it its score, and passages found by the rare words they say together), it is missed.
    monkeypatch.setattr(retrieval, "EPISODES_SEARCHED", 0)
    monkeypatch.setattr(library_search, "CO_OCCURRING", 0)
    monkeypatch.setattr(answers, "LOOKED_AT", 0)
    found = [(r.hit.episode_slug, r.hit.position) for r in retrieve(library, question, limit=5)]
    assert ("nora-news", 6) not in found
