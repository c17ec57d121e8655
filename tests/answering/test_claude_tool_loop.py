"""Claude searching the library for itself, through the real anthropic SDK against the
loopback stand-in: tool_use -> tool_result with search_result blocks -> a cited answer;
bad tool input is a tool error; a model that keeps calling tools is stopped at the bound;
a citation of a search result never given is dropped; an outage mid-loop falls back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.answering import AnswerRequest, Exchange
from bot.answering.claude.answerer import UNAVAILABLE, ClaudeAnswerer
from bot.answering.claude.client import build_client
from bot.answering.claude.tool_loop import MAX_ROUNDS, OUT_OF_ROUNDS
from bot.answering.claude.tools import TOOLS
from bot.answering.offline import OfflineAnswerer
from bot.ingest.pipeline import ingest_file
from bot.services.asking import ask
from bot.services.library import Library
from bot.services.library_reader import LibraryReader
from bot.services.threads import answer_in_thread, thread_posted
from db.models import AnswerTrace
from db.traces import tool_calls_of
from tests.answering.watching import Heard
from tests.conftest import SEED_SLUG
from tests.fakes.anthropic_api import AnthropicStandIn

KEY = "sk-ant-api03-tool-loop-test-key-2b9c"
QUESTION = "What share of Claude Code is written by Claude?"
GARDEN = """\
Ann: What should a gardener plant first in a new bed?
Bo: Plant beans first. Beans fix nitrogen, so the tomatoes after them grow strong.
Ann: And how often should the bed be watered?
Bo: Water deeply twice a week rather than a little every day.
"""


@pytest.fixture
def claude_api() -> Iterator[AnthropicStandIn]:
    stand_in = AnthropicStandIn(api_key=KEY).start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def two_episodes(seeded: sessionmaker[Session], tmp_path: Path) -> Library:
    """The seed and a small garden episode."""
    garden = tmp_path / "garden-hour.txt"
    garden.write_text(GARDEN)
    assert ingest_file(seeded, garden).status == "ingested"
    return Library(seeded)


def _answerer(api: AnthropicStandIn, **options: Any) -> ClaudeAnswerer:
    client = build_client(KEY, api.url, timeout=httpx2.Timeout(2.0, connect=1.0))
    return ClaudeAnswerer(client, "claude-sonnet-5-5", OfflineAnswerer(), **options)


def _sent(api: AnthropicStandIn) -> list[dict[str, Any]]:
    return [r.body for r in api.requests_to("/v1/messages")]


def _tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        block
        for message in body["messages"]
        if isinstance(message["content"], list)
        for block in message["content"]
        if block["type"] == "tool_result"
    ]


def _last_trace(library: Library) -> AnswerTrace:
    with library.sessions() as session:
        return session.query(AnswerTrace).order_by(AnswerTrace.id.desc()).first()  # type: ignore[return-value]


def test_claude_cites_a_passage_only_its_own_search_found(
    two_episodes: Library, claude_api: AnthropicStandIn
) -> None:
    # Nothing up front: whatever is cited must come from the tool result.
    question = "What should a gardener plant first in a new bed?"
    request = AnswerRequest(question, [], library_wide=True, library=LibraryReader(two_episodes))
    answer = _answerer(claude_api).answer(request)
    first, second = _sent(claude_api)
    assert [t["name"] for t in first["tools"]] == [t["name"] for t in TOOLS]
    assert first["tool_choice"] == {"type": "auto"}
    [result] = _tool_results(second)
    given = [b for b in result["content"] if b["type"] == "search_result"]
    assert given and given[0]["source"].startswith("garden-hour#turn-")
    assert all(b["citations"] == {"enabled": True} and b["title"] for b in given)
    assert answer.answerer == "claude" and answer.covered
    assert {c.turn_id for c in answer.citations} == {"garden-hour#turn-1", "garden-hour#turn-2"}
    assert any("Plant beans first" in c.quote for c in answer.citations)


def test_the_trace_records_each_search_and_every_request(
    library: Library, claude_api: AnthropicStandIn
) -> None:
    heard: list[str] = []
    claude_api.tool_calls_next(("search_transcripts", {"query": "merge queue", "limit": 10}))
    answer = ask(library, QUESTION, _answerer(claude_api), watcher=Heard(heard))
    sent = _sent(claude_api)
    [result] = _tool_results(sent[1])
    given = [b["source"] for b in result["content"] if b["type"] == "search_result"]
    assert given and heard == ["Searching for “merge queue”"]
    row = _last_trace(library)
    [call] = tool_calls_of(row)
    assert call.tool == "search_transcripts" and call.input == {"query": "merge queue", "limit": 10}
    assert list(call.results) == given and call.error is None
    assert row.round_trips == 2 and set(given) <= set(json.loads(row.passages))
    # Every citation is of a passage some search gave, and the usage of both requests counts.
    assert {c.turn_id for c in answer.citations} <= {
        p.split(".")[0] for p in json.loads(row.passages)
    }
    recorded = [r.usage for r in claude_api.requests_to("/v1/messages")]
    assert row.input_tokens == sum(u["input_tokens"] for u in recorded if u)
    assert row.output_tokens == sum(u["output_tokens"] for u in recorded if u)


def test_a_question_on_one_episode_sends_the_episode_and_offers_no_tools(
    library: Library, claude_api: AnthropicStandIn
) -> None:
    ask(library, QUESTION, _answerer(claude_api), episode=SEED_SLUG)
    [sent] = _sent(claude_api)
    assert "tools" not in sent and sent["messages"][0]["content"][0]["type"] == "document"


def test_bad_tool_input_is_a_tool_error_and_the_answer_still_comes(
    two_episodes: Library, claude_api: AnthropicStandIn
) -> None:
    claude_api.tool_calls_next(
        ("read_turns", {"episode": "no-such-episode", "start_turn": 1, "end_turn": 3}),
        ("search_transcripts", {"query": "?!"}),
        ("search_transcripts", {"episode": "garden-hour"}),
        ("plant_tomatoes", {}),
        ("list_episodes", {"contains": "garden"}),
        ("read_turns", {"episode": "garden-hour", "start_turn": 1, "end_turn": 2}),
    )
    answer = ask(two_episodes, QUESTION, _answerer(claude_api))
    results = _tool_results(_sent(claude_api)[1])
    errors = [r for r in results if r.get("is_error")]
    assert len(errors) == 4
    said = [r["content"][0]["text"] for r in errors]
    assert "no-such-episode" in said[0] and "list_episodes" in said[0]
    assert "no words to search for" in said[1]
    assert "`query` is required" in said[2]
    assert "no tool named 'plant_tomatoes'" in said[3]
    listing, turns = (r for r in results if not r.get("is_error"))
    assert listing["content"][0]["text"].startswith("garden-hour: ")
    assert [b["source"] for b in turns["content"]] == ["garden-hour#turn-1", "garden-hour#turn-2"]
    assert answer.answerer == "claude" and answer.citations
    calls = tool_calls_of(_last_trace(two_episodes))
    assert [c.error is not None for c in calls] == [True, True, True, True, False, False]


def test_a_model_that_keeps_searching_is_stopped_and_made_to_answer(
    library: Library, claude_api: AnthropicStandIn
) -> None:
    claude_api.keep_calling_tools()
    answer = ask(library, QUESTION, _answerer(claude_api))
    sent = _sent(claude_api)
    assert len(sent) == MAX_ROUNDS + 1
    assert all(body["tool_choice"] == {"type": "auto"} for body in sent[:-1])
    assert sent[-1]["tool_choice"] == {"type": "none"}
    assert sent[-1]["messages"][-1]["content"][-1] == {"type": "text", "text": OUT_OF_ROUNDS}
    assert answer.answerer == "claude" and answer.covered
    row = _last_trace(library)
    assert row.round_trips == MAX_ROUNDS + 1 and len(tool_calls_of(row)) == MAX_ROUNDS


def test_past_the_time_budget_pending_calls_are_refused_and_claude_answers(
    library: Library, claude_api: AnthropicStandIn
) -> None:
    answer = ask(library, QUESTION, _answerer(claude_api, tool_budget_seconds=0.0))
    _, last = _sent(claude_api)
    [refused] = _tool_results(last)
    assert refused["is_error"] and refused["content"][0]["text"] == OUT_OF_ROUNDS
    assert last["tool_choice"] == {"type": "none"}
    # It answers from the passages it was given up front.
    assert answer.answerer == "claude" and answer.citations
    assert tool_calls_of(_last_trace(library)) == []


def test_a_citation_of_a_search_result_never_given_is_dropped(
    two_episodes: Library, claude_api: AnthropicStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    claude_api.bad_citations_next()
    question = "What should a gardener plant first in a new bed?"
    request = AnswerRequest(question, [], library_wide=True, library=LibraryReader(two_episodes))
    answer = _answerer(claude_api).answer(request)
    # Two good citations of the search's results; the three bad ones (an index past every
    # search result given, a block past the end, words the passage lacks) are dropped.
    assert {c.turn_id for c in answer.citations} == {"garden-hour#turn-1", "garden-hour#turn-2"}
    assert answer.text.count("[") == 2
    assert caplog.text.count("dropped a citation") == 3


def test_an_outage_in_the_middle_of_the_loop_gives_the_offline_answer(
    library: Library, claude_api: AnthropicStandIn
) -> None:
    def fail_from_now(_: str) -> None:
        claude_api.fail_next("500", times=10)

    answer = ask(
        library,
        QUESTION,
        _answerer(claude_api, budget_seconds=1.0),
        watcher=Heard(fail=fail_from_now),
    )
    assert answer.answerer == "offline" and answer.notice == UNAVAILABLE
    assert answer.citations  # the quoted answer, in Claude's place
    row = _last_trace(library)
    assert row.answerer == "offline (fallback)" and row.fallback_reason


def test_a_thread_follow_up_runs_the_loop_with_the_thread(
    library: Library, claude_api: AnthropicStandIn
) -> None:
    history = [Exchange("Who is Boris?", "Boris leads Claude Code [1].")]
    answer = ask(library, "what did he build first?", _answerer(claude_api), history=history)
    first = _sent(claude_api)[0]
    assert first["messages"][0]["content"][0]["text"] == "Who is Boris?"
    assert "tools" in first and answer.answerer == "claude"


def test_a_library_wide_follow_up_is_given_what_the_thread_cited(
    two_episodes: Library, claude_api: AnthropicStandIn
) -> None:
    answerer = _answerer(claude_api)
    first = answer_in_thread(
        two_episodes,
        answerer,
        channel="C0TOOLS",
        question="What should a gardener plant first in a new bed?",
        user_id="U1",
        thread_ts=None,
    )
    assert first.library_wide and first.answer.citations
    thread_posted(two_episodes, first.conversation_id, "1700000000.000100")
    cited = [c.turn_id for c in first.answer.citations]
    before = len(_sent(claude_api))
    answer_in_thread(
        two_episodes,
        answerer,
        channel="C0TOOLS",
        question="Why does that order help the tomatoes grow?",
        user_id="U1",
        thread_ts="1700000000.000100",
    )
    follow_up = _sent(claude_api)[before]
    question_message = follow_up["messages"][-1]["content"]
    given = [b["source"] for b in question_message if b["type"] == "search_result"]
    assert given[: len(cited)] == cited
    row = _last_trace(two_episodes)
    assert set(cited) <= set(json.loads(row.passages))


def test_a_progress_listener_that_fails_costs_nothing(
    library: Library, claude_api: AnthropicStandIn
) -> None:
    def broken(_: str) -> None:
        raise ConnectionError("status update refused")

    answer = ask(library, QUESTION, _answerer(claude_api), watcher=Heard(fail=broken))
    assert answer.answerer == "claude" and answer.covered
    assert len(tool_calls_of(_last_trace(library))) == 1
