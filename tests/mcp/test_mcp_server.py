"""`episode-bot mcp`: the server through the MCP SDK's own client, in-process against a real
SQLite library (real migrations, the seed episode) in both protocol eras (the initialize
handshake Claude Desktop and Claude Code use, and the newer per-request mode), and as a real
subprocess over stdio."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.answering.offline import OfflineAnswerer
from bot.ingest.pipeline import ingest_file
from bot.mcp.server import build_server
from bot.services.library import Library
from db.episodes import get_episode
from db.feeds import set_chapters
from db.models import AnswerTrace, Episode, Segment
from tests.conftest import BACKENDS, FORMATS_DIR, SEED_SLUG

pytestmark = pytest.mark.anyio

SCRIPT = Path(sys.executable).parent / "episode-bot"
TOOLS = {"list_episodes", "search_transcript", "get_turns", "ask", "list_takeaways"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["legacy", "auto"])
async def client(
    request: pytest.FixtureRequest, seeded: sessionmaker[Session]
) -> AsyncIterator[Client]:
    server = build_server(Library(seeded), OfflineAnswerer())
    async with Client(server, mode=request.param) as connected:
        yield connected


def turn_texts(session_factory: sessionmaker[Session]) -> dict[int, str]:
    """The seed's turns, whole, by turn number."""
    with session_factory() as session:
        rows = session.execute(
            select(Segment.position, Segment.text).order_by(Segment.position, Segment.part)
        ).all()
    turns: dict[int, list[str]] = {}
    for position, text in rows:
        turns.setdefault(position, []).append(text)
    return {position: " ".join(parts) for position, parts in turns.items()}


def data(result: CallToolResult) -> dict[str, Any]:
    """A successful call's structured result, which its text content repeats as JSON."""
    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content


def verbatim(quote: str, turn_text: str) -> bool:
    """A quote cut short at either end is marked with an ellipsis; the rest is verbatim."""
    return quote.strip("…").strip() in turn_text


async def test_lists_described_tools_and_the_episode_template(client: Client) -> None:
    tools = (await client.list_tools()).tools
    assert {tool.name for tool in tools} == TOOLS
    for tool in tools:
        assert tool.description and len(tool.description) > 60, tool.name
        assert tool.output_schema is not None, tool.name
        for name, prop in tool.input_schema.get("properties", {}).items():
            assert prop.get("description"), f"{tool.name}.{name} has no description"
    by_name = {tool.name: tool for tool in tools}
    assert by_name["search_transcript"].input_schema["required"] == ["query"]
    assert by_name["get_turns"].input_schema["required"] == ["episode", "start", "end"]
    assert by_name["list_episodes"].annotations.read_only_hint is True

    templates = (await client.list_resource_templates()).resource_templates
    assert [(t.uri_template, t.mime_type) for t in templates] == [
        ("episode://{slug}", "text/markdown")
    ]
    assert templates[0].description


async def test_list_episodes(client: Client) -> None:
    episodes = data(await client.call_tool("list_episodes", {}))["episodes"]
    assert [e["slug"] for e in episodes] == [SEED_SLUG]
    assert episodes[0]["turns"] == 85
    assert "Mike Krieger" in episodes[0]["title"]
    assert set(episodes[0]) == {"slug", "title", "guest", "published", "turns", "url", "chapters"}
    assert episodes[0]["chapters"] == []  # its source gave none


async def test_search_transcript_ranks_passages(
    client: Client, seeded: sessionmaker[Session]
) -> None:
    result = data(
        await client.call_tool(
            "search_transcript", {"query": "merge queue", "episode": SEED_SLUG, "limit": 3}
        )
    )
    passages = result["passages"]
    assert result["episode"] == SEED_SLUG and len(passages) == 3
    assert passages[0]["turn"] == 21 and passages[0]["speaker"] == "Mike Krieger"
    assert passages[0]["score"] >= passages[1]["score"] >= passages[2]["score"]
    assert set(passages[0]) == {
        "episode", "episode_title", "speaker", "turn", "timestamp", "kind", "text", "score", "url"
    }  # fmt: skip
    texts = turn_texts(seeded)
    assert all(p["text"] in texts[p["turn"]] for p in passages)

    library_wide = data(await client.call_tool("search_transcript", {"query": "Boris"}))
    assert library_wide["episode"] is None
    assert 1 <= len(library_wide["passages"]) <= 10
    assert all(p["episode"] == SEED_SLUG for p in library_wide["passages"])
    # "all" means the library, as `/episode use all` and `--episode all` do.
    spelled = data(
        await client.call_tool("search_transcript", {"query": "Boris", "episode": "all"})
    )
    assert spelled == library_wide


