"""The pure half of the Anthropic Messages API stand-in (tests/fakes/anthropic_api.py):
request checks, token estimates, prompt-cache breakpoints, and the cited answer with its
stream events. Functions of the parsed JSON body only; the server keeps all state."""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

NOTHING_FOUND = "The episode does not cover that."
INTRO = "From the episode: "
# What the bad citations of `bad_citations_next` claim a source says.
NEVER_SAID = "A sentence that appears nowhere in the source."
TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}
# Words that would make every block overlap every question.
STOPWORDS = frozenset(
    "the and for are but not you your with this that from have has had was were what when "
    "where which who why how does did about into over they them their there then than its "
    "also can could would should will just like more most some any all our out his her she "
    "him say said tell told episode".split()
)


class InvalidRequest(Exception):
    """A request the real API refuses with 400 invalid_request_error; `str(error)` is the
    plain-text message it would give."""


def tokens(text: str) -> int:
    """Estimated tokens of `text`: ceil(len / 4). Claude's tokenizer averages about four
    characters a token on English prose; an estimate is enough for relative cost figures,
    and a formula keeps the numbers reproducible."""
    return math.ceil(len(text) / 4)


# ---------------------------------------------------------------------------- request checks


def validate(body: Any) -> None:
    """Raise `InvalidRequest` for what the stand-in refuses. Stricter than the real API
    in one way on purpose: roles must alternate and the last turn must be the user's (no
    merging of same-role turns, no prefill)."""
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("model: Field required and must be a non-empty string")
    max_tokens = body.get("max_tokens")
    # bool is an int in Python, but not in JSON Schema.
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        raise InvalidRequest("max_tokens: Input should be an integer greater than or equal to 1")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise InvalidRequest("stream: Input should be a valid boolean")
    marked = _check_system(body.get("system"))
    _check_tools(body.get("tools"), body.get("tool_choice"))
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("messages: at least one message is required")
    for i, message in enumerate(messages):
        marked += _check_message(message, i, "user" if i % 2 == 0 else "assistant")
    _check_tool_pairs(messages, tools_defined=bool(body.get("tools")))
    if messages[-1]["role"] != "user":
        raise InvalidRequest('messages: the final message must have the "user" role')
    if len(marked) > 4:
        raise InvalidRequest(
            f"A maximum of 4 blocks with cache_control may be provided. Found {len(marked)}."
        )
    ttls = [cache_control.get("ttl", "5m") for cache_control in marked]
    if "1h" in ttls and "5m" in ttls[: len(ttls) - ttls[::-1].index("1h")]:
        raise InvalidRequest(
            "a cache_control entry with ttl='1h' must not come after one with ttl='5m'"
        )


def _check_system(system: Any) -> list[dict[str, Any]]:
    if system is None or isinstance(system, str):
        return []
    if not isinstance(system, list):
        raise InvalidRequest("system: Input should be a valid string or a list of text blocks")
    for j, block in enumerate(system):
        if not isinstance(block, dict) or block.get("type") != "text":
            raise InvalidRequest(f"system.{j}.type: Input should be 'text'")
        _check_text(block, f"system.{j}")
    return _marks(system, "system")


def _check_message(message: Any, i: int, expected_role: str) -> list[dict[str, Any]]:
    where = f"messages.{i}"
    if not isinstance(message, dict):
        raise InvalidRequest(f"{where}: Input should be an object")
    role = message.get("role")
    if role not in ("user", "assistant"):
        raise InvalidRequest(f"{where}.role: Input should be 'user' or 'assistant'")
    if role != expected_role:
        raise InvalidRequest(
            'messages: roles must alternate between "user" and "assistant", starting with '
            f'"user"; message {i} has the "{role}" role'
        )
    content = message.get("content")
    if isinstance(content, str):
        if not content:
            raise InvalidRequest(f"{where}.content: text content blocks must be non-empty")
        return []
    if not isinstance(content, list) or not content:
        raise InvalidRequest(f"{where}.content: Input should be a string or a non-empty list")
    allowed = (
        {"text", "document", "search_result", "tool_result"}
        if role == "user"
        else {"text", "tool_use"}
    )
    for j, block in enumerate(content):
        kind = block.get("type") if isinstance(block, dict) else None
        if kind not in allowed:
            raise InvalidRequest(
                f"{where}.content.{j}.type: Input should be one of {sorted(allowed)} in a "
                f"{role} message, got {kind!r}"
            )
        BLOCK_CHECKS[kind](block, f"{where}.content.{j}")
    return _marks(content, f"{where}.content")


TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
TOOL_CHOICES = frozenset({"auto", "any", "tool", "none"})


def _check_tools(tools: Any, tool_choice: Any) -> None:
    if tools is not None:
        if not isinstance(tools, list):
            raise InvalidRequest("tools: Input should be a valid list")
        names = set()
        for j, tool in enumerate(tools):
            name = tool.get("name") if isinstance(tool, dict) else None
            if not isinstance(name, str) or not TOOL_NAME.fullmatch(name):
                raise InvalidRequest(
                    f"tools.{j}.name: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
                )
            if name in names:
                raise InvalidRequest(f"tools: Tool names must be unique, {name!r} is repeated")
            names.add(name)
            schema = tool.get("input_schema")
            if not isinstance(schema, dict) or schema.get("type") != "object":
                raise InvalidRequest(f"tools.{j}.input_schema.type: Input should be 'object'")
    if tool_choice is not None:
        kind = tool_choice.get("type") if isinstance(tool_choice, dict) else None
        if kind not in TOOL_CHOICES:
            raise InvalidRequest(
                f"tool_choice.type: Input should be one of {sorted(TOOL_CHOICES)}, got {kind!r}"
            )
        if kind != "none" and not tools:
            raise InvalidRequest("tool_choice may only be specified while providing tools.")


def _check_tool_use(block: dict[str, Any], where: str) -> None:
    if not isinstance(block.get("id"), str) or not isinstance(block.get("name"), str):
        raise InvalidRequest(f"{where}: tool_use blocks need a string `id` and `name`")
    if not isinstance(block.get("input"), dict):
        raise InvalidRequest(f"{where}.input: Input should be a valid dictionary")


def _check_tool_result(block: dict[str, Any], where: str) -> None:
    if not isinstance(block.get("tool_use_id"), str):
        raise InvalidRequest(f"{where}.tool_use_id: Field required")
    if "is_error" in block and not isinstance(block["is_error"], bool):
        raise InvalidRequest(f"{where}.is_error: Input should be a valid boolean")
    content = block.get("content")
    if content is None or isinstance(content, str):
        return
    if not isinstance(content, list):
        raise InvalidRequest(f"{where}.content: Input should be a string or a list of blocks")
    for k, inner in enumerate(content):
        kind = inner.get("type") if isinstance(inner, dict) else None
        if kind not in ("text", "search_result"):
            raise InvalidRequest(
                f"{where}.content.{k}.type: the stand-in takes 'text' or 'search_result' in a "
                f"tool result, got {kind!r}"
            )
        BLOCK_CHECKS[kind](inner, f"{where}.content.{k}")
        _check_cache_control(inner.get("cache_control"), f"{where}.content.{k}")


