"""The Slack Web API clients: SLACK_API_URL and the bot token, rate limits waited out, and an
outage ridden out with slack_sdk's own retry handlers."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator

from bot.config import Settings, secret

# slack_sdk logs every request and response at DEBUG, tokens included (oauth.v2.access
# answers with a new bot token, a refresh sends its refresh token): the clients log through
# this logger, which never passes DEBUG on, whatever LOG_LEVEL says.
WEB_API_LOG = logging.getLogger("bot.slack.web_api")
WEB_API_LOG.setLevel(logging.INFO)
RATE_LIMIT_RETRIES = 3
# 0.5 s, 1 s, 2 s ... 32 s: about a minute of Slack outage before the asker is told.
OUTAGE_RETRIES, OUTAGE_BACKOFF_SECONDS = 7, 0.5


def web_client(settings: Settings) -> WebClient:
    """The Slack Web API client: SLACK_API_URL, the bot token (none with many workspaces:
    each request brings its own), 429s waited out, and an
    outage (no connection, 5xx) ridden out for about a minute with slack_sdk's handlers."""
    outage = BackoffRetryIntervalCalculator(backoff_factor=OUTAGE_BACKOFF_SECONDS)
    return WebClient(
        token=secret(settings.slack_bot_token) or None,
        base_url=settings.slack_api_url,
        logger=WEB_API_LOG,
        retry_handlers=[
            # On a 429 it sleeps for Retry-After, then sends again.
            RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            ConnectionErrorRetryHandler(max_retry_count=OUTAGE_RETRIES, interval_calculator=outage),
            ServerErrorRetryHandler(max_retry_count=OUTAGE_RETRIES, interval_calculator=outage),
        ],
    )


def without_blind_resends(client: WebClient) -> WebClient:
    """The same client, but a dropped connection or a 5xx is not sent again blindly: Slack
    may have posted already (the takeaway poster looks for its post before a retry)."""
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        logger=client.logger,
        retry_handlers=[
            h for h in client.retry_handlers if isinstance(h, RateLimitErrorRetryHandler)
        ],
    )


def with_token(client: WebClient, token: str) -> WebClient:
    """The same client (SLACK_API_URL, timeout, retry handlers) with another workspace's
    bot token."""
    return WebClient(
        token=token,
        base_url=client.base_url,
        timeout=client.timeout,
        logger=client.logger,
        retry_handlers=list(client.retry_handlers),
    )
