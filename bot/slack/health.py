"""Whether Slack takes the bot token (one auth.test call), for `episode-bot doctor`."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings, redacted_url, secret, slack_problem
from bot.services.health import CHECK_TIMEOUT_SECONDS, Check


def check_slack(settings: Settings) -> Check:
    """The bot token is accepted by Slack (auth.test), and serve has its signing secret; or,
    with many workspaces, the OAuth settings serve needs are there."""
    if settings.many_workspaces:
        problem = slack_problem(settings, socket_mode=False)
        if problem:
            return Check("slack", False, problem)
        return Check(
            "slack",
            True,
            f"many workspaces by OAuth (client id {settings.slack_client_id}): each installs "
            "the bot at /slack/install",
        )
    if not secret(settings.slack_bot_token):
        return Check("slack", None, "not configured (no SLACK_BOT_TOKEN): serve/socket need it")
    problem = slack_problem(settings, socket_mode=False)
    if problem and "SIGNING_SECRET" not in problem:
        return Check("slack", False, problem)
    client = WebClient(
        token=secret(settings.slack_bot_token),
        base_url=settings.slack_api_url,
        timeout=CHECK_TIMEOUT_SECONDS,
    )
    try:
        identity = client.auth_test()
    except SlackApiError as exc:
        return Check("slack", False, f"Slack refused SLACK_BOT_TOKEN ({exc.response.get('error')})")
    except OSError as exc:
        where = redacted_url(settings.slack_api_url)
        return Check("slack", False, f"cannot reach {where}: {type(exc).__name__}")
    detail = f"token accepted: bot @{identity.get('user')} in workspace {identity.get('team')}"
    if problem:
        return Check("slack", False, f"{detail}, but {problem}")
    return Check("slack", True, detail)
