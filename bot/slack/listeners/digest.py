"""`/episode digest`: show, set or stop a channel's takeaway of the day. The scheduler reads
the stored setting on its next sweep (within a minute), in this process and every other."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_bolt import Respond

from bot.services import daily_posts
from bot.slack import blocks
from bot.slack.listeners.deps import Deps
from bot.takeaways.schedule import ScheduleError, parse_days, parse_time, parse_zone


def _show(deps: Deps, channel_id: str, respond: Respond) -> None:
    try:
        schedule = daily_posts.channel_schedule(deps.library, deps.settings, channel_id)
    except ScheduleError as exc:
        respond(**blocks.digest_problem(str(exc)))
        return
    if schedule is None:
        respond(**blocks.ephemeral(blocks.DIGEST_NONE))
        return
    upcoming = schedule.next_post_at(datetime.now(UTC))
    respond(**blocks.digest_status(schedule.describe(), f"{upcoming:%a %d %b, %H:%M %Z}"))


def _here(deps: Deps, channel_id: str, words: list[str], respond: Respond) -> None:
    settings = deps.settings
    at, zone, days = settings.digest_time, settings.digest_timezone, settings.digest_days
    try:
        for word in words:  # any order: 09:30, Europe/Berlin, mon-fri
            if word[:1].isdigit():
                parse_time(word)
                at = word
            elif _is_days(word):
                days = word.lower()
            else:
                zone = parse_zone(word).key
    except ScheduleError as exc:
        respond(**blocks.digest_problem(str(exc)))
        return
    daily_posts.set_schedule(deps.library, channel_id, at=at, zone=zone, days=days)
    _show(deps, channel_id, respond)


def _is_days(word: str) -> bool:
    try:
        parse_days(word)
    except ScheduleError:
        return False
    return True


def run_digest(deps: Deps, channel_id: str, rest: str, respond: Respond) -> None:
    """`digest` (show), `digest here [time] [zone] [days]`, `digest off`."""
    words = rest.split()
    if not words:
        _show(deps, channel_id, respond)
    elif words[0].lower() == "here":
        _here(deps, channel_id, words[1:], respond)
    elif words[0].lower() == "off" and len(words) == 1:
        daily_posts.stop_schedule(deps.library, channel_id)
        respond(**blocks.ephemeral(blocks.DIGEST_STOPPED))
    else:
        respond(**blocks.ephemeral(blocks.DIGEST_USAGE))
