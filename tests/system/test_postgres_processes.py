"""Two real `serve` processes on one PostgreSQL database, as behind a load balancer: asks
alternated between them are each answered once, a Slack retry that lands on the other
process is recognised, a thread's follow-up is answered by whichever process gets it, two
takeaway posters racing post once, and a PostgreSQL outage mid-run costs only the requests
made while it was down, each told in one sentence: answers being written meanwhile arrive
once, and both processes reconnect by themselves."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.slack.blocks import LIBRARY_TROUBLE
from tests.cli.test_cli import SCRIPT
from tests.fakes.anthropic_api import AnthropicStandIn
from tests.fakes.slack_api import SlackApiStandIn
from tests.postgres_cluster import Cluster, Unavailable
from tests.system.test_slack_serve import (
    ACK_BUDGET_S,
    BOT_TOKEN,
    SIGNING_SECRET,
    Server,
    _env,
    _event,
    _finished,
    _post_json,
    _wait_for,
    running_server,
)

MARKER = re.compile(r"\(#(\d+)\)")
KEY = "sk-ant-api03-two-processes-key-9f1d"


@contextmanager
def _two_servers(
    tmp_path: Path, slack: SlackApiStandIn, url: str, **extra_env: str
) -> Iterator[tuple[Server, Server]]:
    """Two `serve` processes on the database at `url`, one Slack stand-in for both."""
    with (
        running_server(tmp_path / "one", slack, DATABASE_URL=url, **extra_env) as one,
        running_server(tmp_path / "two", slack, DATABASE_URL=url, **extra_env) as two,
    ):
        yield one, two


@pytest.fixture
def pair(
    tmp_path: Path, slack: SlackApiStandIn, postgres_url: str
) -> Iterator[tuple[Server, Server]]:
    """Two `serve` processes on one new PostgreSQL database (the first migrates it and loads
    the sample episode)."""
    with _two_servers(tmp_path, slack, postgres_url) as servers:
        yield servers


def _answered(slack: SlackApiStandIn, channel: str = "C0CHANNEL") -> Counter[int]:
    """How many finished answers each numbered question got, whichever process wrote it."""
    found: Counter[int] = Counter()
    for message in _finished(slack, channel):
        if match := MARKER.search(json.dumps(message.get("blocks"), ensure_ascii=False)):
            found[int(match.group(1))] += 1
    return found


def _mention(number: int) -> dict[str, object]:
    return {
        "type": "app_mention",
        "channel": "C0CHANNEL",
        "user": "U0ASKER",
        "text": f"<@UBOT00001> who is Boris? (#{number})",
        "ts": f"1700000300.{number:06d}",
    }


def test_asks_alternated_between_two_processes_are_each_answered_once(
    pair: tuple[Server, Server], slack: SlackApiStandIn
) -> None:
    for number in range(20):
        server = pair[number % 2]
        status, _, seconds = server.post(server.command(f"ask Who is Boris? (#{number})"))
        assert status == 200 and seconds < ACK_BUDGET_S
    assert _wait_for(lambda: len(_answered(slack)) == 20, 60), _answered(slack)
    time.sleep(1.0)  # nothing more arrives
    assert _answered(slack) == {number: 1 for number in range(20)}


def test_a_retry_on_the_other_process_is_recognised_and_not_answered_again(
    pair: tuple[Server, Server], slack: SlackApiStandIn
) -> None:
    first, other = pair
    for number in range(5):
        event = _event(f"Ev0RETRY{number}", _mention(number))
        assert _post_json(first, event) == 200
        # Slack saw no acknowledgement in time and sends the event again, to the other.
        retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        assert _post_json(other, event, **retry) == 200
    # A slash command replayed to the other process (the same trigger_id) is one ask too.
    command = first.command("ask Who is Boris? (#5)")
    assert first.post(command)[0] == 200
    assert other.post(command)[0] == 200
    assert _wait_for(lambda: len(_answered(slack)) == 6, 60), _answered(slack)
    time.sleep(1.5)
    assert _answered(slack) == {number: 1 for number in range(6)}


def test_a_follow_up_is_answered_by_the_process_it_lands_on(
    pair: tuple[Server, Server], slack: SlackApiStandIn
) -> None:
    first, other = pair
    assert first.post(first.command("ask How does Mike describe the merge queue problem?"))[0]
    assert _wait_for(lambda: len(_finished(slack)) == 1, 30)
    [root] = _finished(slack)
    reply = {
        "type": "message",
        "channel": "C0CHANNEL",
        "user": "U0OTHER",
        "channel_type": "channel",
        "text": "tell me more about that",
        "ts": "1700000100.000100",
        "thread_ts": root["ts"],
    }
    assert _post_json(other, _event("Ev0FOLLOWUP", reply)) == 200
    assert _wait_for(lambda: len(_finished(slack)) == 2, 30)
    follow_up = _finished(slack)[1]
    assert follow_up.get("thread_ts") == root["ts"]
    # "tell me more about that" names nothing: the thread's first question, asked of the
    # other process, made it about the merge queue.
    rendered = json.dumps(follow_up["blocks"], ensure_ascii=False)
    assert "merge queue" in rendered


def test_an_episode_ingested_beside_them_is_found_by_both(
    pair: tuple[Server, Server], slack: SlackApiStandIn, tmp_path: Path, postgres_url: str
) -> None:
    for number, server in enumerate(pair):  # each builds its index of the library
        assert server.post(server.command(f"ask Who is Boris? (#{number})"))[0] == 200
    assert _wait_for(lambda: len(_answered(slack)) == 2, 30)
    transcript = tmp_path / "zanzibar-pricing.txt"
    transcript.write_text(
        "Ann Host: How did you price the Zanzibar launch?\n"
        "Bob Guest: We priced the Zanzibar launch by usage, with a free tier for small teams "
        "and a flat fee above a thousand seats, and we raised it twice in the first year.\n"
    )
    env = {**_env(tmp_path, slack), "DATABASE_URL": postgres_url}
    ingested = subprocess.run(
        [str(SCRIPT), "ingest", str(transcript)], env=env, capture_output=True, text=True
    )
    assert ingested.returncode == 0, ingested.stderr
    for number, server in enumerate(pair, start=2):
        question = f"ask How was the Zanzibar launch priced? (#{number})"
        assert server.post(server.command(question))[0] == 200
    assert _wait_for(lambda: len(_answered(slack)) == 4, 30)
    for message in _finished(slack)[2:]:
        assert "free tier for small teams" in json.dumps(message["blocks"]), message


def test_two_takeaway_posters_racing_post_once(
    tmp_path: Path, slack: SlackApiStandIn, postgres_url: str
) -> None:
    env = {**_env(tmp_path, slack), "DATABASE_URL": postgres_url}
    posters = [
        subprocess.Popen(
            [str(SCRIPT), "takeaway", "--post", "--channel", "C0DIGEST"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = sorted(poster.communicate(timeout=60)[0] for poster in posters)
    assert [poster.returncode for poster in posters] == [0, 0], outputs
    # Whichever loaded the sample says so; the other finds it there and says nothing of it.
    loaded = "The library was empty, so I loaded the sample episode"
    assert sum(loaded in output for output in outputs) == 1, outputs
    said = sorted(output.splitlines()[-1] for output in outputs)
    assert said[0].startswith("Nothing posted to C0DIGEST: today's takeaway was"), said
    assert said[1].startswith("Posted to C0DIGEST: "), said
    assert len(slack.calls_to("chat.postMessage")) == 1


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    """A cluster of this test's own, since the test stops it."""
    try:
        cluster = Cluster.in_temporary_folder(outages=True).start()
    except Unavailable as why:
        pytest.skip(f"PostgreSQL tests skipped: {why}")
    yield cluster
    cluster.stop()


