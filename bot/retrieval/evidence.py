"""Which episodes a question is about. Library-wide, the right passage is often one of many
that match a few words, but the right episode stands out: it is the one where the question's
rarer words keep coming up ("Artifact", "Harvey", "Claude"), or whose title, guest or summary
names them. Scores are bm25 over episodes, each episode counted as the bag of its passages."""

from __future__ import annotations

import bisect
import math
import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bot.retrieval.words import light_stem, word_set
from db.library_stats import (
    SpeakerShare,
    episode_spans,
    episodes_about,
    library_version,
    speaker_shares,
)

# bm25's usual constants, over episodes rather than passages.
K1 = 1.2
B = 0.75
# A question word in the title, guest or summary counts like this share of its idf again.
ABOUT_WEIGHT = 1.0


@dataclass(frozen=True)
class LibraryIndex:
    """Each episode's rowid span, passage count and the words of its title, guest and
    summary. Built once per change of the library (30-40 ms at 300 episodes)."""

    episode_ids: tuple[int, ...]
    first_ids: tuple[int, ...]
    last_ids: tuple[int, ...]
    passages: Mapping[int, int]
    about: Mapping[int, frozenset[str]]
    # Who asks the questions in each episode (see host_of); absent when no one clearly does.
    hosts: Mapping[int, str] = field(default_factory=dict)

    def episode_of(self, segment_id: int) -> int | None:
        """The episode a passage belongs to, found from the rowid spans."""
        at = bisect.bisect_right(self.first_ids, segment_id) - 1
        if at < 0 or segment_id > self.last_ids[at]:
            return None
        return self.episode_ids[at]

    def count_by_episode(self, sorted_ids: Sequence[int]) -> dict[int, int]:
        """How many of these passage ids (ascending) each episode holds: two bisections per
        episode, where looking up each id would cost one per match."""
        counts: dict[int, int] = {}
        if not sorted_ids:
            return counts
        start = bisect.bisect_left(self.first_ids, sorted_ids[0])
        start = max(start - 1, 0)
        end = bisect.bisect_right(self.first_ids, sorted_ids[-1])
        for at in range(start, end):
            low = bisect.bisect_left(sorted_ids, self.first_ids[at])
            high = bisect.bisect_right(sorted_ids, self.last_ids[at])
            if high > low:
                counts[self.episode_ids[at]] = high - low
        return counts

    def within(self, episode_ids: frozenset[int]) -> LibraryIndex:
        """The index of only these episodes (one workspace's own library)."""
        kept = [at for at, e in enumerate(self.episode_ids) if e in episode_ids]
        return LibraryIndex(
            episode_ids=tuple(self.episode_ids[at] for at in kept),
            first_ids=tuple(self.first_ids[at] for at in kept),
            last_ids=tuple(self.last_ids[at] for at in kept),
            passages={e: n for e, n in self.passages.items() if e in episode_ids},
            about={e: words for e, words in self.about.items() if e in episode_ids},
            hosts={e: host for e, host in self.hosts.items() if e in episode_ids},
        )

    def span(self, episode_id: int) -> tuple[int, int]:
        """The first and last rowid of an episode's passages."""
        at = self.episode_ids.index(episode_id)
        return self.first_ids[at], self.last_ids[at]


_lock = threading.Lock()
_cached: tuple[tuple[object, ...], LibraryIndex] | None = None


def library_index(session: Session) -> LibraryIndex:
    """The index for the library as it is now; rebuilt only when episodes changed."""
    global _cached
    version = library_version(session)
    with _lock:
        if _cached is not None and _cached[0] == version:
            return _cached[1]
    spans = episode_spans(session)
    passages = {s.episode_id: s.passages for s in spans}
    index = LibraryIndex(
        episode_ids=tuple(s.episode_id for s in spans),
        first_ids=tuple(s.first_id for s in spans),
        last_ids=tuple(s.last_id for s in spans),
        passages=passages,
        # Only episodes with passages: one without (a row stored by hand, say) has nothing
        # to search, so it must not be picked as an episode to search.
        about={
            a.episode_id: frozenset(word_set(a.text))
            for a in episodes_about(session)
            if a.episode_id in passages
        },
        hosts=hosts_of(speaker_shares(session)),
    )
    with _lock:
        _cached = (version, index)
    return index


# A speaker with fewer turns than this share of an episode's is a guest appearance or a
# cold-open voice, never its host.
HOST_MIN_TURN_SHARE = 0.2


def hosts_of(shares: Sequence[SpeakerShare]) -> dict[int, str]:
    """Each episode's host: of the speakers who take a fair share of the turns and are not
    the named guest, the one who says least per turn (the host asks, the guest answers).
    An episode with one speaker has no host."""
    by_episode: dict[int, list[SpeakerShare]] = defaultdict(list)
    for share in shares:
        by_episode[share.episode_id].append(share)
    hosts: dict[int, str] = {}
    for episode, speakers in by_episode.items():
        if len(speakers) < 2:
            continue
        turns = sum(s.turns for s in speakers)
        guest = word_set(speakers[0].guest or "")
        regular = [
            s
            for s in speakers
            if s.turns >= HOST_MIN_TURN_SHARE * turns and guest.isdisjoint(word_set(s.speaker))
        ]
        if regular:
            hosts[episode] = min(regular, key=lambda s: s.characters / s.turns).speaker
    return hosts


def episode_scores(
    index: LibraryIndex,
    term_matches: Mapping[str, Sequence[int] | None],
    variants_of: Mapping[str, Sequence[str]],
) -> dict[int, float]:
    """bm25 per episode over the question's terms. `term_matches` holds each term's matching
    passage ids, or None for a term too common to tell episodes apart."""
    count = len(index.episode_ids)
    if not count:
        return {}
    average = sum(index.passages.values()) / count
    scores: dict[int, float] = {}
    for term, ids in term_matches.items():
        if ids is None:
            continue
        frequency = index.count_by_episode(ids)
        stems = {light_stem(v) for v in variants_of.get(term, (term,))}
        named_in = [e for e, words in index.about.items() if not stems.isdisjoint(words)]
        found_in = len(frequency.keys() | set(named_in))
        if not found_in:
            continue
        idf = math.log((count - found_in + 0.5) / (found_in + 0.5) + 1)
        for episode, tf in frequency.items():
            length = index.passages.get(episode, average) / average
            scores[episode] = scores.get(episode, 0.0) + idf * tf * (K1 + 1) / (
                tf + K1 * (1 - B + B * length)
            )
        for episode in named_in:
            scores[episode] = scores.get(episode, 0.0) + ABOUT_WEIGHT * idf
    return scores