async def test_get_turns_returns_whole_turns_with_their_kinds(
    client: Client, seeded: sessionmaker[Session]
) -> None:
    result = data(
        await client.call_tool("get_turns", {"episode": SEED_SLUG, "start": 8, "end": 10})
    )
    assert (result["first_turn"], result["last_turn"]) == (1, 85)
    turns = result["turns"]
    assert [t["turn"] for t in turns] == [8, 9, 10]
    # Turn 9: the host's intro with two sponsor reads inside, stored in four parts.
    assert [t["kind"] for t in turns] == ["teaser", "intro+sponsor", "content"]
    assert turns[1]["speaker"] == "Lenny Rachitsky"
    texts = turn_texts(seeded)
    assert all(t["text"] == texts[t["turn"]] for t in turns)
    assert "Productboard" in turns[1]["text"]

    # A long turn stored in parts (53) comes back whole, and a range past the end is cut.
    tail = data(await client.call_tool("get_turns", {"episode": SEED_SLUG, "start": 53, "end": 90}))
    assert [t["turn"] for t in tail["turns"]] == list(range(53, 86))
    assert tail["turns"][0]["text"] == texts[53]


async def test_ask_answers_offline_with_verbatim_quotes_and_keeps_a_trace(
    client: Client, seeded: sessionmaker[Session]
) -> None:
    answer = data(
        await client.call_tool(
            "ask", {"question": "What share of Claude Code is written by Claude?"}
        )
    )
    assert answer["answerer"] == "offline" and answer["covered"] is True
    assert answer["citations"]
    texts = turn_texts(seeded)
    for citation in answer["citations"]:
        assert citation["episode"] == SEED_SLUG
        assert verbatim(citation["quote"], texts[citation["turn"]]), citation
    assert any("95%" in c["quote"] for c in answer["citations"])

    scoped = data(
        await client.call_tool("ask", {"question": "Who is Boris?", "episode": SEED_SLUG})
    )
    assert all("Boris" in c["quote"] for c in scoped["citations"])

    uncovered = data(
        await client.call_tool("ask", {"question": "What is Mike's favourite cryptocurrency?"})
    )
    assert uncovered["covered"] is False and uncovered["citations"] == []

    with seeded() as session:
        traces = session.scalars(select(AnswerTrace).order_by(AnswerTrace.id)).all()
    assert [t.question for t in traces] == [
        "What share of Claude Code is written by Claude?",
        "Who is Boris?",
        "What is Mike's favourite cryptocurrency?",
    ]
    assert [t.episode_slug for t in traces] == [None, SEED_SLUG, None]
    assert all(t.answerer == "offline" for t in traces)


async def test_list_takeaways_locates_them_once(
    client: Client, seeded: sessionmaker[Session]
) -> None:
    first = data(await client.call_tool("list_takeaways", {"episode": SEED_SLUG}))
    takeaways = first["takeaways"]
    assert first["episode"] == SEED_SLUG and len(takeaways) >= 10
    assert {t["origin"] for t in takeaways} <= {"summary", "extracted"}
    assert takeaways[0]["origin"] == "summary"
    texts = turn_texts(seeded)
    located = [t for t in takeaways if t["quote"]]
    assert len(located) >= 10
    for takeaway in located:
        assert verbatim(takeaway["quote"], texts[takeaway["turn"]]), takeaway
        assert takeaway["speaker"] == "Mike Krieger"

    again = data(await client.call_tool("list_takeaways", {"episode": SEED_SLUG}))
    assert again == first


