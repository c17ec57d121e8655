"""The Anthropic Messages API stand-in speaks the wire format the real `anthropic` SDK
parses: cited answers, streams, usage with prompt caching, errors and retries."""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx2
import pytest

from tests.fakes.anthropic_answers import NOTHING_FOUND
from tests.fakes.anthropic_api import AnthropicStandIn

MODEL = "claude-sonnet-5-5"
SYSTEM = "Answer questions about the podcast episode, citing the transcript."
EPISODE = [
    "Welcome to Garden Hour, the podcast about growing food in small spaces.",
    "Tomatoes need at least six hours of direct sunlight and deep watering twice a week.",
    "Our guest Maria Lopez keeps bees on her apartment roof in Lisbon.",
    "Compost made from kitchen scraps feeds the soil for the whole season.",
    "Slugs can be stopped with copper tape around the raised beds.",
    "Next week we talk about saving seeds from heirloom beans.",
]
# Long enough that its prefix passes the 1024-token minimum for caching.
LONG = [
    f"Part {i}. " + "The hosts talk about soil, water, mulch and patience in the garden. " * 6
    for i in range(12)
]


class Clock:
    """A clock the test moves on by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(clock: Clock) -> Iterator[AnthropicStandIn]:
    stand_in = AnthropicStandIn(clock=clock).start()
    yield stand_in
    stand_in.stop()


def client(api: AnthropicStandIn, **options: Any) -> anthropic.Anthropic:
    options.setdefault("max_retries", 0)
    return anthropic.Anthropic(api_key=api.api_key, base_url=api.url, **options)


def tk(text: str) -> int:
    return math.ceil(len(text) / 4)


def document(texts: list[str], title: str = "Garden Hour", **extra: Any) -> dict[str, Any]:
    content = [{"type": "text", "text": text} for text in texts]
    return {
        "type": "document",
        "source": {"type": "content", "content": content},
        "title": title,
        "citations": {"enabled": True},
        **extra,
    }


def search_result(source: str, texts: list[str]) -> dict[str, Any]:
    content = [{"type": "text", "text": text} for text in texts]
    return {"type": "search_result", "source": source, "title": source.upper(), "content": content}


def request(question: str, *sources: dict[str, Any], **extra: Any) -> dict[str, Any]:
    content = [*sources, {"type": "text", "text": question}]
    return {
        "model": MODEL,
        "max_tokens": 512,
        "system": SYSTEM,
        "messages": [{"role": "user", "content": content}],
        **extra,
    }


def cited(message: Any) -> list[Any]:
    return [c for block in message.content for c in block.citations or []]


def dumped(message: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    # A streamed message's blocks are ParsedTextBlocks, with one more field.
    content = [block.model_dump(exclude={"parsed_output"}) for block in message.content]
    return content, message.usage.model_dump()


def test_document_citations_point_at_the_blocks_they_quote(api: AnthropicStandIn) -> None:
    question = "Where does Maria keep bees, and what stopped the slugs?"
    other = document(["An unrelated note."], title="Notes")
    message = client(api).messages.create(**request(question, other, document(EPISODE)))
    assert message.content[0].text == "From the episode: " and not message.content[0].citations
    assert [(c.start_block_index, c.end_block_index) for c in cited(message)] == [(2, 3), (4, 5)]
    for citation in cited(message):
        assert citation.type == "content_block_location"
        assert citation.document_index == 1 and citation.document_title == "Garden Hour"
        assert citation.cited_text == EPISODE[citation.start_block_index]
    assert message.content[1].text.startswith("They said that Our guest Maria Lopez")
    assert message.stop_reason == "end_turn" and message.model == MODEL


def test_search_results_are_numbered_across_messages(api: AnthropicStandIn) -> None:
    first = [search_result("ep1#intro", ["A show about gardens."]), {"type": "text", "text": "Hi?"}]
    body = request(
        "How often should tomatoes get watered?",
        search_result("ep1#bees", ["Maria keeps bees."]),
        search_result("ep1#tomatoes", ["Seeds first.", EPISODE[1]]),
    )
    body["messages"][:0] = [
        {"role": "user", "content": first},
        {"role": "assistant", "content": "It is about gardens."},
    ]
    [citation] = cited(client(api).messages.create(**body))
    assert citation.type == "search_result_location"
    assert (citation.search_result_index, citation.source, citation.title) == (
        2,
        "ep1#tomatoes",
        "EP1#TOMATOES",
    )
    assert (citation.start_block_index, citation.end_block_index) == (1, 2)
    assert citation.cited_text == EPISODE[1]


def test_plain_text_documents_are_cited_by_character_range(api: AnthropicStandIn) -> None:
    data = "Tomatoes like sun. Maria keeps bees on her roof. Slugs hate copper."
    source = {"type": "text", "media_type": "text/plain", "data": data}
    doc = {"type": "document", "source": source, "citations": {"enabled": True}}
    [citation] = cited(client(api).messages.create(**request("Who keeps bees?", doc)))
    assert citation.type == "char_location" and citation.document_title is None
    assert citation.cited_text == "Maria keeps bees on her roof."
    assert data[citation.start_char_index : citation.end_char_index] == citation.cited_text


def test_no_overlap_or_citations_off_means_no_citations(api: AnthropicStandIn) -> None:
    sdk = client(api)
    off = document(EPISODE, citations={"enabled": False})
    for body in (request("Quantum chromodynamics?", document(EPISODE)), request("Bees?", off)):
        message = sdk.messages.create(**body)
        assert [block.text for block in message.content] == [NOTHING_FOUND]
        assert not cited(message)


def test_streaming_and_non_streaming_give_the_same_message(
    api: AnthropicStandIn, clock: Clock
) -> None:
    body = request("Who keeps bees?", document(LONG + EPISODE, cache_control={"type": "ephemeral"}))
    sdk = client(api)
    for expect_read in (False, True):
        if not expect_read:
            clock.now += 1000  # whatever is cached expires: both calls write the cache
        plain = sdk.messages.create(**body)
        if not expect_read:
            clock.now += 1000
        with sdk.messages.stream(**body) as stream:
            streamed = stream.get_final_message()
        assert dumped(streamed) == dumped(plain)
        assert (plain.usage.cache_read_input_tokens > 0) is expect_read
        assert (plain.usage.cache_creation_input_tokens > 0) is not expect_read
        assert streamed.usage.output_tokens == tk("".join(b.text for b in plain.content))
    events = [event.type for event in sdk.messages.create(**body, stream=True)]
    assert events[:2] == ["message_start", "content_block_start"]
    assert events[-2:] == ["message_delta", "message_stop"]
    assert events.count("content_block_stop") == len(plain.content) == 2


def test_a_cached_prefix_is_written_read_and_expires(api: AnthropicStandIn, clock: Clock) -> None:
    doc = document(LONG, cache_control={"type": "ephemeral"})
    prefix = tk(SYSTEM) + tk("Garden Hour") + sum(tk(text) for text in LONG)
    assert prefix > 1024
    sdk = client(api)
    questions = ["What about soil?", "And the mulch, what was said?", "Water?"]
    usages = []
    for question, wait in zip(questions, (0, 299, 301), strict=True):
        clock.now += wait
        usages.append(sdk.messages.create(**request(question, doc)).usage)
    written, read, expired = usages
    assert (written.cache_creation_input_tokens, written.cache_read_input_tokens) == (prefix, 0)
    assert written.cache_creation.ephemeral_5m_input_tokens == prefix
    assert written.input_tokens == tk(questions[0])
    assert (read.cache_creation_input_tokens, read.cache_read_input_tokens) == (0, prefix)
    assert read.input_tokens == tk(questions[1])
    # 301 s after its last read, the entry is gone: written again.
    assert (expired.cache_creation_input_tokens, expired.cache_read_input_tokens) == (prefix, 0)
    assert [r.usage for r in api.requests] == [u.model_dump(exclude_none=True) for u in usages]


def test_an_hour_ttl_outlives_five_minutes(api: AnthropicStandIn, clock: Clock) -> None:
    body = request("Soil?", document(LONG, cache_control={"type": "ephemeral", "ttl": "1h"}))
    sdk = client(api)
    written = sdk.messages.create(**body).usage
    assert written.cache_creation.ephemeral_1h_input_tokens == written.cache_creation_input_tokens
    clock.now += 1800
    assert sdk.messages.create(**body).usage.cache_read_input_tokens > 1024
    clock.now += 3601
    assert sdk.messages.create(**body).usage.cache_read_input_tokens == 0


def test_no_cache_control_or_a_short_prefix_caches_nothing(api: AnthropicStandIn) -> None:
    sdk = client(api)
    short = document(EPISODE, cache_control={"type": "ephemeral"})
    for texts, doc in ((LONG, document(LONG)), (EPISODE, short)):
        for _ in range(2):
            usage = sdk.messages.create(**request("Soil?", doc)).usage
            assert (usage.cache_creation_input_tokens, usage.cache_read_input_tokens) == (0, 0)
            assert usage.cache_creation.model_dump() == {
                "ephemeral_5m_input_tokens": 0,
                "ephemeral_1h_input_tokens": 0,
            }
            everything = tk(SYSTEM) + tk("Garden Hour") + sum(map(tk, texts)) + tk("Soil?")
            assert usage.input_tokens == everything


def test_a_wrong_key_is_refused_everywhere(api: AnthropicStandIn) -> None:
    wrong = anthropic.Anthropic(api_key="sk-ant-wrong", base_url=api.url, max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as raised:
        wrong.messages.create(**request("Bees?", document(EPISODE)))
    assert raised.value.body["error"]["type"] == "authentication_error"
    with pytest.raises(anthropic.AuthenticationError):
        wrong.models.retrieve(MODEL)
    assert [r.status for r in api.requests] == [401, 401]


def _raw_post(api: AnthropicStandIn, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    body = json.dumps(request("Bees?", document(EPISODE))).encode()
    post = urllib.request.Request(f"{api.url}/v1/messages", body, headers, method="POST")
    # No proxy from the environment: the stand-in is on loopback.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(post, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_the_documented_key_header_works_and_the_version_header_is_required(
    api: AnthropicStandIn,
) -> None:
    headers = {"content-type": "application/json", "x-api-key": api.api_key}
    status, body = _raw_post(api, headers)
    assert (status, body["error"]["type"]) == (400, "invalid_request_error")
    assert "anthropic-version" in body["error"]["message"] and body["request_id"]
    status, body = _raw_post(api, {**headers, "anthropic-version": "2023-06-01"})
    assert status == 200 and body["type"] == "message"


@pytest.mark.parametrize(
    ("kind", "error", "status", "error_type"),
    [
        ("429", anthropic.RateLimitError, 429, "rate_limit_error"),
        ("529", anthropic.OverloadedError, 529, "overloaded_error"),
        ("500", anthropic.InternalServerError, 500, "api_error"),
        ("401", anthropic.AuthenticationError, 401, "authentication_error"),
    ],
)
def test_each_fault_reaches_the_sdk_as_its_error(
    api: AnthropicStandIn, kind: str, error: type[Exception], status: int, error_type: str
) -> None:
    sdk = client(api)
    body = request("Bees?", document(EPISODE))
    api.fail_next(kind)
    with pytest.raises(error) as raised:
        sdk.messages.create(**body)
    assert isinstance(raised.value, anthropic.APIStatusError)
    assert raised.value.status_code == status and raised.value.type == error_type
    assert raised.value.request_id and raised.value.request_id.startswith("req_")
    if kind == "429":
        assert raised.value.response.headers["retry-after"] == "1"
    api.fail_next(kind)
    with pytest.raises(error), sdk.messages.stream(**body) as stream:  # as the bot asks
        stream.get_final_message()
    assert sdk.messages.create(**body).content  # only the next call failed
    assert [r.status for r in api.requests] == [status, status, 200]
    assert api.requests[0].usage is None and api.requests[2].usage


def test_overloaded_is_an_internal_server_error_in_the_sdk() -> None:
    assert issubclass(anthropic.OverloadedError, anthropic.InternalServerError)


def test_a_slow_answer_times_the_client_out_and_stop_is_prompt(api: AnthropicStandIn) -> None:
    api.fail_next("timeout")
    started = time.monotonic()
    with pytest.raises(anthropic.APITimeoutError):
        client(api, timeout=0.5).messages.create(**request("Bees?", document(EPISODE)))
    assert time.monotonic() - started < 2
    assert api.requests[0].status == 200  # what it would have answered, late
    stopping = time.monotonic()
    api.stop()  # while the handler still holds its answer back
    assert time.monotonic() - stopping < 1


def test_a_slow_answer_arrives_for_a_patient_client(api: AnthropicStandIn) -> None:
    api.timeout_seconds = 0.2
    api.fail_next("timeout")
    started = time.monotonic()
    message = client(api, timeout=5).messages.create(**request("Bees?", document(EPISODE)))
    assert time.monotonic() - started >= 0.2 and cited(message)


def test_a_429_is_retried_after_retry_after(api: AnthropicStandIn) -> None:
    api.fail_next("429", retry_after=0.1)
    started = time.monotonic()
    message = client(api, max_retries=2).messages.create(**request("Bees?", document(EPISODE)))
    assert cited(message) and time.monotonic() - started >= 0.1
    assert [r.status for r in api.requests_to("/v1/messages")] == [429, 200]
    assert [r.headers["x-stainless-retry-count"] for r in api.requests] == ["0", "1"]


def _five_marks() -> dict[str, Any]:
    mark = {"cache_control": {"type": "ephemeral"}}
    system = [{"type": "text", "text": f"Rule {i}.", **mark} for i in range(5)]
    return {**request("Bees?", document(EPISODE)), "system": system}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (_five_marks(), "A maximum of 4 blocks with cache_control may be provided. Found 5."),
        (
            {
                **request("Bees?"),
                "messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
            },
            "roles must alternate",
        ),
        (
            {**request("Bees?"), "messages": [{"role": "assistant", "content": "Hi"}]},
            "roles must alternate",
        ),
        ({**request("Bees?"), "max_tokens": 0}, "max_tokens"),
        (request("Bees?", {"type": "image", "source": {}}), "messages.0.content.0.type"),
        (request("Bees?", document([])), "source.content"),
        (request("Bees?", document(EPISODE, cache_control={"type": "forever"})), "cache_control"),
    ],
)
def test_malformed_requests_are_refused(
    api: AnthropicStandIn, body: dict[str, Any], says: str
) -> None:
    with pytest.raises(anthropic.BadRequestError) as raised:
        client(api).messages.create(**body)
    assert raised.value.type == "invalid_request_error"
    assert says in raised.value.body["error"]["message"]
    [recorded] = api.requests
    assert (recorded.status, recorded.body) == (400, body)


def test_models_are_known_by_name(api: AnthropicStandIn) -> None:
    sdk = client(api)
    model = sdk.models.retrieve("claude-sonnet-5-5")
    assert (model.id, model.type, model.display_name) == (MODEL, "model", "Claude Sonnet 5.5")
    assert model.created_at.year == 2026
    for unknown in ("gpt-5", "my-model"):
        with pytest.raises(anthropic.NotFoundError):
            sdk.models.retrieve(unknown)
    with pytest.raises(anthropic.NotFoundError):
        sdk.messages.create(**{**request("Bees?"), "model": "my-model"})
    api.known_models = frozenset({"my-model"})
    assert sdk.models.retrieve("my-model").display_name == "My Model"
    assert api.requests_to("/v1/models/gpt-5")[0].status == 404


def _checks_out(citation: Any, sources: list[list[str]]) -> bool:
    """What a careful client verifies before showing a citation."""
    if not 0 <= citation.document_index < len(sources):
        return False
    blocks = sources[citation.document_index]
    start, end = citation.start_block_index, citation.end_block_index
    return 0 <= start < end <= len(blocks) and citation.cited_text == "".join(blocks[start:end])


def test_bad_citations_come_when_asked_and_only_then(api: AnthropicStandIn) -> None:
    sdk = client(api)
    body = request("Where does Maria keep her bees?", document(EPISODE))
    api.bad_citations_next()
    bad = sdk.messages.create(**body)
    assert [_checks_out(c, [EPISODE]) for c in cited(bad)] == [True, False, False, False]
    unknown, past, misquoted = cited(bad)[1:]
    assert unknown.document_index == 1 and unknown.cited_text == EPISODE[2]
    assert past.start_block_index == len(EPISODE)
    assert misquoted.start_block_index == 2 and misquoted.cited_text != EPISODE[2]
    assert [_checks_out(c, [EPISODE]) for c in cited(sdk.messages.create(**body))] == [True]


def _timed_text(stream: Any, started: float) -> list[tuple[float, str]]:
    """Each piece of text of `stream`, with when it arrived, in seconds after `started`."""
    return [(time.monotonic() - started, text) for text in stream.text_stream]


def test_a_paced_stream_starts_and_ends_as_a_model_would(api: AnthropicStandIn) -> None:
    body = request("Where does Maria keep bees, and what stopped the slugs?", document(EPISODE))
    sdk = client(api)
    with sdk.messages.stream(**body) as stream:
        unpaced = stream.get_final_message()
    api.set_pace(0.3, 0.8)
    started = time.monotonic()
    with sdk.messages.stream(**body) as stream:
        pieces = _timed_text(stream, started)
        paced = stream.get_final_message()
    done = time.monotonic() - started
    assert dumped(paced) == dumped(unpaced)  # the same answer, only slower
    times = [at for at, _ in pieces]
    # Not before first_token_seconds, and well before the end: the first words come early.
    assert 0.3 <= times[0] < 0.6
    # Spread out, not sent in one burst at the end.
    assert times[len(times) // 2] - times[0] > 0.15
    assert done >= 0.8
    recorded = api.requests[-1]
    assert recorded.first_delta_sent is not None and recorded.last_delta_sent is not None
    assert 0.3 <= recorded.first_delta_sent - recorded.arrived < 0.45
    assert 0.8 <= recorded.last_delta_sent - recorded.arrived < 0.95
    # The recorded times are when the pieces went out: the client saw them just after.
    assert 0 <= started + times[0] - recorded.first_delta_sent < 0.1
    assert 0 <= started + done - recorded.last_delta_sent < 0.1
    # Unpaced, the answer came at once, and its times were recorded too.
    quick = api.requests[0]
    assert quick.first_delta_sent is not None and quick.last_delta_sent is not None
    assert quick.last_delta_sent - quick.arrived < 0.2


def test_a_paced_plain_answer_is_held_back_and_pace_none_turns_it_off(
    api: AnthropicStandIn,
) -> None:
    body = request("Who keeps bees?", document(EPISODE))
    sdk = client(api)
    api.set_pace(0.1, 0.4)
    started = time.monotonic()
    assert cited(sdk.messages.create(**body))
    assert time.monotonic() - started >= 0.4
    assert api.requests[-1].first_delta_sent is None  # nothing was streamed
    api.pace = None
    started = time.monotonic()
    with sdk.messages.stream(**body) as stream:
        stream.get_final_message()
    assert time.monotonic() - started < 0.3
    api.fail_next("429", retry_after=0)
    started = time.monotonic()
    api.set_pace(1.0, 2.0)
    with pytest.raises(anthropic.RateLimitError):  # errors come at once, paced or not
        sdk.messages.create(**body)
    assert time.monotonic() - started < 0.5
    with pytest.raises(ValueError):
        api.set_pace(1.0, 0.5)
    assert api.pace == (1.0, 2.0)


def test_stop_is_prompt_while_a_paced_stream_waits(api: AnthropicStandIn) -> None:
    api.set_pace(5.0, 10.0)
    texts: list[str] = []

    def ask() -> None:
        # Whatever the SDK makes of a stream that stops: only the stop's speed matters.
        with contextlib.suppress(Exception), client(api).messages.stream(**request("Bees?")) as s:
            texts.extend(s.text_stream)

    asker = threading.Thread(target=ask)
    asker.start()
    deadline = time.monotonic() + 2
    while not api.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    stopping = time.monotonic()
    api.stop()
    asker.join(2)
    assert time.monotonic() - stopping < 1 and not asker.is_alive() and not texts


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        # The connection drops inside a chunked body: the SDK does not wrap that.
        ("cut_midway", httpx2.RemoteProtocolError),
        # An error event: raised with the stream's own status, 200, so not as an
        # OverloadedError (which the SDK picks by status, 529) but by its body's type.
        ("error_midway", anthropic.APIStatusError),
    ],
)
def test_a_stream_breaks_midway_after_some_text(
    api: AnthropicStandIn, kind: str, error: type[Exception]
) -> None:
    body = request("Where does Maria keep bees, and what stopped the slugs?", document(EPISODE))
    sdk = client(api)
    api.fail_next(kind)
    whole = "".join(block.text for block in sdk.messages.create(**body).content)
    assert cited(sdk.messages.create(**body))  # a plain request used up the fault
    api.fail_next(kind)
    texts: list[str] = []
    with pytest.raises(error) as raised, sdk.messages.stream(**body) as stream:
        texts.extend(stream.text_stream)
    # Some of the answer, the start of it, and not all of it.
    received = "".join(texts)
    assert received and whole.startswith(received) and len(received) < len(whole)
    if kind == "error_midway":
        assert isinstance(raised.value, anthropic.APIStatusError)
        assert raised.value.status_code == 200 and raised.value.type == "overloaded_error"
    broken = api.requests[-1]
    assert broken.status == 200 and broken.first_delta_sent is not None
    assert broken.last_delta_sent is not None
    with sdk.messages.stream(**body) as stream:  # only that stream broke
        assert "".join(stream.text_stream) == whole


def test_an_unknown_fault_is_refused(api: AnthropicStandIn) -> None:
    with pytest.raises(ValueError):
        api.fail_next("cut_halfway")
