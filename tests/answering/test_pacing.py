"""Pacing: how many requests to Anthropic are open at once, through the real SDK against the
loopback stand-in; a 429 halves the limit and a success grows it back, so rate limits slow
answers down instead of failing them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import anthropic
import httpx2
import pytest

from bot.answering.claude.client import Pacing, build_client
from tests.fakes.anthropic_api import AnthropicStandIn

KEY = "sk-ant-api03-pacing-test-key-9d1f"


@pytest.fixture
def claude_api() -> Iterator[AnthropicStandIn]:
    stand_in = AnthropicStandIn(api_key=KEY, timeout_seconds=0.5).start()
    yield stand_in
    stand_in.stop()


def _ask(client: anthropic.Anthropic) -> str:
    message = client.messages.create(
        model="claude-sonnet-5-5",
        max_tokens=50,
        messages=[{"role": "user", "content": "Who is Boris?"}],
    )
    return message.stop_reason or ""


def test_no_more_requests_are_open_than_the_limit(claude_api: AnthropicStandIn) -> None:
    pacing = Pacing(most=2)
    client = build_client(KEY, claude_api.url, timeout=httpx2.Timeout(5.0), pacing=pacing)
    claude_api.fail_next("timeout", times=6)  # each answer takes half a second
    started = time.monotonic()
    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(lambda _: _ask(client), range(6))) == ["end_turn"] * 6
    # Six half-second answers, two at a time: three rounds, not one.
    assert time.monotonic() - started >= 1.4


def test_a_429_halves_the_limit_and_successes_grow_it_back(
    claude_api: AnthropicStandIn,
) -> None:
    pacing = Pacing(most=8, least=2)
    client = build_client(KEY, claude_api.url, timeout=httpx2.Timeout(5.0), pacing=pacing)
    claude_api.fail_next("429", times=2, retry_after=0)
    assert _ask(client) == "end_turn"  # retried by the SDK, answered
    # Two 429s: 8 -> 4 -> 2; then the success that answered: 3.
    assert pacing.limit == 3
    for _ in range(10):
        _ask(client)
    assert pacing.limit == 8
