"""Finding episodes by what people type: the ones whose title, guest or slug contain some
words (`/episode episodes <words>`), and the ones closest to a slug nobody has (did you
mean). Pure functions on anything with a slug, a title and a guest."""

from __future__ import annotations

import re
from collections.abc import Iterable
from difflib import SequenceMatcher, get_close_matches
from typing import Protocol, TypeVar

SLUG_CUTOFF = 0.6  # difflib's own default: "shreyas-doshii" ~ "shreyas-doshi" is 0.96
WORD_CUTOFF = 0.8  # a typed word close to one of the episode's: "doshii" ~ "doshi" is 0.91
MIN_WORD = 3  # shorter typed words ("ai", "on") are close to too many
WORD = re.compile(r"[^\W_]+")


class Named(Protocol):
    """An episode as far as finding it goes."""

    @property
    def slug(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def guest(self) -> str | None: ...


N = TypeVar("N", bound=Named)


def words(text: str) -> list[str]:
    """The words of `text`, lower-cased: letters and digits, split at anything else."""
    return WORD.findall(text.lower())


def _haystack(episode: Named) -> str:
    return "\n".join((episode.slug, episode.title, episode.guest or "")).lower()


def matching(text: str, episodes: Iterable[N]) -> list[N]:
    """The episodes whose title, guest or slug contain every word of `text` (any case), in
    the order given; all of them when `text` has no words."""
    wanted = words(text)
    return [e for e in episodes if all(w in _haystack(e) for w in wanted)]


def _score(asked: str, typed: list[str], episode: Named) -> float:
    """How close `asked` is to the episode: the whole of it to the slug, or every typed word
    to one of the slug's, title's or guest's words; 0 when neither is close."""
    slug = SequenceMatcher(None, asked, episode.slug.lower()).ratio()
    best = slug if slug >= SLUG_CUTOFF else 0.0
    if not typed:
        return best
    own = sorted(set(words(" ".join((episode.slug, episode.title, episode.guest or "")))))
    closeness = []
    for word in typed:
        near = get_close_matches(word, own, n=1, cutoff=WORD_CUTOFF)
        if not near:
            return best
        closeness.append(SequenceMatcher(None, word, near[0]).ratio())
    return max(best, min(closeness))


def closest(asked: str, episodes: Iterable[N], limit: int = 3) -> list[N]:
    """Up to `limit` episodes closest to a slug nobody has, closest first: by the slug as a
    whole (a typo), or by its words among the episode's slug, title and guest words
    (`shreyas` finds `shreyas-doshi`). None when nothing is close."""
    text = asked.strip().lower()
    if not text:
        return []
    typed = [w for w in words(text) if len(w) >= MIN_WORD]
    scored = [(_score(text, typed, e), e) for e in episodes]
    close = [(score, e) for score, e in scored if score > 0]
    close.sort(key=lambda pair: (-pair[0], -SequenceMatcher(None, text, pair[1].slug).ratio()))
    return [e for _, e in close[:limit]]
