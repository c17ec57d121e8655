"""`/episode episodes` on a library of 61 episodes: a page of at most 25 (newest first) well
within Slack's limits, how to see the next, `episodes <words>` filtering the same way; and
`/episode use` with a slug nobody has suggesting the closest. Commands go through the real
Bolt app (signed as Slack signs them); replies reach the loopback Slack stand-in through
the real SDK."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import App
from sqlalchemy.orm import Session, sessionmaker

from bot.answering.offline import OfflineAnswerer
from bot.config import Settings
from bot.ingest.pipeline import ingest_file
from bot.services.library import EpisodeInfo, EpisodePage, Library
from bot.slack import blocks
from bot.slack.app import build_deps, create_app
from bot.slack.listeners.commands import page_of
from bot.slack.listeners.deps import Deps
from tests.fakes.signed_requests import signed_bolt_request, wait_for
from tests.fakes.slack_api import SlackApiStandIn

TOKEN = "xoxb-episodes-paging-token"
SECRET = "episodespagingsecret0123456789a"
CHANNEL = "C0EPISODES"
TRIGGERS = itertools.count(1)
VOCAB = (
    "roadmap pricing churn onboarding growth hiring craft taste quality retention metrics "
    "strategy launch market users feedback design engineering culture focus leverage team "
    "vision writing meetings goals experiments funnel segment loyalty platform"
).split()
GUESTS = [f"Guest{n:02d} Person" for n in range(57)] + [
    "Shreyas Doshi",
    "Ada Example",
    "Ada Lovelace",
]


def archive_episode(folder: Path, number: int, guest: str, title: str) -> Path:
    """A small transcript in the archive's format: front matter, then timestamped turns the
    guest speaks (a guest who never speaks is not believed). Published `number` days after
    2024-01-01, so a higher number is newer."""
    slug = "-".join(guest.lower().split())
    published = date(2024, 1, 1) + timedelta(days=number)
    words = " ".join(random.Random(number).sample(VOCAB, 20))
    path = folder / f"{slug}.md"
    path.write_text(
        f"---\nguest: {guest}\ntitle: '{title} | {guest}'\npublish_date: {published}\n---\n\n"
        f"# {title}\n\n## Transcript\n\n"
        f"Lenny Rachitsky (00:00:00):\nWelcome {guest}, number {number}.\n\n"
        f"{guest} (00:00:05):\nThanks. {words}.\n"
    )
    return path


def many_episodes(seeded: sessionmaker[Session], folder: Path) -> Library:
    """The seed (undated, so last) and 60 more: every third (2, 5, ... 59) about pricing."""
    for number, guest in enumerate(GUESTS):
        topic = "Pricing that works" if number % 3 == 2 else "Growth loops"
        title = f"{topic}, lesson {number}"
        result = ingest_file(seeded, archive_episode(folder, number, guest, title))
        assert result.status == "ingested", result.message
    return Library(seeded)


@pytest.fixture
def bot(seeded: sessionmaker[Session], tmp_path: Path, slack: SlackApiStandIn) -> Iterator[App]:
    """The Bolt app on a library of 61 episodes, answering offline."""
    library = many_episodes(seeded, tmp_path)
    settings = Settings(slack_bot_token=TOKEN, slack_signing_secret=SECRET, slack_api_url=slack.url)
    deps: Deps = build_deps(settings, library, OfflineAnswerer())
    yield create_app(settings, library, deps.answerer, deps=deps)
    deps.answer_pool.shutdown(wait=True)


def command(app: App, slack: SlackApiStandIn, text: str) -> dict[str, Any]:
    """`/episode <text>` as Slack sends it; the reply posted to its response_url."""
    form = {
        "command": "/episode",
        "text": text,
        "channel_id": CHANNEL,
        "user_id": "U0ASKER",
        "team_id": "T00000001",
        "trigger_id": f"{next(TRIGGERS)}.1.2",
        "response_url": slack.response_url,
    }
    return _dispatch(app, slack, urlencode(form))


def click_more(app: App, slack: SlackApiStandIn, reply: dict[str, Any]) -> dict[str, Any]:
    """Click the list's next-page button, as Slack sends the click; the reply."""
    [button] = [b["elements"][0] for b in reply["blocks"] if b["type"] == "actions"]
    payload = {
        "type": "block_actions",
        "user": {"id": "U0ASKER"},
        "team": {"id": "T00000001"},
        "channel": {"id": CHANNEL},
        "container": {"type": "message", "is_ephemeral": True},
        "response_url": slack.response_url,
        "trigger_id": f"{next(TRIGGERS)}.1.2",
        "api_app_id": "A00000001",
        "actions": [{**button, "block_id": "more", "action_ts": "1700000000.000001"}],
    }
    return _dispatch(app, slack, urlencode({"payload": json.dumps(payload)}))


