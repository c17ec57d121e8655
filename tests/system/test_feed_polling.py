"""Podcast feeds as a team meets them: subscribed from Slack (`/episode feed add`), then
two real `serve` processes on one database polling the loopback feed server every few
seconds; a new episode arrives and is announced exactly once, and the channel then asks
about it."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.fakes.feed_server import FeedServer, Item, Transcript, rss
from tests.fakes.slack_api import SlackApiStandIn
from tests.system.test_slack_serve import _finished, _wait_for, running_server

VTT = """WEBVTT

00:00:01.000 --> 00:00:06.000
<v Ann>Welcome to episode {n}. Today we talk about choosing a pricing metric.

00:01:00.000 --> 00:01:09.000
<v Bo>Charge per seat only when seats track the value customers get. That is lesson {n}.
"""
FEED_ENV = {"FEEDS_ALLOW_PRIVATE": "true", "FEED_POLL_MINUTES": "0.05"}  # every 3 seconds


def _item(server: FeedServer, n: int) -> Item:
    server.serve(f"/t{n}.vtt", VTT.format(n=n).encode(), "text/vtt")
    return Item(
        guid=f"metric-{n}",
        title=f"Pricing metrics, part {n}",
        published=f"Tue, 0{n} Dec 2026 08:00:00 GMT",
        link=f"https://example.com/metrics/{n}",
        audio=f"https://example.com/metrics/{n}.mp3",
        transcripts=(Transcript(server.url + f"/t{n}.vtt", "text/vtt"),),
        guest="Bo Example",
    )


def _announcements(slack: SlackApiStandIn) -> list[str]:
    return [
        str(call.params.get("text"))
        for call in slack.calls_to("chat.postMessage")
        if "New episode" in str(call.params.get("text"))
    ]


def test_two_processes_polling_announce_a_new_episode_once(
    tmp_path: Path, slack: SlackApiStandIn, feed_server: FeedServer
) -> None:
    url = feed_server.url + "/feed.xml"
    feed_server.serve(
        "/feed.xml", rss("Metrics Weekly", [_item(feed_server, 1)]), "application/rss+xml"
    )
    database = f"sqlite:///{tmp_path / 'shared.db'}"
    env = {**FEED_ENV, "DATABASE_URL": database}
    with (
        running_server(tmp_path / "one", slack, **env) as one,
        running_server(tmp_path / "two", slack, **env) as two,
    ):
        before = len(slack.calls_to("response_url"))
        assert one.post(one.command(f"feed add {url}", channel_id="C0METRIC"))[0] == 200
        assert _wait_for(lambda: len(slack.calls_to("response_url")) > before, 30)
        reply = json.dumps(slack.calls_to("response_url")[before].params)
        assert "Subscribed this channel to *Metrics Weekly*" in reply
        assert "Pricing metrics, part 1" in reply

        feed_server.serve(
            "/feed.xml",
            rss("Metrics Weekly", [_item(feed_server, 2), _item(feed_server, 1)]),
            "application/rss+xml",
        )
        assert _wait_for(lambda: _announcements(slack), 30)
        time.sleep(6)  # two more polls of each process at least
        [announced] = _announcements(slack)
        assert "Pricing metrics, part 2" in announced
        [post] = [c for c in slack.calls_to("chat.postMessage") if "New episode" in str(c.params)]
        assert post.params["channel"] == "C0METRIC"

        # The channel now asks about the new episode by default.
        asked = two.command("ask when should we charge per seat?", channel_id="C0METRIC")
        assert two.post(asked)[0] == 200
        assert _wait_for(lambda: _finished(slack, "C0METRIC"), 30)
        answer = json.dumps(_finished(slack, "C0METRIC")[-1]["blocks"])
        assert "seats track the value" in answer and "lesson 1" not in answer