def _check_tool_pairs(messages: list[dict[str, Any]], *, tools_defined: bool) -> None:
    """As the real API: each tool_use is answered by a tool_result at the start of the next
    user message, a tool_result answers a tool_use of the message before it, and either
    kind of block needs `tools` in the request."""
    for i, message in enumerate(messages):
        blocks = _as_blocks(message["content"])
        uses = [b["id"] for b in blocks if b["type"] == "tool_use"]
        results = [b["tool_use_id"] for b in blocks if b["type"] == "tool_result"]
        if (uses or results) and not tools_defined:
            raise InvalidRequest(
                "Requests which include `tool_use` or `tool_result` blocks must define tools."
            )
        if results:
            kinds = [b["type"] for b in blocks]
            if kinds[: len(results)] != ["tool_result"] * len(results):
                raise InvalidRequest(
                    f"messages.{i}: tool_result blocks must come FIRST in the content array"
                )
            previous = _as_blocks(messages[i - 1]["content"]) if i else []
            asked = {b["id"] for b in previous if b["type"] == "tool_use"}
            for use_id in results:
                if use_id not in asked:
                    raise InvalidRequest(
                        f"messages.{i}.content: unexpected `tool_use_id` found in `tool_result` "
                        f"blocks: {use_id}. Each `tool_result` block must have a corresponding "
                        "`tool_use` block in the previous message."
                    )
        if uses:
            following = _as_blocks(messages[i + 1]["content"]) if i + 1 < len(messages) else []
            answered = {b["tool_use_id"] for b in following if b["type"] == "tool_result"}
            missing = [use_id for use_id in uses if use_id not in answered]
            if missing:
                raise InvalidRequest(
                    f"messages.{i + 1}: `tool_use` ids were found without `tool_result` blocks "
                    f"immediately after: {', '.join(missing)}. Each `tool_use` block must have a "
                    "corresponding `tool_result` block in the next message."
                )


def _check_text(block: dict[str, Any], where: str) -> None:
    if not isinstance(block.get("text"), str) or not block["text"]:
        raise InvalidRequest(f"{where}.text: text content blocks must be non-empty")


def _check_text_list(blocks: Any, where: str) -> None:
    if not isinstance(blocks, list) or not blocks:
        raise InvalidRequest(f"{where}: Input should be a non-empty list of text blocks")
    for k, block in enumerate(blocks):
        if not isinstance(block, dict) or block.get("type") != "text":
            raise InvalidRequest(f"{where}.{k}.type: Input should be 'text'")
        _check_text(block, f"{where}.{k}")
        _check_cache_control(block.get("cache_control"), f"{where}.{k}")


def _check_document(block: dict[str, Any], where: str) -> None:
    source = block.get("source")
    kind = source.get("type") if isinstance(source, dict) else None
    if kind == "content":
        content = source.get("content")
        # The SDK's type also allows a plain string for custom content.
        if not (isinstance(content, str) and content):
            _check_text_list(content, f"{where}.source.content")
    elif kind == "text":
        if not isinstance(source.get("data"), str) or not source["data"]:
            raise InvalidRequest(f"{where}.source.data: Input should be a non-empty string")
    else:
        raise InvalidRequest(
            f"{where}.source.type: the stand-in takes 'content' or 'text' sources, got {kind!r}"
        )
    for name in ("title", "context"):
        if block.get(name) is not None and not isinstance(block[name], str):
            raise InvalidRequest(f"{where}.{name}: Input should be a valid string")
    _check_citations_config(block.get("citations"), where)


def _check_search(block: dict[str, Any], where: str) -> None:
    for name in ("source", "title"):
        if not isinstance(block.get(name), str):
            raise InvalidRequest(f"{where}.{name}: Field required (a string)")
    _check_text_list(block.get("content"), f"{where}.content")
    _check_citations_config(block.get("citations"), where)


def _check_citations_config(config: Any, where: str) -> None:
    if config is not None and not (
        isinstance(config, dict) and isinstance(config.get("enabled", False), bool)
    ):
        raise InvalidRequest(f'{where}.citations: Input should be {{"enabled": true|false}}')


def _check_cache_control(cache_control: Any, where: str) -> None:
    if cache_control is None:
        return
    if (
        not isinstance(cache_control, dict)
        or cache_control.get("type") != "ephemeral"
        or not set(cache_control) <= {"type", "ttl"}
        or cache_control.get("ttl", "5m") not in TTL_SECONDS
    ):
        raise InvalidRequest(
            f'{where}.cache_control: Input should be {{"type": "ephemeral"}}, '
            'optionally with "ttl": "5m" or "1h"'
        )