def _dispatch(app: App, slack: SlackApiStandIn, body: str) -> dict[str, Any]:
    before = len(slack.calls_to("response_url"))
    assert app.dispatch(signed_bolt_request(body, SECRET)).status == 200
    assert wait_for(lambda: len(slack.calls_to("response_url")) > before)
    return slack.calls_to("response_url")[-1].params


def listed(reply: dict[str, Any]) -> list[str]:
    """The slugs a list reply shows, in order."""
    text = "\n".join(b["text"]["text"] for b in reply["blocks"] if b["type"] == "section")
    return [line.split("`")[1] for line in text.splitlines() if line.startswith("`")]


def context(reply: dict[str, Any]) -> str:
    return " ".join(
        e["text"] for b in reply["blocks"] if b["type"] == "context" for e in b["elements"]
    )


def within_slack_limits(reply: dict[str, Any]) -> None:
    assert len(reply["blocks"]) <= blocks.MAX_BLOCKS
    for block in reply["blocks"]:
        texts = [block["text"]] if "text" in block else block["elements"]
        assert all(len(t["text"]) <= blocks.SECTION_LIMIT for t in texts)
    assert len(reply["text"]) <= blocks.FALLBACK_LIMIT


def test_the_list_comes_a_page_at_a_time_newest_first(bot: App, slack: SlackApiStandIn) -> None:
    first = command(bot, slack, "episodes")
    assert first["response_type"] == "ephemeral"
    within_slack_limits(first)
    assert "page 1 of 3 · 61 episodes, newest first" in first["text"]
    newest = ["ada-lovelace", "ada-example", "shreyas-doshi"]
    assert listed(first) == newest + [f"guest{n:02d}-person" for n in range(56, 34, -1)]
    assert "More: `/episode episodes 2`" in context(first)
    assert "`/episode episodes &lt;words" in context(first)

    second = command(bot, slack, "episodes 2")
    assert "page 2 of 3" in second["text"] and len(listed(second)) == 25
    assert not set(listed(second)) & set(listed(first))
    assert "More: `/episode episodes 3`" in context(second)

    last = command(bot, slack, "episodes 3")
    assert "page 3 of 3" in last["text"] and len(listed(last)) == 11
    assert listed(last)[-1] == "mike-krieger-anthropic-cpo"  # undated: last
    assert "More" not in context(last)
    shown = listed(first) + listed(second) + listed(last)
    assert len(set(shown)) == 61

    # The button under a page shows the next one in its place.
    assert [b["type"] for b in first["blocks"]][-1] == "actions"
    clicked = click_more(bot, slack, first)
    assert clicked["replace_original"] is True and listed(clicked) == listed(second)
    assert not any(b["type"] == "actions" for b in last["blocks"])

    beyond = command(bot, slack, "episodes 99")
    assert "page 3 of 3" in beyond["text"] and listed(beyond) == listed(last)


def test_the_channel_focus_stays_marked(bot: App, slack: SlackApiStandIn) -> None:
    command(bot, slack, "use guest50-person")
    first = command(bot, slack, "episodes")
    [marked] = [line for line in first["text"].splitlines() if "this channel's episode" in line]
    assert marked.startswith("`guest50-person`")
    # On a page without it, the list still says which it is.
    last = command(bot, slack, "episodes 3")
    assert "This channel's episode: `guest50-person`" in context(last)


