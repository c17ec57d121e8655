"""Episodes filed under another episode's title. The community archive gives 23 titles to
two different conversations each; in 19 of those pairs the title names the speakers of one
and not of the other (`kim-scott` is Kim Scott's talk under "… | Scott Wu", whose own file
is `scott-wu`). The title, video link, date and summary of such a file belong to the other
episode: kept, its citations would name the wrong episode and open the wrong video."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.retrieval.words import query_terms

ASIDE = re.compile(r"\([^)]*\)")


@dataclass(frozen=True)
class Namesake:
    """A stored episode sharing a title with others: who speaks in it (name words, as
    `query_terms` cuts them) and who it says its guest is."""

    episode_id: int
    slug: str
    title: str
    guest: str | None
    speaker_words: frozenset[str]


def named_in_title(title: str) -> frozenset[str]:
    """The words of the person a title names: `Inside Devin | Scott Wu (Cognition)` ->
    {scott, wu}. Empty when the title names nobody after a `|`."""
    if "|" not in title:
        return frozenset()
    return frozenset(query_terms(ASIDE.sub(" ", title.rsplit("|", 1)[1])))


def misfiled(namesakes: Sequence[Namesake]) -> list[Namesake]:
    """Those whose speakers do not include the person the shared title names, when at least
    one other's do; none when that tells them apart no better (both or neither)."""
    if len(namesakes) < 2:
        return []
    named = named_in_title(namesakes[0].title)
    if not named:
        return []
    fits = [named <= n.speaker_words for n in namesakes]
    if not any(fits) or all(fits):
        return []
    return [n for n, fit in zip(namesakes, fits, strict=True) if not fit]


def speaking_guest(namesake: Namesake) -> str | None:
    """The guest the file names, when they speak in it; else None (that was borrowed too)."""
    guest = (namesake.guest or "").strip()
    return guest if guest and frozenset(query_terms(guest)) <= namesake.speaker_words else None


def own_title(namesake: Namesake) -> str:
    """A title that claims no more than is known: the guest, when they speak in it, else
    the file's slug."""
    guest = speaking_guest(namesake)
    return f"An episode with {guest}" if guest else f"An episode filed as {namesake.slug}"
