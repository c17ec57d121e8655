"""The Slack listeners: one module per kind of request, each handler a plain function wired
by its module's `register(app)`, with what it needs arriving as `deps`."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App, BoltContext

from bot.slack.listeners import actions, agent_dm, commands, threads
from bot.slack.listeners.deps import Deps
from bot.slack.workspaces import team_of


def register(app: App, deps: Deps) -> None:
    """Wire every listener into the app, and hand each of them `deps`."""

    # Bolt passes a handler any context key its signature names, so `deps` reaches every
    # handler without module globals: with the library of the request's own workspace (a
    # request naming none is the home workspace's, in a single-workspace install).
    def with_deps(context: BoltContext, next: Callable[[], None]) -> None:
        context["deps"] = deps.for_workspace(team_of(context) or deps.library.workspace)
        next()

    app.use(with_deps)
    for listeners in (commands, threads, actions, agent_dm):
        listeners.register(app)
