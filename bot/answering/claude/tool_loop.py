"""The bounded tool loop of a library-wide answer: Claude is offered the library tools, the
bot runs each call and sends the results back, until Claude answers. At most `max_rounds`
rounds of calls, and none started after `deadline`; then Claude is told to answer from
what it has (tool_choice none), so a model that keeps searching still ends with an answer.

Written here rather than with the SDK's beta tool runner: that runner stops at its
iteration limit on a reply that may be a tool call with no answer, and the bot needs the
last request to be one that must answer, and every search_result block numbered as the
Citations API numbers them (in order across all messages)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any

import anthropic
from anthropic.types import Message

from bot.answering import LibraryReader, Watcher, passage_id, tell
from bot.answering.claude.citations import ReplyReader
from bot.answering.claude.client import retry_budget
from bot.answering.claude.prompt import MAX_TOKENS, Prompt
from bot.answering.claude.streaming import read_stream
from bot.answering.claude.tools import LIST, READ, SEARCH, TOOLS, run_tool
from db.traces import ToolCall

log = logging.getLogger(__name__)

MAX_ROUNDS = 4
# No new round of searches starts this long after the question; Claude answers instead.
TOOL_BUDGET_SECONDS = 20.0
OUT_OF_ROUNDS = "No more searches for this question: answer from the passages you have."
USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)


@dataclass(frozen=True)
class LoopResult:
    """The final reply, the prompt grown by every round (its search_results are all the
    passages given, in citation order), the calls made, and the usage of every request."""

    message: Message
    prompt: Prompt
    calls: list[ToolCall] = field(default_factory=list)
    round_trips: int = 1
    usage: dict[str, int] = field(default_factory=lambda: dict.fromkeys(USAGE_FIELDS, 0))


def _assistant_turn(message: Message) -> list[dict[str, Any]]:
    """The reply as the next request repeats it: its text and its tool calls."""
    content: list[dict[str, Any]] = []
    for block in message.content:
        if block.type == "text" and block.text:
            content.append({"type": "text", "text": block.text})
        elif block.type == "tool_use":
            content.append(
                {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
            )
    return content


def _without_cache_marks(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cleaned = []
    for message in messages:
        content = message["content"]
        if isinstance(content, list):
            content = [
                {k: v for k, v in block.items() if k != "cache_control"}
                if block.get("type") in ("tool_result", "text")
                else block
                for block in content
            ]
        cleaned.append({**message, "content": content})
    return cleaned


def _marked(messages: list[dict[str, Any]], cache: bool) -> list[dict[str, Any]]:
    """Messages with one moving cache breakpoint on the newest tool results, so each round
    reads the rounds before it from the cache instead of paying for them again."""
    messages = _without_cache_marks(messages)
    last = messages[-1]["content"]
    if cache and isinstance(last, list) and last and last[-1].get("type") == "tool_result":
        last[-1] = {**last[-1], "cache_control": {"type": "ephemeral"}}
    return messages


def _describe(name: str, given: Any) -> str:
    """What a call is doing, for the person waiting."""
    given = given if isinstance(given, dict) else {}
    if name == SEARCH:
        where = f" in {given['episode']}" if isinstance(given.get("episode"), str) else ""
        return f"Searching{where} for “{str(given.get('query', ''))[:80]}”"
    if name == READ:
        return f"Reading {given.get('episode', 'an episode')} around turn {given.get('start_turn')}"
    if name == LIST:
        return "Looking through the episode list"
    return "Looking in the library"


def run_loop(
    client: anthropic.Anthropic,
    model: str,
    prompt: Prompt,
    reader: LibraryReader,
    *,
    retry_seconds: float,
    max_rounds: int = MAX_ROUNDS,
    tool_budget_seconds: float = TOOL_BUDGET_SECONDS,
    watcher: Watcher | None = None,
    cache: bool = True,
    terms: str = "",
) -> LoopResult:
    """Ask Claude with the library tools until it answers; API errors propagate (the
    caller falls back), a tool that fails is a tool error Claude reads. `watcher` hears
    each search and the answer as it is written (quotes picked for `terms`)."""
    deadline = time.monotonic() + tool_budget_seconds
    messages = list(prompt.messages)
    given = list(prompt.search_results)
    seen = {passage_id(hit) for hit in given}
    calls: list[ToolCall] = []
    usage = dict.fromkeys(USAGE_FIELDS, 0)
    rounds = round_trips = 0
    must_answer = False
    while True:
        with (
            retry_budget(retry_seconds),
            client.messages.stream(
                model=model,
                max_tokens=MAX_TOKENS,
                system=prompt.system,
                messages=_marked(messages, cache),  # type: ignore[arg-type]
                tools=TOOLS,  # type: ignore[arg-type]
                tool_choice={"type": "none"} if must_answer else {"type": "auto"},
            ) as stream,
        ):
            replies = ReplyReader(replace(prompt, search_results=list(given)), terms)
            message = read_stream(stream, replies, watcher, may_call_tools=not must_answer)
        round_trips += 1
        for name in USAGE_FIELDS:
            usage[name] += getattr(message.usage, name, 0) or 0
        uses = [block for block in message.content if block.type == "tool_use"]
        if message.stop_reason != "tool_use" or not uses or must_answer:
            break
        messages.append({"role": "assistant", "content": _assistant_turn(message)})
        late = time.monotonic() >= deadline
        results: list[dict[str, Any]] = []
        for use in uses:
            if late:  # the calls of a reply must all be answered, if only to say no
                results.append(_tool_result(use.id, [_note(OUT_OF_ROUNDS)], error=True))
                continue
            doing = _describe(use.name, use.input)
            tell(watcher, lambda w, doing=doing: w.searching(doing))
            run = run_tool(reader, use.name, use.input, round=rounds, seen=seen)
            if run.call is not None:
                calls.append(run.call)
            given.extend(run.passages)
            results.append(_tool_result(use.id, run.content, error=run.is_error))
        rounds += 1
        must_answer = late or rounds >= max_rounds
        if must_answer and not late:
            results.append(_note(OUT_OF_ROUNDS))
        messages.append({"role": "user", "content": results})
    grown = replace(prompt, messages=messages, search_results=given)
    return LoopResult(message, grown, calls, round_trips, usage)


def _note(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def _tool_result(use_id: str, content: list[dict[str, Any]], *, error: bool) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": use_id, "content": content}
    if error:
        block["is_error"] = True
    return block
