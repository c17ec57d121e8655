"""Polling podcast feeds: how long a poll takes when every feed has a new episode, and when
none changed (each feed answered 304).

    .venv/bin/python benchmarks/feeds.py              # 50 feeds, 3 new episodes each
    .venv/bin/python benchmarks/feeds.py --feeds 200 --episodes 1

A loopback feed server (the tests' stand-in) serves FEEDS real-shaped RSS feeds, each item
with a WebVTT transcript of about 150 cues (a 40-minute episode) and a chapters file. Each
feed is subscribed (its newest item loaded), then EPISODES new items are published on each and
one poll loads and announces them all (to an announcer that only counts); then a poll with
nothing new. Into a throwaway SQLite file with the real migrations.

A measurement script, not a test: it prints figures and exits 0 unless something breaks.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bot.config import Settings  # noqa: E402
from bot.services import feeds  # noqa: E402
from bot.services.feeds import Announcement  # noqa: E402
from bot.services.library import Library  # noqa: E402
from db.engine import open_database  # noqa: E402
from tests.fakes.feed_server import FeedServer, Item, Transcript, rss  # noqa: E402

CUES = 150
WORDS = (
    "pricing onboarding retention activation churn roadmap hiring feedback metrics growth "
    "experiments customers positioning strategy launch design research interviews"
).split()


class Counting:
    """An announcer that counts what it is given."""

    def __init__(self) -> None:
        self.count = 0

    def announce(self, team: str, channel: str, announcement: Announcement) -> str:
        self.count += 1
        return f"1700000000.{self.count:06d}"


def _vtt(feed: int, episode: int) -> bytes:
    lines = ["WEBVTT", ""]
    for cue in range(CUES):
        start = cue * 16
        speaker = "Host" if cue % 2 == 0 else f"Guest {feed}"
        said = " ".join(WORDS[(feed + episode + cue + k) % len(WORDS)] for k in range(25))
        lines += [
            f"{start // 3600:02d}:{start // 60 % 60:02d}:{start % 60:02d}.000 --> "
            f"{(start + 15) // 3600:02d}:{(start + 15) // 60 % 60:02d}:{(start + 15) % 60:02d}.000",
            f"<v {speaker}>Episode {episode} of show {feed}, cue {cue}: {said}.",
            "",
        ]
    return "\n".join(lines).encode()


def _publish(server: FeedServer, feed: int, episodes: int) -> None:
    items = []
    for n in range(episodes, 0, -1):
        path = f"/f{feed}/e{n}.vtt"
        server.serve(path, _vtt(feed, n), "text/vtt")
        chapters = f"/f{feed}/c{n}.json"
        server.serve(
            chapters,
            b'{"version": "1.2.0", "chapters": [{"startTime": 0, "title": "Intro"}, '
            b'{"startTime": 600, "title": "The interview"}]}',
            "application/json+chapters",
        )
        items.append(
            Item(
                guid=f"show-{feed}-episode-{n}",
                title=f"Show {feed}, episode {n}",
                published=f"Mon, {n:02d} Nov 2026 08:00:00 GMT",
                link=f"https://example.com/{feed}/{n}",
                transcripts=(Transcript(server.url + path, "text/vtt"),),
                chapters=server.url + chapters,
                description=f"Show {feed} talks about {WORDS[n % len(WORDS)]}.",
            )
        )
    server.serve(f"/f{feed}.xml", rss(f"Show {feed}", items), etag=f'"{feed}-{episodes}"')


def main(argv: Sequence[str] | None = None) -> int:
    """Subscribe, publish, poll twice; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--episodes", type=int, default=3, help="new episodes per feed")
    args = parser.parse_args(argv)
    settings = Settings(feeds_allow_private=True)
    server = FeedServer().start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            library = Library(open_database(f"sqlite:///{folder}/feeds.db"))
            subscribing = []
            for feed in range(args.feeds):
                _publish(server, feed, 1)
                started = time.perf_counter()
                feeds.subscribe(library, settings, f"{server.url}/f{feed}.xml", channel="C0BENCH")
                subscribing.append((time.perf_counter() - started) * 1000)
            for feed in range(args.feeds):
                _publish(server, feed, 1 + args.episodes)
            announcer = Counting()
            started = time.perf_counter()
            loaded = feeds.poll(library, settings, announcer)
            busy = time.perf_counter() - started
            started = time.perf_counter()
            quiet = feeds.poll(library, settings, announcer)
            unchanged = time.perf_counter() - started
    finally:
        server.stop()
    new = args.feeds * args.episodes
    print(
        f"subscribe (fetch, parse, load the newest episode): p50 "
        f"{statistics.median(subscribing):.0f} ms, max {max(subscribing):.0f} ms per feed"
    )
    print(
        f"poll with {new} new episodes over {args.feeds} feeds: {busy:.1f} s "
        f"({busy / max(new, 1) * 1000:.0f} ms an episode); loaded {len(loaded.loaded)}, "
        f"announced {loaded.announced}, failed {len(loaded.failed)}"
    )
    print(
        f"poll with nothing new ({quiet.polled} feeds, each a 304): {unchanged * 1000:.0f} ms "
        f"({unchanged / max(quiet.polled, 1) * 1000:.1f} ms a feed); announced {announcer.count} "
        "in all"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