def test_a_postgresql_restart_costs_only_the_asks_made_while_it_was_down(
    tmp_path: Path, slack: SlackApiStandIn, own_cluster: Cluster
) -> None:
    url = own_cluster.create_database()
    with _two_servers(tmp_path, slack, url) as servers:
        for number in range(4):
            server = servers[number % 2]
            assert server.post(server.command(f"ask Who is Boris? (#{number})"))[0] == 200
        assert _wait_for(lambda: len(_answered(slack)) == 4, 60)

        own_cluster.go_down()
        for number in range(4, 6):
            server = servers[number % 2]
            status, _, seconds = server.post(server.command(f"ask Who is Boris? (#{number})"))
            assert status == 200 and seconds < ACK_BUDGET_S
        # Each asker is told, in one sentence, that the question was not taken.
        assert _wait_for(lambda: len(slack.calls_to("response_url")) == 2, 60)
        told = [call.params for call in slack.calls_to("response_url")]
        assert [(reply["response_type"], reply["text"]) for reply in told] == [
            ("ephemeral", LIBRARY_TROUBLE)
        ] * 2

        own_cluster.come_back()
        # Both processes reconnect by themselves: the next asks, to either, are answered.
        for number in range(6, 10):
            server = servers[number % 2]
            assert server.post(server.command(f"ask Who is Boris? (#{number})"))[0] == 200
        assert _wait_for(lambda: len(_answered(slack)) == 8, 60), _answered(slack)
        time.sleep(1.0)
        assert _answered(slack) == {n: 1 for n in (0, 1, 2, 3, 6, 7, 8, 9)}
        for server in servers:
            assert server.process.poll() is None  # still running


