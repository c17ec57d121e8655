"""Block Kit rendering: pure functions, data in, Slack message dicts out.

Every Slack-facing string is built here. Text that came from a user or a transcript is
escaped, so nobody can make the bot say <!channel> or fake a mention by typing one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.answering import Answer, Citation, format_timestamp
from bot.answering.moment import moment_url
from bot.retrieval.rerank import RankedPassage
from bot.services.feedback import helpful_share
from bot.services.feeds import Announcement, FeedView

if TYPE_CHECKING:
    from bot.services.feedback import AnswerStats
    from bot.services.library import EpisodePage
    from bot.services.starters import Starters
    from bot.takeaways.picking import Pick

SECTION_LIMIT = 3000  # Slack's maximum for a section's text
MAX_BLOCKS = 50  # Slack's maximum per message
FALLBACK_LIMIT = 3000
LISTED_TITLE = 150  # characters of a title in the episodes list
SUGGESTED_TITLE = 80  # characters of a title in a did-you-mean
ANSWER_ID = re.compile(r"[0-9]{1,19}")
USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")
MARKDOWN_BOLD = re.compile(r"\*\*(\S(?:.*?\S)?)\*\*")
# Slack's feedback buttons: one action, the value says which and carries the answer's id.
FEEDBACK_ACTION = "answer_feedback"
HELPFUL_VALUE, NOT_HELPFUL_VALUE = "helpful", "not_helpful"
# The plain buttons of answers posted before the feedback buttons; their clicks still count.
HELPFUL_ACTION = "feedback_helpful"
NOT_HELPFUL_ACTION = "feedback_not_helpful"
MORE_EPISODES_ACTION = "episodes_more"
MORE_VALUE_LIMIT = 2000  # Slack's longest button value

Block = dict[str, Any]


def escape(text: str) -> str:
    """Slack's three control characters as entities: `<!here>` shows, but does not ping."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(user_id: str) -> str:
    """A mention of a real user id; anything else is shown as escaped text."""
    return f"<@{user_id}>" if USER_ID.fullmatch(user_id) else escape(user_id)