def _marks(blocks: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    """The cache_control entries of top-level blocks, shape-checked, in order."""
    for j, block in enumerate(blocks):
        _check_cache_control(block.get("cache_control"), f"{where}.{j}")
    return [block["cache_control"] for block in blocks if block.get("cache_control")]


BLOCK_CHECKS = {
    "text": _check_text,
    "document": _check_document,
    "search_result": _check_search,
    "tool_use": _check_tool_use,
    "tool_result": _check_tool_result,
}


# ------------------------------------------------------------------- tokens and the cache


@dataclass(frozen=True)
class Breakpoint:
    """A block carrying cache_control: the prompt prefix up to and including it."""

    tokens: int
    key: str
    ttl: str


def prompt_blocks(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The prompt in cache-prefix order, as (where, block): system blocks, then each
    message's blocks; string content counts as one text block."""
    system = body.get("system")
    blocks = [("system", block) for block in _as_blocks(system)] if system is not None else []
    for i, message in enumerate(body["messages"]):
        blocks += [(f"{message['role']}:{i}", block) for block in _as_blocks(message["content"])]
    return blocks


def _as_blocks(content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def block_texts(block: dict[str, Any]) -> list[str]:
    """Every piece of text a block puts in the prompt, each counted on its own."""
    kind = block["type"]
    if kind == "text":
        return [block["text"]]
    if kind == "tool_use":
        return [block["name"], json.dumps(block["input"])]
    if kind == "tool_result":
        content = block.get("content") or []
        if isinstance(content, str):
            return [content]
        return [text for inner in content for text in block_texts(inner)]
    if kind == "search_result":
        return [block["source"], block["title"], *(part["text"] for part in block["content"])]
    texts = [block.get("title") or "", block.get("context") or ""]
    source = block["source"]
    if source["type"] == "text":
        return [*texts, source["data"]]
    return texts + [text for text, _ in unit_parts(source)]


def breakpoints(body: dict[str, Any]) -> tuple[int, list[Breakpoint]]:
    """Total input tokens, and the request's cache breakpoints in prompt order. A key is
    the model plus a hash of the canonical JSON of the prefix without cache_control, so
    only a byte-identical prefix (up to cache marks) hits."""
    total = 0
    prefix: list[Any] = []
    found: list[Breakpoint] = []
    for where, block in prompt_blocks(body):
        total += sum(tokens(text) for text in block_texts(block))
        prefix.append([where, _without_cache_control(block)])
        cache_control = block.get("cache_control")
        if cache_control:
            canonical = json.dumps(prefix, sort_keys=True, separators=(",", ":"))
            digest = hashlib.sha256(canonical.encode()).hexdigest()
            found.append(
                Breakpoint(total, f"{body['model']}:{digest}", cache_control.get("ttl", "5m"))
            )
    return total, found


def _without_cache_control(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_cache_control(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [_without_cache_control(v) for v in value]
    return value


# ------------------------------------------------------------------------------- answers


@dataclass(frozen=True)
class Unit:
    """A citable source: a document (`document_index`) or a search result
    (`search_result_index`), with its citable parts. Plain-text documents are cut into
    sentences and cited by character range, as the real API does."""

    kind: str
    index: int
    block: dict[str, Any]
    parts: list[tuple[str, int]]  # (text, start character; -1 for content blocks)


def unit_parts(source: dict[str, Any]) -> list[tuple[str, int]]:
    """A document source's citable parts: content blocks, or sentences of plain text."""
    if source["type"] == "text":
        return [
            (m.group().rstrip(), m.start())
            for m in re.finditer(r"[^.!?]+[.!?]*\s*", source["data"])
        ]
    content = source["content"]
    return [(content, -1)] if isinstance(content, str) else [(b["text"], -1) for b in content]


def units(body: dict[str, Any]) -> list[Unit]:
    """All documents and search results of the request, numbered separately, 0-based,
    across all messages."""
    found: list[Unit] = []
    counts = {"document": 0, "search_result": 0}
    for message in body["messages"]:
        for block in _sources_in(_as_blocks(message["content"])):
            kind = block["type"]
            if kind in counts:
                parts = (
                    unit_parts(block["source"])
                    if kind == "document"
                    else [(part["text"], -1) for part in block["content"]]
                )
                found.append(Unit(kind, counts[kind], block, parts))
                counts[kind] += 1
    return found


def _sources_in(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The blocks of a message with each tool result's own blocks in its place, in order:
    the real API numbers search results across messages and tool results alike."""
    flat: list[dict[str, Any]] = []
    for block in blocks:
        if block["type"] != "tool_result":
            flat.append(block)
        elif isinstance(block.get("content"), list):
            flat.extend(block["content"])
    return flat


def _citable(unit: Unit) -> bool:
    # The real API cites a document only when asked to; a search result is cited unless
    # its citations are switched off.
    enabled = (unit.block.get("citations") or {}).get("enabled")
    return enabled is True if unit.kind == "document" else enabled is not False


def question(body: dict[str, Any]) -> str:
    """The text blocks of the last user message that is not tool results, joined: in a
    tool loop, the question asked before the searches."""
    for message in reversed(body["messages"]):
        blocks = _as_blocks(message["content"])
        if message["role"] == "user" and not any(b["type"] == "tool_result" for b in blocks):
            return " ".join(block["text"] for block in blocks if block["type"] == "text")
    return ""


def tool_results(body: dict[str, Any]) -> int:
    """How many tool results the request carries: the rounds of searching so far."""
    return sum(
        1
        for message in body["messages"]
        for block in _as_blocks(message["content"])
        if block["type"] == "tool_result"
    )


def offers_tools(body: dict[str, Any]) -> bool:
    """Whether the model may call a tool in this reply."""
    choice = (body.get("tool_choice") or {}).get("type", "auto")
    return bool(body.get("tools")) and choice != "none"


def search_query(body: dict[str, Any]) -> str:
    """What a simple model would search for: the question's own words, in order (its first
    paragraph: what follows is the bot's note on the passages)."""
    asked = question(body).split("\n\n")[0].removeprefix("Question from a teammate:")
    wanted = words(asked)
    said = re.findall(r"[^\W\d_]{3,}", asked.lower())
    return " ".join(dict.fromkeys(w for w in said if w in wanted))


def tool_use(name: str, given: dict[str, Any], use_id: str) -> dict[str, Any]:
    """A tool_use content block, as the real API writes one."""
    return {"type": "tool_use", "id": use_id, "name": name, "input": given}


def words(text: str) -> set[str]:
    """Lowercased words of three letters or more, stopwords left out."""
    return {w for w in re.findall(r"[^\W\d_]{3,}", text.lower()) if w not in STOPWORDS}


def citation(unit: Unit, part: int, **overrides: Any) -> dict[str, Any]:
    """The citation of one part of a unit, in the real API's shape for its kind."""
    text, start = unit.parts[part]
    if unit.kind == "search_result":
        cited: dict[str, Any] = {
            "type": "search_result_location",
            "search_result_index": unit.index,
        }
        cited |= {"source": unit.block["source"], "title": unit.block["title"]}
    else:
        kind = "content_block_location" if start < 0 else "char_location"
        cited = {"type": kind, "document_index": unit.index}
        cited["document_title"] = unit.block.get("title")
    if start < 0:
        cited |= {"start_block_index": part, "end_block_index": part + 1}
    else:
        cited |= {"start_char_index": start, "end_char_index": start + len(text)}
    return {**cited, "cited_text": text, **overrides}


def _sentence(text: str) -> str:
    said = text.split()
    snippet = " ".join(said[:20]).rstrip(".,;:!?")
    return f"They said that {snippet}{'...' if len(said) > 20 else '.'}"


def answer(body: dict[str, Any], *, bad_citations: bool = False) -> list[dict[str, Any]]:
    """The response content: an intro, then a cited sentence for each of the (at most)
    two parts sharing most words with the question, best first, ties in request order.
    With `bad_citations`, three more sentences whose citations a careful client must
    refuse: an unknown source index, a part past the end, a quote the part lacks."""
    asked = words(question(body))
    all_units = units(body)
    parts = [(u, p) for u in all_units if _citable(u) for p in range(len(u.parts))]
    scores = [len(asked & words(unit.parts[part][0])) for unit, part in parts]
    # Stable sort: equal scores keep request order.
    ranked = sorted(range(len(parts)), key=lambda i: -scores[i])
    chosen = [parts[i] for i in ranked if scores[i] > 0][:2]
    if not chosen:
        return [{"type": "text", "text": NOTHING_FOUND}]
    content: list[dict[str, Any]] = [{"type": "text", "text": INTRO}]
    for unit, part in chosen:
        sentence = _sentence(unit.parts[part][0])
        content.append({"type": "text", "text": sentence, "citations": [citation(unit, part)]})
    if bad_citations:
        unit, part = chosen[0]
        content += [
            {"type": "text", "text": text, "citations": [cited]}
            for text, cited in _bad(unit, part, all_units)
        ]
    return content


def _bad(unit: Unit, part: int, all_units: list[Unit]) -> list[tuple[str, dict[str, Any]]]:
    index_field = "search_result_index" if unit.kind == "search_result" else "document_index"
    unknown = sum(1 for other in all_units if other.kind == unit.kind)
    past = len(unit.parts)
    if unit.parts[part][1] >= 0:  # a plain-text document: characters past its end
        end = len(unit.block["source"]["data"])
        out_of_range = {"start_char_index": end, "end_char_index": end + len(unit.parts[part][0])}
    else:
        out_of_range = {"start_block_index": past, "end_block_index": past + 1}
    unknown_index = {index_field: unknown}
    return [
        ("They also cited a source the request never gave.", citation(unit, part, **unknown_index)),
        (
            "They also cited a part past the end of the source.",
            citation(unit, part, **out_of_range),
        ),
        ("They also quoted words the source lacks.", citation(unit, part, cited_text=NEVER_SAID)),
    ]


def output_tokens(content: list[dict[str, Any]]) -> int:
    """Tokens of the answer text and tool calls; cited_text is free, as in the real API."""
    return sum(
        tokens(block["text"]) if block["type"] == "text" else tokens(json.dumps(block["input"]))
        for block in content
    )


TURN_HEADER = re.compile(r"\(turn (\d+)[^)]*\): ")


def wants_takeaways(body: dict[str, Any]) -> bool:
    """A request for takeaways as JSON (the bot's takeaway writer), not for an answer."""
    system = body.get("system") or ""
    text = system if isinstance(system, str) else " ".join(b["text"] for b in system)
    return "takeaways" in text.lower() and "json" in text.lower()


def takeaways_json(body: dict[str, Any]) -> list[dict[str, Any]]:
    """What a model asked for takeaways would write: a JSON array, one item per passage of
    20 words or more (at most 30), quoting its first 15 words verbatim, plus two items a
    careful client must refuse (a quote the turn never says, a turn that was not given)."""
    items: list[dict[str, Any]] = []
    for unit in units(body):
        for text, _ in unit.parts:
            header = TURN_HEADER.search(text)
            if header is None:
                continue
            said = text[header.end() :]
            spans = list(re.finditer(r"\S+", said))
            if len(spans) < 20 or len(items) >= 30:
                continue
            quote = said[: spans[14].end()]
            items.append(
                {
                    "takeaway": "They argue that " + " ".join(s.group() for s in spans[:8]),
                    "turn": int(header.group(1)),
                    "quote": quote,
                    "question": "How does this apply to our team?",
                }
            )
    if items:
        items.append({**items[0], "quote": NEVER_SAID})
        items.append({**items[0], "turn": 99999})
    return [{"type": "text", "text": json.dumps(items, indent=1)}]
