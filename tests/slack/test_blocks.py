"""Slack messages built from answers: escaped, within Slack's limits, nothing lost."""

from __future__ import annotations

import json

from bot.answering import Answer, Citation
from bot.retrieval.rerank import RankedPassage
from bot.slack.blocks import (
    FEEDBACK_ACTION,
    HELP_TEXT,
    MAX_BLOCKS,
    SECTION_LIMIT,
    answer_message,
    citation_source,
    feedback_value,
    focus_cleared,
    more_value,
    search_message,
    split_text,
    stream_text,
)
from db.search import SearchHit

VIDEO = "https://www.youtube.com/watch?v=DKrBGOFs0GY"


def _citation(position: int, quote: str = "We rebuilt the merge queue.", **kw: object) -> Citation:
    fields: dict[str, object] = {
        "episode_slug": "seed",
        "episode_title": "Anthropic's CPO",
        "position": position,
        "speaker": "Mike Krieger",
        "start_seconds": 754.0,
        "quote": quote,
    }
    fields.update(kw)
    return Citation(**fields)  # type: ignore[arg-type]


def _dump(data: object) -> str:
    return json.dumps(data, ensure_ascii=False)


def _texts(message: dict[str, object]) -> list[str]:
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message)
    return found


def test_answer_message_shows_asker_answer_sources_episode_and_buttons() -> None:
    answer = Answer(
        "Who is Boris?",
        "Here is what the episode says:",
        True,
        "offline",
        [_citation(23), _citation(53, start_seconds=None)],
    )
    message = answer_message(answer, asker="U012ABCDEF", answer_id=7)
    blocks = message["blocks"]
    rendered = _dump(blocks)
    assert "<@U012ABCDEF> asked: _Who is Boris?_" in rendered
    assert "Mike Krieger · turn 23 · 12:34" in rendered
    assert 'Mike Krieger · turn 53"' in rendered  # no timestamp when the source has none
    assert "From _Anthropic's CPO_" in rendered
    assert blocks[-1]["type"] == "context_actions"
    [buttons] = blocks[-1]["elements"]
    assert buttons["type"] == "feedback_buttons" and buttons["action_id"] == FEEDBACK_ACTION
    sides = (buttons["positive_button"], buttons["negative_button"])
    assert [b["text"]["text"] for b in sides] == ["Helpful", "Not helpful"]
    assert [feedback_value(b["value"]) for b in sides] == [(True, 7), (False, 7)]
    assert message["text"]


def test_only_a_feedback_buttons_own_value_is_read() -> None:
    assert feedback_value("helpful:12") == (True, 12)
    assert feedback_value("not_helpful:3") == (False, 3)
    for value in (
        None,
        7,
        "7",
        "helpful:",
        "helpful:-1",
        "great:4",
        "helpful:1:2",
        "helpful:\u0661",
    ):
        assert feedback_value(value) is None


def test_user_and_transcript_text_cannot_ping_or_fake_mentions() -> None:
    hostile = "<!channel> <!here> <!everyone> <@U999> <https://evil.example|click> & more"
    answer = Answer(
        hostile,
        hostile,
        True,
        "offline",
        [_citation(1, quote=hostile, speaker="<!here>", episode_title="<!channel>")],
    )
    message = answer_message(answer, asker="<!everyone>")
    for text in [*_texts(message), message["text"]]:
        for ping in ("<!channel>", "<!here>", "<!everyone>", "<@U999>", "<https://"):
            assert ping not in text
    assert "&lt;!channel&gt;" in _dump(message)


def test_long_answers_split_into_sections_without_losing_words() -> None:
    words = [f"word{i}" for i in range(3000)]
    text = " ".join(words)  # about 26,000 characters
    pieces = split_text(text)
    assert all(len(piece) <= SECTION_LIMIT for piece in pieces)
    assert " ".join(pieces).split() == words


def test_messages_stay_within_fifty_blocks_and_say_what_was_left_out() -> None:
    answer = Answer("q", "a " * 20_000, True, "offline", [_citation(n) for n in range(100)])
    message = answer_message(answer, asker="U1", answer_id=1)
    blocks = message["blocks"]
    assert len(blocks) <= MAX_BLOCKS
    assert all(len(t) <= SECTION_LIMIT for t in _texts(message))
    assert "more sources not shown" in _dump(blocks)
    assert blocks[-1]["type"] == "context_actions"
    assert len(message["text"]) <= 3000


