"""Links to the moment a quote was said: YouTube URLs in their usual shapes start playing
there; anything else gets no moment link rather than one that starts somewhere else."""

from __future__ import annotations

import pytest

from bot.answering.moment import moment_url

AT_754 = "https://www.youtube.com/watch?v=DKrBGOFs0GY&t=754s"


@pytest.mark.parametrize(
    "url",
    [
        "https://www.youtube.com/watch?v=DKrBGOFs0GY",
        "http://youtube.com/watch?v=DKrBGOFs0GY",
        "https://m.youtube.com/watch?feature=share&v=DKrBGOFs0GY",
        "https://www.youtube.com/watch?v=DKrBGOFs0GY&list=PL123&t=10s",
        "https://youtu.be/DKrBGOFs0GY",
        "https://youtu.be/DKrBGOFs0GY?si=trackerTracker&t=3",
        "https://www.youtube.com/live/DKrBGOFs0GY?feature=shared",
        "https://www.youtube.com/shorts/DKrBGOFs0GY",
        "https://www.youtube.com/embed/DKrBGOFs0GY",
        "  https://WWW.YOUTUBE.COM/watch?v=DKrBGOFs0GY  ",
    ],
)
def test_youtube_urls_of_every_shape_start_at_the_moment(url: str) -> None:
    assert moment_url(url, 754.9) == AT_754  # whole seconds, rounded down


def test_the_start_and_the_end_of_an_episode() -> None:
    url = "https://youtu.be/DKrBGOFs0GY"
    assert moment_url(url, 0.0) == "https://www.youtube.com/watch?v=DKrBGOFs0GY&t=0s"
    assert moment_url(url, 3723.0) == "https://www.youtube.com/watch?v=DKrBGOFs0GY&t=3723s"


@pytest.mark.parametrize(
    ("url", "start"),
    [
        ("https://www.youtube.com/watch?v=DKrBGOFs0GY", None),  # the source had no times
        (None, 12.0),
        ("https://podcasts.example.com/episodes/42", 12.0),  # cannot seek into it
        ("https://www.youtube.com/@lennyspodcast", 12.0),  # a channel, not a video
        ("https://www.youtube.com/watch?v=short", 12.0),
        ("https://www.youtube.com/watch?v=DKrBGOFs0GY|x", 12.0),
        ("javascript:alert(1)//youtu.be/DKrBGOFs0GY", 12.0),
        ("https://youtu.be.evil.example/DKrBGOFs0GY", 12.0),
        ("https://[youtube.com/watch?v=DKrBGOFs0GY", 12.0),
        ("https://www.youtube.com/watch?v=DKrBGOFs0GY", float("nan")),
    ],
)
def test_no_moment_link_where_there_is_no_moment_to_link(url: str | None, start: float) -> None:
    assert moment_url(url, start) is None
