"""`/episode digest`: show, set or stop a channel's takeaway of the day. The scheduler reads
the stored setting on its next sweep (within a minute), in this process and every other."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_bolt import Respond

from bot.slack import blocks
from bot.slack.listeners import Deps
from bot.takeaways.schedule import DigestSchedule, ScheduleError, parse_days, parse_time, parse_zone
from db.digest import get_channel, set_digest


def _current(deps: Deps, channel_id: str) -> DigestSchedule | None:
    settings = deps.settings
    with deps.session_factory() as session:
        row = get_channel(session, channel_id)
        enabled = row.digest_enabled if row is not None else None
        stored = (row.digest_time, row.digest_timezone, row.digest_days) if row else (None,) * 3
    if enabled is False or (enabled is None and channel_id != settings.digest_channel):
        return None
    at, zone, days = stored
    return DigestSchedule.parse(
        channel_id,
        at or settings.digest_time,
        zone or settings.digest_timezone,
        days or settings.digest_days,
    )


def _show(deps: Deps, channel_id: str, respond: Respond) -> None:
    try:
        schedule = _current(deps, channel_id)
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
    with deps.session_factory.begin() as session:
        set_digest(session, channel_id, enabled=True, at=at, zone=zone, days=days)
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
        with deps.session_factory.begin() as session:
            set_digest(session, channel_id, enabled=False)
        respond(**blocks.ephemeral(blocks.DIGEST_STOPPED))
    else:
        respond(**blocks.ephemeral(blocks.DIGEST_USAGE))