async def test_episode_resource_is_the_transcript_as_markdown(
    client: Client, seeded: sessionmaker[Session]
) -> None:
    result = await client.read_resource(f"episode://{SEED_SLUG}")
    [content] = result.contents
    assert content.mime_type == "text/markdown"
    text = content.text
    assert text.startswith("# Anthropic's CPO on what comes next")
    assert f"- Slug: {SEED_SLUG}" in text and "- Turns: 85" in text
    lines = text.split("## Transcript\n\n", 1)[1].splitlines()
    assert lines[0] == (
        "Lenny Rachitsky (turn 1, cold-open teaser): 90% of your code roughly is written by AI now"
    )
    assert any(line.startswith("Lenny Rachitsky (turn 9, intro): Today my guest") for line in lines)
    assert any(line.startswith("Lenny Rachitsky (turn 9, sponsor read): ") for line in lines)
    assert any(line.startswith("Mike Krieger (turn 53): It all started") for line in lines)
    turns = turn_texts(seeded)
    assert sum(line.startswith("Mike Krieger (turn 53)") for line in lines) == 1
    assert f"Mike Krieger (turn 53): {turns[53]}" in lines
    # 85 turns; 9 and 52 hold two kinds each, so are on two lines.
    assert len(lines) == 87


async def test_an_unknown_episode_resource_is_a_plain_error(client: Client) -> None:
    with pytest.raises(MCPError) as caught:
        await client.read_resource("episode://no-such-episode")
    assert str(caught.value) == (
        "No episode has the slug 'no-such-episode'; list_episodes gives the slugs."
    )


BAD_CALLS = [
    ("search_transcript", {"query": ""}, "The query is empty: give some words to look for."),
    ("search_transcript", {"query": "   "}, "The query is empty"),
    ("search_transcript", {"query": "🤖 ??"}, "The query has no words to look for"),
    ("search_transcript", {"query": "x " * 5000}, "query is too long (at most 4000 characters)"),
    ("search_transcript", {"query": 42}, "query must be text"),
    ("search_transcript", {}, "query is required"),
    (
        "search_transcript",
        {"query": "boris", "episode": "nope"},
        "No episode has the slug 'nope'; list_episodes gives the slugs.",
    ),
    ("search_transcript", {"query": "boris", "limit": 0}, "limit must be at least 1 (got 0)"),
    ("search_transcript", {"query": "boris", "limit": 500}, "limit must be at most 50"),
    ("search_transcript", {"query": "boris", "limit": "many"}, "limit must be a whole number"),
    ("search_transcript", {"query": "boris", "limit": 1e100}, "limit must be a whole number"),
    ("search_transcript", {"query": "boris", "episode": 7}, "episode must be text"),
    ("search_transcript", {"query": "boris", "episde": SEED_SLUG}, "has no argument 'episde'"),
    ("get_turns", {"episode": SEED_SLUG, "start": 12, "end": 5}, "start (12) is after end (5)"),
    ("get_turns", {"episode": SEED_SLUG, "start": -3, "end": 5}, "start must be at least 1"),
    ("get_turns", {"episode": SEED_SLUG, "start": 2.5, "end": 5}, "start must be a whole number"),
    ("get_turns", {"episode": SEED_SLUG, "start": "one", "end": 5}, "start must be a whole"),
    ("get_turns", {"episode": SEED_SLUG}, "start is required and end is required"),
    ("get_turns", {"episode": SEED_SLUG, "start": 1, "end": 500}, "at most 200 at a time"),
    ("get_turns", {"episode": SEED_SLUG, "start": 90, "end": 95}, "has turns 1 to 85"),
    ("get_turns", {"episode": "nope", "start": 1, "end": 5}, "No episode has the slug 'nope'"),
    ("get_turns", {"episode": ["a"], "start": 1, "end": 5}, "episode must be text"),
    ("ask", {"question": ""}, "The question is empty"),
    ("ask", {"question": "q" * 10_000}, "question is too long"),
    ("ask", {"question": "Who is Boris?", "episode": "nope"}, "No episode has the slug 'nope'"),
    ("list_takeaways", {"episode": "nope"}, "No episode has the slug 'nope'"),
    ("list_takeaways", {"episode": None}, "episode must be text"),
    ("no_such_tool", {}, "There is no tool named 'no_such_tool': the tools are list_episodes"),
]


@pytest.mark.parametrize(("tool", "arguments", "message"), BAD_CALLS)
async def test_bad_arguments_are_one_plain_sentence(
    client: Client, tool: str, arguments: dict[str, Any], message: str
) -> None:
    result = await client.call_tool(tool, arguments)
    assert result.is_error
    [content] = result.content
    text = content.text
    assert message in text
    assert "\n" not in text and text.endswith(".") and len(text) < 300, text
    for noise in ("Traceback", "validation error", "pydantic", "Error executing tool", "input_"):
        assert noise not in text