def split_text(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters, cut at a paragraph, line, sentence or word
    break where there is one, so that nothing is lost and words stay whole."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind(sep) for sep in ("\n\n", "\n", ". ", " "))
        cut = cut + 1 if cut > limit // 2 else limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _stamp(seconds: float | None, url: str | None) -> str | None:
    """`12:34`, as the Slack link `<url|12:34>` to that moment of the video when there is
    one. Slack wants `&`, `<` and `>` escaped inside a link's URL too: unescaped, a `>`
    would end the link early."""
    stamp = format_timestamp(seconds)
    if stamp is None:
        return None
    return f"<{escape(url)}|{stamp}>" if url else stamp


def citation_source(citation: Citation, *, with_episode: bool = False) -> str:
    """`Mike Krieger · turn 23 · 12:34` (the time a link to that moment of the video when
    the episode has one), plus the episode title when asked."""
    parts = [escape(citation.speaker), f"turn {citation.position}"]
    if stamp := _stamp(citation.start_seconds, citation.url):
        parts.append(stamp)
    if citation.chapter:
        parts.append(f"chapter “{escape(citation.chapter)}”")
    if with_episode:
        parts.append(f"_{escape(citation.episode_title)}_")
    return " · ".join(parts)


def _citation_blocks(citation: Citation, number: int, with_episode: bool) -> list[Block]:
    quote = escape(citation.quote)[: SECTION_LIMIT - 4]
    return [
        _section(f"> “{quote}”"),
        _context(f"[{number}] " + citation_source(citation, with_episode=with_episode)),
    ]


def mrkdwn(text: str) -> str:
    """Escaped text with Markdown's **bold** turned into Slack's *bold*."""
    return MARKDOWN_BOLD.sub(r"*\1*", escape(text))


def _feedback_button(label: str, value: str, answer_id: int) -> dict[str, Any]:
    return {
        "text": {"type": "plain_text", "text": label},
        "value": f"{value}:{answer_id}",
        "accessibility_label": f"Mark this {label.lower()}",
    }


def feedback_buttons(answer_id: int, *, not_helpful: str = "Not helpful") -> Block:
    """Slack's feedback buttons (Helpful / Not helpful, or another word for the second),
    each carrying the stored answer's id."""
    return {
        "type": "context_actions",
        "elements": [
            {
                "type": "feedback_buttons",
                "action_id": FEEDBACK_ACTION,
                "positive_button": _feedback_button("Helpful", HELPFUL_VALUE, answer_id),
                "negative_button": _feedback_button(not_helpful, NOT_HELPFUL_VALUE, answer_id),
            }
        ],
    }


def feedback_value(value: object) -> tuple[bool, int] | None:
    """(helpful, answer id) from a feedback button's value, or None when it is not one."""
    if not isinstance(value, str):
        return None
    which, _, number = value.partition(":")
    if which not in (HELPFUL_VALUE, NOT_HELPFUL_VALUE) or not ANSWER_ID.fullmatch(number):
        return None
    return which == HELPFUL_VALUE, int(number)


def _several_episodes(answer: Answer, library_wide: bool) -> bool:
    return len({c.episode_title for c in answer.citations}) > 1 or library_wide


def _footer(answer: Answer, answer_id: int | None, library_wide: bool) -> list[Block]:
    footer: list[Block] = []
    if answer.citations and not _several_episodes(answer, library_wide):
        footer.append(_context(f"From _{escape(answer.citations[0].episode_title)}_"))
    if answer_id is not None:
        footer.append(feedback_buttons(answer_id))
    return footer


def _with_citations(
    blocks: list[Block], answer: Answer, footer: list[Block], library_wide: bool
) -> list[Block]:
    """`blocks`, then as many citations as fit in one message, then `footer`."""
    several = _several_episodes(answer, library_wide)
    blocks = list(blocks)
    shown = 0
    for number, citation in enumerate(answer.citations, start=1):
        pair = _citation_blocks(citation, number, several)
        if len(blocks) + len(pair) > MAX_BLOCKS - len(footer) - 1:
            break
        blocks.extend(pair)
        shown += 1
    if shown < len(answer.citations):
        blocks.append(_context(f"…and {len(answer.citations) - shown} more sources not shown."))
    return blocks + footer


def _asked(question: str, asker: str | None) -> Block:
    asked = f"{mention(asker)} asked: " if asker else "Question: "
    return _context(f"{asked}_{escape(question)[: SECTION_LIMIT - 40]}_")


def answer_message(
    answer: Answer,
    *,
    asker: str | None = None,
    answer_id: int | None = None,
    library_wide: bool = False,
) -> dict[str, Any]:
    """A whole answer as a message: who asked what, the answer, each citation with its
    source, the episode, and feedback buttons. Stays within Slack's limits however long
    the answer is; `text` is the notification and screen-reader fallback.

    `library_wide`: the question went across the library, so every citation names its
    episode, even when all come from one (the asker did not pick it)."""
    body = [_section(piece) for piece in split_text(mrkdwn(answer.text))]
    if answer.notice:
        body.insert(0, _context(f":information_source: {escape(answer.notice)}"))
    footer = _footer(answer, answer_id, library_wide)
    room = MAX_BLOCKS - 1 - len(footer)
    body = body[: max(room - 2, 1)]  # keep space for at least one citation
    blocks = _with_citations([_asked(answer.question, asker), *body], answer, footer, library_wide)
    fallback = f"{escape(answer.question)}: {escape(answer.text)}"
    return {"text": fallback[:FALLBACK_LIMIT], "blocks": blocks}


# ---------------------------------------------------------------- answers being written

# What the person sees while a thread's answer is worked out (Slack shows the app's name
# before the status), and lines Slack may rotate through meanwhile.
LOADING_MESSAGES = [
    "Reading the transcript…",
    "Finding who said it…",
    "Checking the quotes…",
]
STILL_WRITING = ":writing_hand: Writing…"
STREAM_LIMIT = 12_000  # Slack's most markdown text in one stream call


def looking_in(episode_title: str | None) -> str:
    """The first line shown once a question is taken: where the bot is looking."""
    if episode_title is None:
        return ":mag: Looking across the library…"
    return f":mag: Looking in _{escape(_shorten(episode_title, SUGGESTED_TITLE))}_…"


def searching_line(doing: str) -> str:
    """What the library search is doing now, in a message being written."""
    return f":mag: {escape(doing)}…"


def _status(doing: str) -> str:
    return _shorten(f"is {doing[:1].lower()}{doing[1:]}…", 150)


def looking_status(episode_title: str | None) -> str:
    """The status under a thread once its question is taken (Slack shows the app's name
    before it: "episode-bot is looking in …"); plain text."""
    if episode_title is None:
        return _status("Looking across the library")
    return _status(f"Looking in {_shorten(episode_title, SUGGESTED_TITLE)}")


def searching_status(doing: str) -> str:
    """The thread's status while the library is searched; plain text."""
    return _status(doing)


def answer_draft(question: str, asker: str | None, text: str, doing: str | None) -> dict[str, Any]:
    """A message standing for an answer still being written: who asked what, the text so
    far, and what the bot is doing (or that it is still writing)."""
    body = [_section(piece) for piece in split_text(mrkdwn(text))][: MAX_BLOCKS - 2]
    status = doing if doing is not None else STILL_WRITING
    blocks = [_asked(question, asker), *body, _context(status)]
    fallback = f"{escape(question)}: {escape(text)}" if text else escape(question)
    return {"text": fallback[:FALLBACK_LIMIT], "blocks": blocks}


def stream_text(text: str) -> str:
    """Answer text as streamed markdown: Slack's control characters escaped, as everywhere
    (Markdown shows the entities as the characters; no mention or <!channel> can form)."""
    return escape(text)


def answer_ending(
    answer: Answer, *, answer_id: int | None, library_wide: bool = False
) -> list[Block]:
    """What a streamed answer ends with, under its text: each citation with its source,
    the episode, and the feedback buttons, as a posted answer ends."""
    return _with_citations([], answer, _footer(answer, answer_id, library_wide), library_wide)


# ---------------------------------------------------------------- the agent DM

PROMPT_TITLE = 40  # characters of a suggested prompt's title
STARTERS_TITLE = "Ask about an episode"
STARTERS_EMPTY = [
    {
        "title": "What can you do?",
        "message": "What can you answer, and how do I load episodes?",
    }
]


def starter_prompts(starters: Starters | None) -> tuple[str, list[dict[str, str]]]:
    """The Messages tab's title and three suggested questions about the episode (points
    its summary makes first, then questions any episode answers)."""
    if starters is None:
        return STARTERS_TITLE, STARTERS_EMPTY
    who = starters.guest or "the episode"
    guest = starters.guest or "the guest"
    prompts = [
        {"title": _shorten(topic, PROMPT_TITLE), "message": f"What does {who} say about “{topic}”?"}
        for topic in starters.topics
    ]
    prompts += [
        {
            "title": "The main ideas",
            "message": f"What are the main ideas of “{starters.episode_title}”?",
        },
        {
            "title": "Advice for product teams",
            "message": f"What does {who} advise product teams to do?",
        },
        {
            "title": "Where we might disagree",
            "message": f"Where might a product team disagree with {guest}?",
        },
    ]
    return _shorten(f"Ask about {starters.episode_title}", 100), prompts[:3]


# ---------------------------------------------------------------- command replies

HELP_TEXT = (
    "*Ask about the episode your team is discussing*\n"
    "`/episode ask &lt;question&gt;` (or just `/episode &lt;question&gt;`): an answer here, "
    "quoting who said it and where; reply in its thread to follow up.\n"
    "`/episode search &lt;words&gt;`: the turns that mention them, only for you.\n"
    "`/episode episodes [words] [page]`: the episodes I know, newest first; words filter "
    "by title or guest.\n"
    "`/episode use &lt;slug&gt;`: make one episode this channel's default; "
    "`/episode use all`: ask across the whole library again.\n"
    "`/episode stats`: answers given lately, and how many were marked helpful.\n"
    "`/episode digest`: a takeaway of the day in this channel (`digest here`, `digest off`).\n"
    "`/episode feed add &lt;feed URL&gt;`: new episodes of a podcast arrive by themselves, "
    "announced here (`feed` lists the feeds, `feed remove &lt;URL or number&gt;`).\n"
    "`/episode help`: this message."
)
POST_FAILURES = {
    "not_in_channel": "I'm not in this channel yet: add me with `/invite @episode-bot`, then ask "
    "again.",
    "channel_not_found": "I can't see this channel (private channels need an invite): add me "
    "with `/invite @episode-bot`, then ask again.",
    "is_archived": "This channel is archived, so I can't post here: ask in another channel.",
    "unreachable": "Slack didn't take my answer: it seems to be having trouble. Please ask "
    "again in a few minutes.",
}


NO_WORDS = "That has no words I can look for: try asking in words."
ONLY_COMMON_WORDS = (
    "Those are only common words (the, and, of…), which every turn holds: add a word that "
    "says what you are looking for."
)
NO_CHANNEL = "That request came without a channel, so I can't answer it: try again from one."
LIBRARY_TROUBLE = "I couldn't read the episode library just now: please try again in a minute."
# A question a process acknowledged and died before answering, found too late to answer.
RESTARTED = "I restarted before I could answer “{question}”: please ask it again."
# Told once to a person whose answer waits behind many others.
BUSY = "Busy: about {ahead} questions ahead of yours. Your answer will come here."
FOCUS_GONE = (
    "This channel's episode is gone from the library: pick another with `/episode use <slug>`."
)
FEEDBACK_THANKS = {
    True: "Thanks: noted that this answer helped.",
    False: "Thanks: noted that this answer didn't help.",
}
FEEDBACK_GONE = "That answer is no longer stored, so the click wasn't recorded."
FEEDBACK_REFUSED = (
    "That button isn't on the answer it names, so the click wasn't recorded: use the buttons "
    "under the answer itself."
)


def ephemeral(text: str) -> dict[str, Any]:
    """A reply only the person who typed the command sees."""
    return {"response_type": "ephemeral", "text": text}


def help_message() -> dict[str, Any]:
    """The usage of /episode."""
    return {**ephemeral(HELP_TEXT), "blocks": [_section(HELP_TEXT)]}


def post_failed(error: str | None) -> dict[str, Any]:
    """What to tell the asker when Slack refuses the answer's post."""
    sentence = POST_FAILURES.get(
        error or "", "Slack didn't accept my answer just now: please ask again in a minute."
    )
    return ephemeral(sentence)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def restarted(question: str) -> str:
    """The one sentence for an asker whose question a dead process left too long."""
    return RESTARTED.format(question=_shorten(" ".join(question.split()), 80))


def _one_of(options: list[str]) -> str:
    """`a`, `a or b`, `a, b or c`."""
    return options[0] if len(options) == 1 else ", ".join(options[:-1]) + " or " + options[-1]


def unknown_slug(slug: str, closest: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """`/episode use` with a slug the library does not have: the closest episodes' slugs
    and titles when some are close, else how to list them."""
    said = f"No episode has the slug “{escape(slug)}”"
    if not closest:
        return ephemeral(f"{said}: `/episode episodes` lists them.")
    options = [f"`{escape(s)}` (_{escape(_shorten(t, SUGGESTED_TITLE))}_)" for s, t in closest]
    return ephemeral(f"{said}. Did you mean {_one_of(options)}?")


def focus_set(title: str) -> dict[str, Any]:
    """`/episode use` done."""
    return ephemeral(f"Questions in this channel are now about _{escape(title)}_.")


def focus_cleared(episodes: int) -> dict[str, Any]:
    """`/episode use all` done: questions here go across the library."""
    if episodes == 0:
        return ephemeral(
            "This channel now asks across the whole library, which is empty: load transcripts "
            "with `episode-bot ingest`."
        )
    which = "the one episode" if episodes == 1 else f"all {episodes:,} episodes"
    return ephemeral(
        f"This channel now asks across {which}. "
        "To pick one again: `/episode use &lt;slug&gt;` (`/episode episodes` lists them)."
    )


def search_message(query: str, hits: list[RankedPassage]) -> dict[str, Any]:
    """Matching turns, best first, for the person who searched."""
    if not hits:
        return ephemeral(f"No turns mention “{escape(query)}”.")
    lines = [f"*Turns matching “{escape(query)}”*"]
    for ranked in hits:
        hit = ranked.hit
        stamp = _stamp(hit.start_seconds, moment_url(hit.episode_url, hit.start_seconds))
        where = f"turn {hit.position}" + (f" · {stamp}" if stamp else "")
        preview = escape(hit.text[:280]) + ("…" if len(hit.text) > 280 else "")
        lines.append(
            f"*{escape(hit.speaker)}* · {where} · _{escape(hit.episode_title)}_\n{preview}"
        )
    text = "\n\n".join(lines)
    return {**ephemeral(text[:FALLBACK_LIMIT]), "blocks": [_section(p) for p in split_text(text)]}


def _lines_within(lines: list[str], limit: int) -> str:
    """As many whole lines as fit in `limit` characters."""
    kept: list[str] = []
    size = 0
    for line in lines:
        size += len(line) + 1
        if size > limit + 1:
            break
        kept.append(line)
    return "\n".join(kept)


def episodes_message(page: EpisodePage, focus: str | None) -> dict[str, Any]:
    """One page of the library (or of the episodes matching some words): slug, title and
    turns of each, the channel's focus marked, and how to see the next page."""
    if not page.total:
        if not page.words:
            return ephemeral("The library is empty: load transcripts with `episode-bot ingest`.")
        return ephemeral(
            f"No episode's title, guest or slug contains “{escape(page.words)}”: "
            "`/episode episodes` lists them all."
        )
    what = f"*Episodes matching “{escape(page.words)}”*" if page.words else "*Episodes*"
    count = "1 episode" if page.total == 1 else f"{page.total:,} episodes, newest first"
    lines = [f"{what} · page {page.page} of {page.pages} · {count}"]
    for e in page.episodes:
        mark = " ← this channel's episode" if e.slug == focus else ""
        title = escape(_shorten(e.title, LISTED_TITLE))
        lines.append(f"`{escape(e.slug)}` {title} ({e.turns} turns){mark}")
    notes = []
    if focus and focus not in {e.slug for e in page.episodes}:
        notes.append(f"This channel's episode: `{escape(focus)}`.")
    if page.page < page.pages:
        words = f"{escape(page.words)} " if page.words else ""
        notes.append(f"More: `/episode episodes {words}{page.page + 1}`.")
    if not page.words and page.pages > 1:
        notes.append("Find one: `/episode episodes &lt;words from its title or guest&gt;`.")
    text = "\n".join(lines)
    blocks = [_section(p) for p in split_text(text)]
    if notes:
        blocks.append(_context(" ".join(notes)))
    if page.page < page.pages and (more := _more_button(page.words, page.page + 1)):
        blocks.append(more)
    fallback = _lines_within(lines + notes, FALLBACK_LIMIT)
    return {**ephemeral(fallback), "blocks": blocks}


def _more_button(words: str, page: int) -> Block | None:
    """A button that shows the next page in place of this one (None if the words are too
    long to carry)."""
    value = json.dumps({"words": words, "page": page}, ensure_ascii=False)
    if len(value) > MORE_VALUE_LIMIT:
        return None
    button = {
        "type": "button",
        "action_id": MORE_EPISODES_ACTION,
        "text": {"type": "plain_text", "text": f"Page {page}"},
        "value": value,
    }
    return {"type": "actions", "elements": [button]}


def more_value(value: object) -> tuple[str, int] | None:
    """(words, page) from a More button's value, or None when it is not one."""
    try:
        parsed = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    words, page = parsed.get("words"), parsed.get("page")
    if not isinstance(words, str) or not isinstance(page, int) or isinstance(page, bool):
        return None
    return (words, page) if 1 <= page <= 999_999 else None


def stats_message(periods: list[tuple[int, AnswerStats]]) -> dict[str, Any]:
    """Answers given and the share marked helpful, per period of days."""
    lines = ["*Answers*"]
    for days, stats in periods:
        share = helpful_share(stats)
        lines.append(f"Last {days} days: {stats.answers} answers, helpful: {share}.")
    return ephemeral("\n".join(lines))


# ---------------------------------------------------------------- takeaway of the day

DIGEST_USAGE = (
    "`/episode digest here [HH:MM] [Time/Zone] [days]` posts a takeaway of the day in this "
    "channel (for example `/episode digest here 09:30 Europe/Berlin mon-fri`); "
    "`/episode digest off` stops it; `/episode digest` shows when the next one comes."
)
DIGEST_NONE = "No takeaway of the day is posted in this channel. " + DIGEST_USAGE
DIGEST_STOPPED = "Done: no more takeaways of the day in this channel."
TAKEAWAY_THREAD_NOTE = "Reply in this thread to discuss; I answer questions about the episode here."


def digest_status(schedule: str, next_post: str) -> dict[str, Any]:
    """Where a channel's takeaway of the day stands."""
    return ephemeral(
        f"A takeaway of the day is posted here at {escape(schedule)}. Next: {escape(next_post)}."
    )


def digest_problem(sentence: str) -> dict[str, Any]:
    """A time, zone or day list that cannot be used, and how to say it instead."""
    return ephemeral(f"{escape(sentence)} {DIGEST_USAGE}")


def takeaway_message(pick: Pick, *, turn_id: int | None = None) -> dict[str, Any]:
    """The daily post: the takeaway, its quote with who, turn and time, a question to
    discuss, and Helpful / Not for us buttons carrying the stored post's id."""
    source = " · ".join(
        part
        for part in (
            escape(pick.speaker),
            f"turn {pick.position}",
            format_timestamp(pick.start_seconds),
            f"_{escape(pick.episode_title)}_",
        )
        if part
    )
    blocks: list[Block] = [_section(":bulb: *Takeaway of the day*")]
    if pick.text.strip() != pick.quote.strip():
        blocks.append(_section(mrkdwn(pick.text)[:SECTION_LIMIT]))
    blocks += [
        _section(f"> “{escape(pick.quote)[: SECTION_LIMIT - 4]}”"),
        _context(source),
        _section(f":speech_balloon: {escape(pick.question)}"),
    ]
    if turn_id is not None:
        blocks.append(feedback_buttons(turn_id, not_helpful="Not for us"))
    blocks.append(_context(TAKEAWAY_THREAD_NOTE))
    fallback = f"Takeaway of the day: {escape(pick.text)}"
    return {"text": fallback[:FALLBACK_LIMIT], "blocks": blocks}


# A feed's link, put in Slack's <url|label> only when it cannot close the link early or
# open another (`<!channel>`): no spaces, angle brackets or bars.
SAFE_LINK = re.compile(r"https?://[^\s<>|]+")


def announcement_message(news: Announcement) -> dict[str, Any]:
    """A new episode from a subscribed feed: its title (linked), guest, what it is about in
    two lines, and the invitation to ask about it (the channel now asks about it)."""
    title = escape(news.title)
    if news.link and SAFE_LINK.fullmatch(news.link):
        title = f"<{escape(news.link)}|{title}>"
    lines = [f":studio_microphone: *New episode of {escape(news.feed_title)}:* {title}"]
    if news.guest:
        lines.append(f"With {escape(news.guest)}.")
    blocks: list[Block] = [_section("\n".join(lines)[:SECTION_LIMIT])]
    if news.summary:
        blocks.append(_section(escape(_two_lines(news.summary))))
    blocks.append(
        _context(
            "Ask me about it: `/episode ask …`, or mention me. Questions in this channel are "
            f"now about this episode (`/episode use all` asks across the library; slug "
            f"`{escape(news.slug)}`)."
        )
    )
    fallback = f"New episode of {escape(news.feed_title)}: {escape(news.title)}"
    return {"text": fallback[:FALLBACK_LIMIT], "blocks": blocks}


def _two_lines(text: str, limit: int = 300) -> str:
    """The first sentences of `text` that fit in about two lines."""
    said = " ".join(text.split())
    if len(said) <= limit:
        return said
    cut = said[:limit]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    return cut[: end + 1] if end > limit // 3 else cut.rsplit(" ", 1)[0] + "…"


FEED_USAGE = (
    "`/episode feed add &lt;feed URL&gt;` subscribes this channel to a podcast's feed; "
    "`/episode feed` lists the feeds; `/episode feed remove &lt;URL or number&gt;` stops one."
)


def feed_subscribed(view: FeedView) -> dict[str, Any]:
    """`/episode feed add` done: the feed's title, what was loaded, what comes next."""
    loaded = [item.title for item in view.items if item.state == "ingested"]
    waiting = [item for item in view.items if item.state in ("waiting", "broken")]
    lines = [f"Subscribed this channel to *{escape(view.title)}* (feed {view.id})."]
    if loaded:
        lines.append(f"Its newest episode is loaded: _{escape(loaded[0])}_.")
    for item in waiting[:3]:
        lines.append(f"_{escape(item.title)}_ is not loaded yet: {escape(item.note or '')}.")
    lines.append("New episodes will be announced here, and asked about by default.")
    return ephemeral("\n".join(lines))


def feed_list(views: Sequence[FeedView]) -> dict[str, Any]:
    """`/episode feed`: the workspace's feeds, each with its episodes' states."""
    if not views:
        return ephemeral("No feeds yet. " + FEED_USAGE)
    lines = ["*Feeds*"]
    for view in views:
        where = f" → <#{view.channel}>" if view.channel else ""
        counts = ", ".join(
            f"{view.count(state)} {word}"
            for state, word in (
                ("ingested", "loaded"),
                ("waiting", "waiting"),
                ("broken", "broken"),
            )
            if view.count(state)
        )
        line = f"{view.id}. *{escape(view.title)}*{where}: {counts or 'no episodes yet'}"
        if view.error:
            line += f" (failing: {escape(view.error)})"
        lines.append(line)
    return ephemeral(_lines_within(lines, FALLBACK_LIMIT))


def feed_removed(view: FeedView) -> dict[str, Any]:
    """`/episode feed remove` done."""
    return ephemeral(f"Unsubscribed from *{escape(view.title)}*; its episodes stay in the library.")


def feed_problem(sentence: str) -> dict[str, Any]:
    """A feed command that could not be done, in one sentence."""
    return ephemeral(escape(sentence))
