"""Links to the moment a passage was said: a video URL that starts playing there.

Only YouTube is understood. For any other page, or a passage without a time, there is no
moment link (None): a link shown on "12:34" must start at 12:34, and a page we cannot seek
into would not. The episode's own URL stays available to show as it is.
"""

from __future__ import annotations

import math
import re
from urllib.parse import parse_qs, urlsplit

VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{11}")
YOUTUBE_HOSTS = frozenset(
    {"youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com", "youtube-nocookie.com"}
)
SHORT_HOSTS = frozenset({"youtu.be", "www.youtu.be"})
# youtube.com/live/<id>, /shorts/<id>, /embed/<id>, /v/<id>: the id is the next path part.
ID_PATHS = frozenset({"live", "shorts", "embed", "v"})


def youtube_video_id(url: str) -> str | None:
    """The video id of a YouTube URL in any of its usual shapes, or None."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # e.g. an unbalanced "[" in the host
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https"):
        return None
    path = [piece for piece in parts.path.split("/") if piece]
    candidate: str | None = None
    if host in SHORT_HOSTS:
        candidate = path[0] if path else None
    elif host in YOUTUBE_HOSTS:
        if path == ["watch"]:
            candidate = (parse_qs(parts.query).get("v") or [None])[0]
        elif len(path) >= 2 and path[0] in ID_PATHS:
            candidate = path[1]
    return candidate if candidate and VIDEO_ID.fullmatch(candidate) else None


def moment_url(url: str | None, start_seconds: float | None) -> str | None:
    """`https://www.youtube.com/watch?v=<id>&t=754s` for a YouTube episode URL and a start
    time (whole seconds, rounded down); None for other URLs or without a time.

    Always the plain watch URL: a playlist, a share tracker or an earlier `t=` in the
    source's URL is left behind, and the link holds nothing but the id and the time."""
    if url is None or start_seconds is None or not math.isfinite(start_seconds):
        return None
    video = youtube_video_id(url)
    if video is None:
        return None
    seconds = max(0, math.floor(start_seconds))
    return f"https://www.youtube.com/watch?v={video}&t={seconds}s"
