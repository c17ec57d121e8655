"""`episode-bot feed` and `episode-bot remove` as a user runs them: real subprocesses on a
real database, feeds served by the loopback feed server."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.cli.test_cli import SCRIPT, run
from tests.conftest import SEED_SLUG
from tests.fakes.feed_server import BILLION_LAUGHS, FeedServer, Item, Transcript, rss

SRT = """1
00:00:01,000 --> 00:00:05,000
Ann: Welcome to part {n}. Today we talk about onboarding new users.

2
00:00:30,000 --> 00:00:40,000
Bo: Onboarding is where most products lose their users, so measure step {n} first.
"""


def _feed(server: FeedServer, *numbers: int, waiting: int | None = None) -> str:
    items = []
    for n in numbers:
        server.serve(f"/e{n}.srt", SRT.format(n=n).encode(), "application/x-subrip")
        offers = () if n == waiting else (Transcript(server.url + f"/e{n}.srt", "application/srt"),)
        items.append(
            Item(
                guid=f"onboarding-{n}",
                title=f"Onboarding, part {n}",
                published=f"Wed, 0{n} Dec 2026 07:00:00 GMT",
                transcripts=offers,
            )
        )
    server.serve("/show.xml", rss("Onboarding Hour", items))
    return server.url + "/show.xml"


def test_feed_add_list_poll_and_remove(
    env: dict[str, str], tmp_path: Path, feed_server: FeedServer
) -> None:
    own = {**env, "FEEDS_ALLOW_PRIVATE": "true"}
    url = _feed(feed_server, 1)
    added = run("feed", "add", url, "--channel", "C0ONBOARD", env=own, cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert "Subscribed to Onboarding Hour (feed 1)." in added.stdout
    assert "1 loaded" in added.stdout

    _feed(feed_server, 3, 2, 1, waiting=3)
    polled = run("feed", "poll", env=own, cwd=tmp_path)
    assert polled.returncode == 0, polled.stderr
    # No Slack set up: loaded, announced later by serve.
    assert "Polled 1 feeds: 1 episodes loaded, 0 announced." in polled.stdout
    listed = run("feed", "list", env=own, cwd=tmp_path)
    assert "1. Onboarding Hour" in listed.stdout and "announced in C0ONBOARD" in listed.stdout
    assert "2 loaded, 1 waiting" in listed.stdout
    assert "waiting: Onboarding, part 3: the feed offers no transcript for it yet" in listed.stdout
    as_json = json.loads(run("feed", "list", "--json", env=own, cwd=tmp_path).stdout)
    assert [i["state"] for i in as_json[0]["items"]] == ["waiting", "ingested", "ingested"]

    removed = run("remove", "onboarding-part-2", "--yes", env=own, cwd=tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert (
        "deletes its 2 passages" in removed.stdout
        and "Removed onboarding-part-2." in removed.stdout
    )
    episodes = run("episodes", env=own, cwd=tmp_path).stdout
    assert "onboarding-part-2" not in episodes and "onboarding-part-1" in episodes
    assert "1 removed since" in run("feed", "list", env=own, cwd=tmp_path).stdout

    gone = run("feed", "remove", url, env=own, cwd=tmp_path)
    assert gone.returncode == 0 and "its episodes stay" in gone.stdout
    assert "No feeds yet" in run("feed", "list", env=own, cwd=tmp_path).stdout


def test_feed_problems_are_one_sentence_and_store_nothing(
    env: dict[str, str], tmp_path: Path, feed_server: FeedServer
) -> None:
    refused = run("feed", "add", feed_server.url + "/show.xml", env=env, cwd=tmp_path)
    assert refused.returncode == 1 and "private or local address" in refused.stderr
    own = {**env, "FEEDS_ALLOW_PRIVATE": "true"}
    feed_server.serve("/laughs.xml", BILLION_LAUGHS)
    laughs = run("feed", "add", feed_server.url + "/laughs.xml", env=own, cwd=tmp_path)
    assert laughs.returncode == 1 and "entities" in laughs.stderr
    assert laughs.stderr.count("\n") == 1
    name = run("feed", "add", _feed(feed_server, 1), "--channel", "general", env=own, cwd=tmp_path)
    assert name.returncode == 1 and "not a channel id" in name.stderr
    assert "No feeds yet" in run("feed", "list", env=own, cwd=tmp_path).stdout


def test_remove_says_what_will_go_and_asks_first(env: dict[str, str], tmp_path: Path) -> None:
    assert run("episodes", env=env, cwd=tmp_path).returncode == 0  # loads the sample
    declined = subprocess.run(
        [str(SCRIPT), "remove", SEED_SLUG],
        input="n\n",
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "deletes its" in declined.stdout and "takeaways" in declined.stdout
    assert declined.returncode == 1
    assert SEED_SLUG in run("episodes", env=env, cwd=tmp_path).stdout
    unknown = run("remove", "no-such-episode", "--yes", env=env, cwd=tmp_path)
    assert unknown.returncode == 1 and "No episode has the slug" in unknown.stderr
