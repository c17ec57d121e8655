"""Fixtures of the Slack tests: the loopback Slack Web API stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.slack_api import SlackApiStandIn


@pytest.fixture
def slack() -> Iterator[SlackApiStandIn]:
    """The Slack Web API stand-in, started for the test and stopped after it."""
    stand_in = SlackApiStandIn().start()
    yield stand_in
    stand_in.stop()