def test_answers_being_written_when_postgresql_restarts_arrive_once_and_are_crossed_off(
    tmp_path: Path, slack: SlackApiStandIn, own_cluster: Cluster
) -> None:
    claude = AnthropicStandIn(api_key=KEY, search_first=False).start()
    claude.set_pace(0.5, 4.0)  # each answer: first words after 0.5 s, the last after 4 s
    url = own_cluster.create_database()
    claude_env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": claude.url}
    try:
        with _two_servers(tmp_path, slack, url, **claude_env) as servers:
            for number in range(4):
                server = servers[number % 2]
                assert server.post(server.command(f"ask Who is Boris? (#{number})"))[0] == 200

            def writing() -> list[float]:
                requests = claude.requests_to("/v1/messages")
                return [r.first_delta_sent for r in requests if r.first_delta_sent is not None]

            assert _wait_for(lambda: len(writing()) == 4, 30)
            # Down from just before the first answer is finished until well after the last:
            # they are finished while it is away, and stored and crossed off once it is back.
            time.sleep(max(0.0, min(writing()) + 3.3 - time.monotonic()))
            assert _answered(slack) == {}
            down = time.monotonic()
            own_cluster.go_down()
            time.sleep(3.0)
            up = time.monotonic()
            own_cluster.come_back()
            # Claude finished every answer while the database was away.
            ended = [r.last_delta_sent for r in claude.requests_to("/v1/messages")]
            assert all(end is not None and down < end < up for end in ended), (down, ended, up)
            assert _wait_for(lambda: len(_answered(slack)) == 4, 60), _answered(slack)
            time.sleep(1.0)
            assert _answered(slack) == {number: 1 for number in range(4)}
            # Each is crossed off, so no process answers it again when its lease runs out.
            assert _wait_for(lambda: _states(url) == {"done": 4}, 30), _states(url)
    finally:
        claude.stop()


def _states(url: str) -> Counter[str]:
    import psycopg

    with psycopg.connect(url.replace("+psycopg", "")) as db:
        return Counter(state for (state,) in db.execute("SELECT state FROM pending_asks"))


def test_nothing_secret_is_stored_in_the_shared_database(
    pair: tuple[Server, Server], slack: SlackApiStandIn, postgres_url: str
) -> None:
    for number, server in enumerate(pair):
        assert server.post(server.command(f"ask Who is Boris? (#{number})"))[0] == 200
    assert _wait_for(lambda: len(_answered(slack)) == 2, 30)
    import psycopg

    with psycopg.connect(postgres_url.replace("+psycopg", "")) as db:
        tables = db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        stored = "".join(
            str(row) for (table,) in tables for row in db.execute(f'SELECT * FROM "{table}"')
        )
    assert "Who is Boris? (#0)" in stored  # the dump did read the asks
    assert BOT_TOKEN not in stored and SIGNING_SECRET not in stored
