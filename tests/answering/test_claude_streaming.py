"""Claude's answer as it is written: the watcher sees the text grow into exactly the text
the finished answer has, markers included; a library-wide answer's line before its search
is never shown as the answer."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import httpx2
import pytest

from bot.answering.claude.answerer import UNAVAILABLE, ClaudeAnswerer
from bot.answering.claude.client import build_client
from bot.answering.offline import OfflineAnswerer
from bot.services.asking import ask
from bot.services.library import Library
from tests.answering.watching import Heard
from tests.conftest import SEED_SLUG
from tests.fakes.anthropic_api import AnthropicStandIn

KEY = "sk-ant-api03-streaming-test-key-7d1e"
QUESTION = "What share of Claude Code is written by Claude?"


@pytest.fixture
def claude_api() -> Iterator[AnthropicStandIn]:
    stand_in = AnthropicStandIn(api_key=KEY).start()
    yield stand_in
    stand_in.stop()


def _answerer(api: AnthropicStandIn, **options: Any) -> ClaudeAnswerer:
    client = build_client(KEY, api.url, timeout=httpx2.Timeout(2.0, connect=1.0))
    return ClaudeAnswerer(client, "claude-sonnet-5-5", OfflineAnswerer(), **options)


def _grows(texts: list[str]) -> bool:
    return all(later.startswith(earlier) for earlier, later in pairwise(texts))


def test_the_text_grows_into_the_finished_answer(
    library: Library, claude_api: AnthropicStandIn
) -> None:
    heard = Heard()
    answer = ask(library, QUESTION, _answerer(claude_api), episode=SEED_SLUG, watcher=heard)
    assert answer.answerer == "claude" and "[1]" in answer.text
    assert heard.scopes == [answer.citations[0].episode_title]
    assert len(heard.texts) > 3  # piece by piece, not all at the end
    assert _grows(heard.texts) and heard.texts[-1] == answer.text
    # A marker shows the moment its claim is written, before the answer ends.
    assert any("[1]" in text for text in heard.texts[:-1])


def test_a_library_answer_never_shows_its_line_before_a_search(
    library: Library, claude_api: AnthropicStandIn
) -> None:
    heard = Heard()
    answer = ask(library, QUESTION, _answerer(claude_api), watcher=heard)
    assert heard.scopes == [None] and heard.searches  # it searched first
    assert heard.texts and heard.texts[-1] == answer.text
    assert not any("Let me search" in text for text in heard.texts)


def test_an_outage_midway_ends_with_the_offline_answer(
    library: Library, claude_api: AnthropicStandIn
) -> None:
    heard = Heard()
    claude_api.fail_next("error_midway", times=5)
    answer = ask(
        library,
        QUESTION,
        _answerer(claude_api, budget_seconds=1.0),
        episode=SEED_SLUG,
        watcher=heard,
    )
    assert heard.texts  # part of Claude's answer was shown
    assert answer.answerer == "offline" and answer.notice == UNAVAILABLE
    assert heard.texts[-1] != answer.text  # the surface must replace what it showed