async def test_an_unreadable_library_is_a_plain_error(tmp_path: Path) -> None:
    not_a_library = sessionmaker(create_engine(f"sqlite:///{tmp_path / 'other.db'}"))
    async with Client(build_server(Library(not_a_library), OfflineAnswerer())) as client:
        for tool, arguments in [
            ("list_episodes", {}),
            ("search_transcript", {"query": "boris"}),
            ("ask", {"question": "Who is Boris?"}),
        ]:
            result = await client.call_tool(tool, arguments)
            assert result.is_error
            assert result.content[0].text == (
                "The library could not be read (is DATABASE_URL an episode-bot database?); "
                "`episode-bot doctor` checks it."
            )


def test_other_commands_do_not_import_the_mcp_sdk() -> None:
    check = "import sys, bot.cli; assert not any(m.split('.')[0] == 'mcp' for m in sys.modules)"
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_episode_bot_mcp_over_stdio(
    tmp_path: Path, mode: str, caplog: pytest.LogCaptureFixture, database_url: str
) -> None:
    """The real command in a subprocess, as Claude Desktop starts it: no API keys, a fresh
    database (so the sample is loaded, saying so on stderr), and only protocol on stdout."""
    params = StdioServerParameters(
        command=str(SCRIPT),
        args=["mcp"],
        # Over the SDK's minimal inherited environment (PATH, HOME...): no ANTHROPIC_* or
        # SLACK_* variable, so the answerer is the offline one.
        env={"DATABASE_URL": database_url, "XDG_DATA_HOME": str(tmp_path / "xdg")},
        cwd=tmp_path,
    )
    caplog.set_level(logging.DEBUG, logger="mcp.client")
    with (tmp_path / "stderr.txt").open("w") as errlog:
        transport = stdio_client(params, errlog=errlog)
        async with Client(transport, mode=mode) as client:
            episodes = data(await client.call_tool("list_episodes", {}))["episodes"]
            found = data(
                await client.call_tool("search_transcript", {"query": "merge queue", "limit": 2})
            )
            bad = await client.call_tool("get_turns", {"episode": SEED_SLUG, "start": 5, "end": 1})

    assert [e["slug"] for e in episodes] == [SEED_SLUG]
    assert found["passages"][0]["turn"] == 21
    assert bad.is_error and bad.content[0].text.startswith("start (5) is after end (1)")
    # Any stdout line that is not JSON-RPC is logged by the client as an error.
    client_errors = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("mcp.client") and r.levelno >= logging.WARNING
    ]
    assert client_errors == []
    stderr = (tmp_path / "stderr.txt").read_text()
    assert "loaded the sample episode 'mike-krieger-anthropic-cpo'" in stderr
    assert "Traceback" not in stderr
    engine = create_engine(database_url)
    with Session(engine) as session:
        assert session.scalar(select(func.count(Episode.id))) == 1
    engine.dispose()


async def test_chapters_are_listed_shown_and_named_by_each_quote(
    seeded: sessionmaker[Session],
) -> None:
    """An episode with chapters (as its feed gives them): list_episodes and the resource
    list them, and an answer's quote says which chapter it was said in."""
    assert ingest_file(seeded, FORMATS_DIR / "talk.vtt").status == "ingested"
    with seeded.begin() as session:
        episode = get_episode(session, "talk")
        assert episode is not None
        set_chapters(session, episode.id, [(0.0, "Welcome"), (60.0, "Thanks")])
    async with Client(build_server(Library(seeded), OfflineAnswerer())) as client:
        episodes = data(await client.call_tool("list_episodes", {}))["episodes"]
        [talk] = [e for e in episodes if e["slug"] == "talk"]
        assert talk["chapters"] == [
            {"start_seconds": 0.0, "title": "Welcome"},
            {"start_seconds": 60.0, "title": "Thanks"},
        ]
        [content] = (await client.read_resource("episode://talk")).contents
        assert "## Chapters\n\n- 0:00 Welcome\n- 1:00 Thanks\n" in content.text
        answer = data(
            await client.call_tool(
                "ask", {"question": "what do they talk about, compilers?", "episode": "talk"}
            )
        )
        assert answer["citations"] and {c["chapter"] for c in answer["citations"]} == {"Welcome"}