def test_citations_from_several_episodes_name_their_episode() -> None:
    answer = Answer(
        "q", "a", True, "offline", [_citation(1), _citation(2, episode_title="Another episode")]
    )
    rendered = _dump(answer_message(answer)["blocks"])
    assert "_Another episode_" in rendered and "From _" not in rendered


def test_the_time_of_a_quote_links_to_that_moment_of_the_video() -> None:
    linked = citation_source(_citation(23, episode_url=VIDEO))
    # Slack's link syntax, with & escaped inside the URL as Slack asks.
    assert linked == (
        "Mike Krieger · turn 23 · <https://www.youtube.com/watch?v=DKrBGOFs0GY&amp;t=754s|12:34>"
    )
    # No video (or one we cannot seek into): the time, unlinked.
    assert citation_source(_citation(23)) == "Mike Krieger · turn 23 · 12:34"
    page = "https://podcasts.example/ep?id=1&x=<!here>"
    assert citation_source(_citation(23, episode_url=page)) == "Mike Krieger · turn 23 · 12:34"
    assert citation_source(_citation(23, episode_url=VIDEO, start_seconds=None)) == (
        "Mike Krieger · turn 23"
    )


def test_library_wide_answers_name_the_episode_of_every_quote() -> None:
    answer = Answer("q", "a", True, "offline", [_citation(1), _citation(2)])
    scoped = _dump(answer_message(answer)["blocks"])
    assert "From _Anthropic's CPO_" in scoped and "· _Anthropic's CPO_" not in scoped
    across = _dump(answer_message(answer, library_wide=True)["blocks"])
    assert across.count("turn 1 · 12:34 · _Anthropic's CPO_") == 1
    assert across.count("· _Anthropic's CPO_") == 2 and "From _" not in across


def _hit(position: int, url: str | None, start: float | None = 754.0) -> RankedPassage:
    hit = SearchHit(
        segment_id=position,
        episode_slug="seed",
        episode_title="Anthropic's CPO",
        position=position,
        part=0,
        speaker="Mike Krieger",
        start_seconds=start,
        kind="content",
        text="We rebuilt the merge queue.",
        relevance=1.0,
        episode_url=url,
    )
    return RankedPassage(hit=hit, score=1.0, coverage=1.0)


def test_search_results_link_their_moment() -> None:
    message = search_message(
        "merge queue", [_hit(21, VIDEO), _hit(22, None), _hit(23, VIDEO, None)]
    )
    text = message["blocks"][0]["text"]["text"]
    assert "turn 21 · <https://www.youtube.com/watch?v=DKrBGOFs0GY&amp;t=754s|12:34> ·" in text
    assert "turn 22 · 12:34 ·" in text
    assert "turn 23 · _Anthropic's CPO_" in text


def test_help_and_use_all_say_how_to_ask_across_the_library() -> None:
    assert "`/episode use all`" in HELP_TEXT
    assert focus_cleared(303)["text"].startswith("This channel now asks across all 303 episodes.")
    assert "the one episode" in focus_cleared(1)["text"]
    assert "empty" in focus_cleared(0)["text"]
    assert focus_cleared(1)["response_type"] == "ephemeral"


def test_streamed_text_cannot_ping_or_fake_mentions() -> None:
    hostile = "<!channel> <@U999> <https://evil.example|click> & more"
    streamed = stream_text(hostile)
    for ping in ("<!channel>", "<@U999>", "<https://"):
        assert ping not in streamed
    assert streamed.startswith("&lt;!channel&gt;")


def test_only_a_more_buttons_own_value_is_read() -> None:
    assert more_value('{"words": "pricing", "page": 2}') == ("pricing", 2)
    for value in (
        None,
        "2",
        "{",
        "[]",
        '{"words": 1, "page": 2}',
        '{"words": "", "page": 0}',
        '{"words": "", "page": true}',
        '{"words": "", "page": 10000000}',
    ):
        assert more_value(value) is None
