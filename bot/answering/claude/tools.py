"""The library tools Claude is offered for a library-wide question: search the transcripts,
read a range of turns, list the episodes. Each call is run against the bot's own retrieval
and comes back as `search_result` blocks, so the answer cites passages through the
Citations API exactly as it cites passages sent up front.

A call with bad input (an unknown episode, a query of no words, a missing field) gets a
tool error Claude can read and correct, never an exception out of the loop."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.answering import LibraryReader, passage_id
from bot.answering.claude.prompt import search_result_block
from bot.retrieval import EmptyQuery, UnknownEpisode
from db.search import SearchHit
from db.traces import ToolCall

log = logging.getLogger(__name__)

SEARCH = "search_transcripts"
READ = "read_turns"
LIST = "list_episodes"
SEARCH_LIMIT = 6
MAX_SEARCH_LIMIT = 10
# A range of turns is for reading around a moment (the answer after a question), not for
# pulling in an episode: longer ranges are cut to this many turns.
MAX_TURNS_READ = 8
MAX_QUERY_CHARS = 300
EPISODES_LISTED = 60

TOOLS: list[dict[str, Any]] = [
    {
        "name": SEARCH,
        "description": (
            "Search the transcripts of the podcast library for passages about something. "
            "Write the query in the words a speaker would say out loud, a few words about one "
            "idea; search again with other words or a narrower query when the results do not "
            "answer the question. Give `episode` (a slug from list_episodes or from a "
            "result's source, the part before '#') to search one episode only. Each result is "
            "one speaker turn: speaker, turn number, time and what was said."
        ),
        "input_schema": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "What to look for."},
                "episode": {"type": "string", "description": "Only this episode (its slug)."},
                "limit": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_SEARCH_LIMIT,
                    "description": f"How many passages (default {SEARCH_LIMIT}).",
                },
            },
            "required": ["query"],
        },
    },
    {
        "name": READ,
        "description": (
            "Read turns of one episode in order, e.g. the guest's answer after a host's "
            "question, or what led up to a passage. Turn numbers are those of search results; "
            f"at most {MAX_TURNS_READ} turns a call."
        ),
        "input_schema": {
            "type": "object",
            "properties": {
                "episode": {"type": "string", "description": "The episode's slug."},
                "start_turn": {"type": "integer", "minimum": 1},
                "end_turn": {"type": "integer", "minimum": 1},
            },
            "required": ["episode", "start_turn", "end_turn"],
        },
    },
    {
        "name": LIST,
        "description": (
            "List the library's episodes (slug, title, guest, date), newest first. Give "
            "`contains` to list only episodes whose title or guest contains those words."
        ),
        "input_schema": {
            "type": "object",
            "properties": {"contains": {"type": "string"}},
        },
    },
]


class BadToolInput(ValueError):
    """A tool call Claude can correct; the message tells it how, in one sentence."""


@dataclass(frozen=True)
class ToolRun:
    """A tool call's result: the `tool_result` content, the passages it newly gave (in the
    order of its search_result blocks), and the call as the trace records it."""

    content: list[dict[str, Any]]
    passages: list[SearchHit] = field(default_factory=list)
    call: ToolCall | None = None
    is_error: bool = False


def _text(value: object, name: str, *, required: bool) -> str | None:
    if value is None:
        if required:
            raise BadToolInput(f"`{name}` is required.")
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadToolInput(f"`{name}` must be a non-empty string.")
    return value.strip()


def _number(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadToolInput(f"`{name}` must be a whole number of 1 or more.")
    return value


def _results(
    hits: Sequence[SearchHit], given: set[str]
) -> tuple[list[dict[str, Any]], list[SearchHit]]:
    """search_result blocks for the passages not given before; a note for the rest."""
    new = [hit for hit in hits if passage_id(hit) not in given]
    content = [search_result_block(hit) for hit in new]
    repeated = len(hits) - len(new)
    if repeated:
        content.append(
            {"type": "text", "text": f"{repeated} more matching passages were given earlier."}
        )
    return content, new


def _search(reader: LibraryReader, given: dict[str, object], seen: set[str]) -> ToolRun:
    query = _text(given.get("query"), "query", required=True) or ""
    episode = _text(given.get("episode"), "episode", required=False)
    limit = min(_number(given.get("limit", SEARCH_LIMIT), "limit"), MAX_SEARCH_LIMIT)
    try:
        hits = reader.search(query[:MAX_QUERY_CHARS], episode=episode, limit=limit)
    except EmptyQuery:
        raise BadToolInput("The query has no words to search for; use plain words.") from None
    except UnknownEpisode:
        raise BadToolInput(
            f"No episode has the slug {episode!r}; list_episodes gives the slugs."
        ) from None
    if not hits:
        return ToolRun([{"type": "text", "text": "No passage matches that query."}])
    content, new = _results(hits, seen)
    return ToolRun(content, new)


def _read(reader: LibraryReader, given: dict[str, object], seen: set[str]) -> ToolRun:
    episode = _text(given.get("episode"), "episode", required=True) or ""
    start = _number(given.get("start_turn"), "start_turn")
    end = _number(given.get("end_turn"), "end_turn")
    if end < start:
        raise BadToolInput("`end_turn` must not be before `start_turn`.")
    end = min(end, start + MAX_TURNS_READ - 1)
    try:
        hits = reader.turns(episode, start, end)
    except UnknownEpisode:
        raise BadToolInput(
            f"No episode has the slug {episode!r}; list_episodes gives the slugs."
        ) from None
    if not hits:
        raise BadToolInput(f"Episode {episode} has no turns {start} to {end}.")
    content, new = _results(hits, seen)
    return ToolRun(content, new)


def _list(reader: LibraryReader, given: dict[str, object]) -> ToolRun:
    contains = _text(given.get("contains"), "contains", required=False)
    entries = list(reader.episodes())
    if contains:
        words = contains.lower().split()
        entries = [
            e for e in entries if all(w in f"{e.title} {e.guest or ''}".lower() for w in words)
        ]
    if not entries:
        return ToolRun([{"type": "text", "text": "No episode matches that."}])
    lines = [
        f"{e.slug}: {e.title}"
        + (f" (guest: {e.guest})" if e.guest else "")
        + (f", {e.published_on.isoformat()}" if e.published_on else "")
        for e in entries[:EPISODES_LISTED]
    ]
    if len(entries) > EPISODES_LISTED:
        lines.append(
            f"... and {len(entries) - EPISODES_LISTED} more; give `contains` to narrow the list."
        )
    return ToolRun([{"type": "text", "text": "\n".join(lines)}])


def run_tool(
    reader: LibraryReader, name: str, given: object, *, round: int, seen: set[str]
) -> ToolRun:
    """Run one tool call. `seen` holds the ids of passages already given in this answer
    (they are not sent twice) and gains the new ones. Bad input is a tool error, and so is
    any failure to read the library: Claude can still answer from what it has."""
    arguments = dict(given) if isinstance(given, dict) else {}
    try:
        if not isinstance(given, dict):
            raise BadToolInput("The input must be an object.")
        if name == SEARCH:
            run = _search(reader, arguments, seen)
        elif name == READ:
            run = _read(reader, arguments, seen)
        elif name == LIST:
            run = _list(reader, arguments)
        else:
            raise BadToolInput(f"There is no tool named {name!r}.")
    except BadToolInput as bad:
        return _error(round, name, arguments, str(bad))
    except SQLAlchemyError as exc:  # a locked or vanished database: answer from what it has
        log.warning("library tool %s failed (%s)", name, type(exc).__name__)
        return _error(round, name, arguments, "The library could not be read just now.")
    ids = tuple(passage_id(hit) for hit in run.passages)
    seen.update(ids)
    return ToolRun(run.content, run.passages, ToolCall(round, name, arguments, ids))


def _error(round: int, name: str, arguments: dict[str, object], message: str) -> ToolRun:
    call = ToolCall(round, name, arguments, error=message)
    return ToolRun([{"type": "text", "text": message}], call=call, is_error=True)
