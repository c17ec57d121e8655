"""A watcher that writes down what it heard, for tests of answers being made."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.answering import Watcher


@dataclass
class Heard(Watcher):
    """What an answer told its watcher: the searches (into `searches`, or the list given),
    each text so far (`texts`), and the scope it began with; `fail` runs on each search."""

    searches: list[str] = field(default_factory=list)
    fail: Callable[[str], None] | None = None
    texts: list[str] = field(default_factory=list)
    scopes: list[str | None] = field(default_factory=list)

    def started(self, episode_title: str | None) -> None:
        self.scopes.append(episode_title)

    def searching(self, doing: str) -> None:
        self.searches.append(doing)
        if self.fail is not None:
            self.fail(doing)

    def writing(self, text: str) -> None:
        self.texts.append(text)