def test_words_filter_by_title_guest_or_slug_paged_the_same_way(
    bot: App, slack: SlackApiStandIn
) -> None:
    pricing = command(bot, slack, "episodes PRICING")  # 20 titles, any case
    within_slack_limits(pricing)
    assert "*Episodes matching “PRICING”* · page 1 of 1 · 20 episodes" in pricing["text"]
    assert len(listed(pricing)) == 20 and "More" not in context(pricing)

    lesson = command(bot, slack, "episodes lesson")  # 60 titles: three pages
    assert "page 1 of 3" in lesson["text"]
    assert "More: `/episode episodes lesson 2`" in context(lesson)
    second = command(bot, slack, "episodes lesson 2")
    assert "page 2 of 3" in second["text"] and listed(second)[0] == "guest34-person"
    assert listed(click_more(bot, slack, lesson)) == listed(second)  # the words carry on

    both = command(bot, slack, "episodes ada pricing")  # every word: guest and title
    assert listed(both) == ["ada-lovelace"]
    assert "1 episode" in both["text"]
    by_slug = command(bot, slack, "episodes krieger-anthropic")
    assert listed(by_slug) == ["mike-krieger-anthropic-cpo"]


def test_no_match_says_so_in_one_sentence(bot: App, slack: SlackApiStandIn) -> None:
    reply = command(bot, slack, "episodes zebra crossing")
    assert reply["text"] == (
        "No episode's title, guest or slug contains “zebra crossing”: "
        "`/episode episodes` lists them all."
    )


def test_an_unknown_slug_suggests_the_closest(bot: App, slack: SlackApiStandIn) -> None:
    typo = command(bot, slack, "use shreyas-doshii")
    assert typo["text"] == (
        "No episode has the slug “shreyas-doshii”. Did you mean `shreyas-doshi` "
        "(_Growth loops, lesson 57 | Shreyas Doshi_)?"
    )
    assert "`shreyas-doshi`" in command(bot, slack, "use shreyas")["text"]
    assert "`shreyas-doshi`" in command(bot, slack, "use doshi")["text"]
    ada = command(bot, slack, "use ada")["text"]
    assert "`ada-example`" in ada and "`ada-lovelace`" in ada and " or " in ada
    nothing = command(bot, slack, "use zq-xw")
    assert nothing["text"] == "No episode has the slug “zq-xw”: `/episode episodes` lists them."
    # Nothing was picked on the way.
    assert "this channel's episode" not in command(bot, slack, "episodes")["text"]


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("", ("", 1)),
        ("2", ("", 2)),
        ("product sense", ("product sense", 1)),
        ("product  sense 3", ("product sense", 3)),
        ("season 2 finale", ("season 2 finale", 1)),
        ("9" * 5000, ("9" * 5000, 1)),  # not a page: too long for one (or for int())
    ],
)
def test_page_of(text: str, parsed: tuple[str, int]) -> None:
    assert page_of(text) == parsed


def test_a_page_of_long_titles_stays_within_slack_limits() -> None:
    """25 archive-length titles (and longer, cut) with `<` and `&` in them."""
    episodes = [
        EpisodeInfo(
            f"guest-{n:02d}-with-a-long-slug", f"A & B <{n}> " + "word " * 60, None, 99, None, None
        )
        for n in range(25)
    ]
    reply = blocks.episodes_message(EpisodePage(episodes, 1, 12, 290), "guest-03-with-a-long-slug")
    within_slack_limits(reply)
    assert "page 1 of 12 · 290 episodes" in reply["text"]
    assert len(listed(reply)) == 25
    assert all("<" not in b["text"]["text"] for b in reply["blocks"] if b["type"] == "section")
    assert "&lt;3&gt;" in reply["text"] and "…" in reply["text"]
