"""Options several commands share, as decorators (the way sqlite-utils shares its own)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, TypeVar

import click

from bot.retrieval.scope import means_library

Command = TypeVar("Command", bound=Callable[..., Any])


def json_option(help_text: str = "Print JSON.") -> Callable[[Command], Command]:
    """`--json`, passed as `as_json`."""
    return click.option("as_json", "--json", is_flag=True, help=help_text)


def scope_options(one: str, every: str) -> Callable[[Command], Command]:
    """`--episode SLUG` and `--all`, passed as `episode`: the slug, or None for the whole
    library (`--all`, or `--episode all`, as `/episode use all` means in Slack). Both at
    once are refused. `one` and `every` are the two options' help texts."""

    def decorate(command: Command) -> Command:
        @click.option("--episode", help=one)
        @click.option("library_wide", "--all", is_flag=True, help=every)
        @functools.wraps(command)
        def scoped(*args: Any, episode: str | None, library_wide: bool, **kwargs: Any) -> Any:
            if episode is not None and library_wide:
                raise click.ClickException(
                    "Give --episode or --all, not both: --all already means every episode."
                )
            chosen = None if episode is not None and means_library(episode) else episode
            return command(*args, episode=chosen, **kwargs)

        return scoped  # type: ignore[return-value]

    return decorate


def words_of(words: tuple[str, ...], what: str) -> str:
    """The words typed for an argument, joined; an empty one is refused in one sentence."""
    text = " ".join(words).strip()
    if not text:
        raise click.ClickException(f"The {what} is empty: give some words to look for.")
    return text


# A channel's id (C0123ABCD, or G… for an old private channel), as its details give it.
CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{6,}")


def channel_id(value: str | None) -> str | None:
    """`--channel` as a channel id; a name (`general`, `#general`) is refused in one
    sentence, since a name is not unique across workspaces and may change."""
    if value is None:
        return None
    if not CHANNEL_ID.fullmatch(value.strip()):
        raise click.ClickException(
            f"{value.strip()!r} is not a channel id: give the id (C0123ABCD), which the "
            "channel's details show at the bottom, not its name."
        )
    return value.strip()
