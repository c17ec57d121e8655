"""Claude's prose is never shown as if cited when nothing backs it: when every citation of
its reply is dropped, or it cites nothing yet answers, the offline quotes are given instead
with one line saying why, and the trace records the reason. A brief "the transcript does
not cover this" stays as it is.

The real anthropic SDK against the loopback stand-in; what the stand-in streams is altered
on the way back by a test transport (its citations quote words the passage lacks, or are
left out), as a model that cites badly would."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import httpx2
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.answering.claude.answerer import UNAVAILABLE, UNBACKED, ClaudeAnswerer
from bot.answering.claude.citations import reads_as_not_covered
from bot.answering.offline import OfflineAnswerer
from bot.services.asking import ask
from bot.services.library import Library
from db.models import AnswerTrace
from tests.conftest import SEED_SLUG
from tests.fakes.anthropic_answers import NEVER_SAID, NOTHING_FOUND
from tests.fakes.anthropic_api import AnthropicStandIn

KEY = "sk-ant-api03-unbacked-test-key-2b7c"
MODEL = "claude-sonnet-5-5"
QUESTION = "What share of Claude Code is written by Claude?"
Rewrite = Callable[[dict[str, Any]], dict[str, Any] | None]


class RewrittenStream(httpx2.BaseTransport):
    """Passes requests to the stand-in; each server-sent event of a streamed reply goes
    through `rewrite` (None drops the event)."""

    def __init__(self, rewrite: Rewrite) -> None:
        self._inner = httpx2.HTTPTransport()
        self._rewrite = rewrite

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = self._inner.handle_request(request)
        if "text/event-stream" not in response.headers.get("content-type", ""):
            return response
        response.read()
        events = []
        for chunk in response.text.split("\n\n"):
            name, _, data = chunk.partition("\ndata: ")
            if not data:
                continue
            event = self._rewrite(json.loads(data))
            if event is not None:
                events.append(f"{name}\ndata: {json.dumps(event)}\n\n")
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx2.Response(response.status_code, headers=headers, content="".join(events))

    def close(self) -> None:
        self._inner.close()


def _citation(event: dict[str, Any]) -> dict[str, Any] | None:
    delta = event.get("delta") or {}
    return delta.get("citation") if delta.get("type") == "citations_delta" else None


def misquoted(event: dict[str, Any]) -> dict[str, Any]:
    """Every citation quotes words its passage never says."""
    if (citation := _citation(event)) is not None:
        citation["cited_text"] = NEVER_SAID
    return event


def uncited(event: dict[str, Any]) -> dict[str, Any] | None:
    """The prose comes without its citations."""
    return None if _citation(event) is not None else event


@pytest.fixture
def claude_api() -> Iterator[AnthropicStandIn]:
    """The stand-in, started and stopped."""
    stand_in = AnthropicStandIn(api_key=KEY).start()
    yield stand_in
    stand_in.stop()


def _answerer(api: AnthropicStandIn, rewrite: Rewrite) -> ClaudeAnswerer:
    client = anthropic.Anthropic(
        api_key=KEY,
        base_url=api.url,
        max_retries=0,
        http_client=httpx2.Client(transport=RewrittenStream(rewrite), timeout=5.0),
    )
    return ClaudeAnswerer(client, MODEL, OfflineAnswerer(), budget_seconds=5.0)


def _stored_reason(library: Library) -> tuple[str, str | None]:
    with library.sessions() as session:
        row = session.scalars(select(AnswerTrace).order_by(AnswerTrace.id.desc())).first()
        assert row is not None
        return row.answerer, row.fallback_reason


@pytest.mark.parametrize(
    ("rewrite", "reason"),
    [
        (misquoted, "all 2 citations were dropped"),
        (uncited, "it cited nothing but did not say the transcript does not cover the question"),
    ],
    ids=["every-citation-dropped", "no-citations-yet-an-answer"],
)
def test_unbacked_prose_gives_the_offline_quotes_with_one_line_why(
    library: Library,
    session: Session,
    claude_api: AnthropicStandIn,
    rewrite: Rewrite,
    reason: str,
) -> None:
    answer = ask(library, QUESTION, _answerer(claude_api, rewrite), episode=SEED_SLUG)
    assert len(claude_api.requests_to("/v1/messages")) == 1  # Claude did answer
    assert answer.notice == UNBACKED != UNAVAILABLE
    assert answer.answerer == "offline" and answer.covered and answer.citations
    assert "They said that" not in answer.text  # none of Claude's unbacked prose
    assert answer.trace is not None
    assert answer.trace.answerer == "offline (fallback)"
    assert answer.trace.fallback_reason == reason
    assert answer.trace.input_tokens > 0  # what Claude's reply cost is kept
    assert _stored_reason(library) == ("offline (fallback)", reason)


def test_a_brief_not_covered_reply_stays_as_it_is(
    library: Library, session: Session, claude_api: AnthropicStandIn
) -> None:
    answerer = _answerer(claude_api, lambda event: event)
    # Across the library: the stand-in then has only what the searches found to cite.
    answer = ask(library, "Which bitcoin wallet holds cryptocurrency?", answerer, episode=None)
    assert claude_api.requests_to("/v1/messages")  # Claude was asked, and said so
    assert answer.answerer == "claude" and answer.notice is None
    assert answer.text == NOTHING_FOUND and not answer.covered and not answer.citations
    assert answer.trace is not None and answer.trace.fallback_reason is None


@pytest.mark.parametrize(
    ("text", "not_covered"),
    [
        ("The episode does not cover that.", True),
        ("The transcript doesn\u2019t mention pricing at all.", True),
        ("There is no mention of crypto in this conversation.", True),
        ("I couldn't find that in the transcript.", True),
        ("Mike says about 95% of Claude Code is written by Claude itself.", False),
        ("The episode doesn't cover pricing directly. " + "But Mike says a lot. " * 20, False),
    ],
)
def test_what_reads_as_not_covered(text: str, not_covered: bool) -> None:
    assert reads_as_not_covered(text) is not_covered
