"""A library per workspace (LIBRARY_PER_WORKSPACE=true), on the real database: a workspace
lists, searches, asks about, focuses and posts takeaways of only the episodes ingested for
it; one transcript ingested for two workspaces is stored once and neither can replace it
for the other; forgetting a workspace deletes the episodes only it had; a new workspace
gets the sample episode, as a new library does."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.answering.offline import OfflineAnswerer
from bot.config import Settings
from bot.ingest.pipeline import ingest_file
from bot.services import channels, workspaces
from bot.services import library as library_service
from bot.services.asking import ask
from bot.services.daily_posts import DailyPoster, Outcome, set_schedule
from bot.services.library import Library, UnknownEpisode, sample_episode_path
from bot.services.starters import starters_for
from bot.takeaways.picking import Pick
from db import models as m
from tests.conftest import FORMATS_DIR, SEED, SEED_SLUG

ADA = FORMATS_DIR / "archive-episode.md"
ADA_SLUG = "archive-episode"
DAY = date(2026, 12, 1)
NINE = datetime(2026, 12, 1, 9, 0)


class _Slack:
    """The takeaway's Slack end: every post goes out, and is kept to be looked at."""

    def __init__(self) -> None:
        self.posted: list[Pick] = []

    def publish(self, team: str, channel: str, pick: Pick, *, post_id: int, turn_id: int) -> str:
        self.posted.append(pick)
        return f"1700000001.{post_id:06d}"

    def find_posted(self, team: str, channel: str, post_id: int) -> str | None:
        return None


@pytest.fixture
def shared(session_factory: sessionmaker[Session]) -> Library:
    """An empty database, opened with a library per workspace (the operator's view)."""
    return Library(session_factory, per_workspace=True)


def _ingest(library: Library, path: Path, *, replace: bool = False) -> str:
    result = ingest_file(library.sessions, path, replace=replace)
    assert not result.failed, result.message
    return result.status


def _title(library: Library) -> str:
    return library_service.episodes(library)[0].title


def _episode_rows(library: Library) -> int:
    with library.sessions() as session:
        return session.scalar(select(func.count(m.Episode.id))) or 0


def test_a_workspace_reads_only_the_episodes_ingested_for_it(shared: Library) -> None:
    anthropic, ada = shared.of_workspace("TSEED"), shared.of_workspace("TADA")
    assert _ingest(anthropic, SEED) == "ingested"
    assert _ingest(ada, ADA) == "ingested"

    assert [e.slug for e in library_service.episodes(anthropic)] == [SEED_SLUG]
    assert [e.slug for e in library_service.episodes(ada)] == [ADA_SLUG]
    assert {e.slug for e in library_service.episodes(shared)} == {SEED_SLUG, ADA_SLUG}
    assert library_service.episode_count(ada) == 1

    # Library-wide search and answers never reach the other workspace's transcript.
    found = library_service.search(anthropic, "Claude Code", episode=None, limit=10)
    assert found and {r.hit.episode_slug for r in found} == {SEED_SLUG}
    assert library_service.search(ada, "Claude Code", episode=None, limit=10) == []
    scope = library_service.search(ada, "cutting scope", episode=None, limit=10)
    assert scope and {r.hit.episode_slug for r in scope} == {ADA_SLUG}
    elsewhere = library_service.search(anthropic, "cutting scope", episode=None, limit=10)
    assert ADA_SLUG not in {r.hit.episode_slug for r in elsewhere}
    answer = ask(ada, "What does Mike say about Claude Code?", OfflineAnswerer())
    assert all(c.episode_slug == ADA_SLUG for c in answer.citations)

    # Naming the other's episode finds nothing: not searched, not read, not focused.
    with pytest.raises(UnknownEpisode):
        library_service.search(ada, "Claude", episode=SEED_SLUG, limit=5)
    with pytest.raises(UnknownEpisode):
        library_service.read_turns(ada, SEED_SLUG, 1, 3)
    assert channels.use_episode(ada, "C1", SEED_SLUG) is None
    assert channels.use_episode(anthropic, "C1", SEED_SLUG) is not None
    assert SEED_SLUG not in {e.slug for e in library_service.closest_episodes(ada, SEED_SLUG)}

    # Starters and the takeaway of the day come from the workspace's own episodes.
    starter = starters_for(ada, "D0ADA")
    assert starter is not None and starter.guest == "Ada Example"
    set_schedule(anthropic, "C2", at="09:00", zone="UTC", days="daily")
    slack = _Slack()
    posted = DailyPoster(anthropic, slack, Settings()).post_for("C2", DAY, NINE)
    assert posted.outcome is Outcome.POSTED
    assert [p.episode_title for p in slack.posted] == [_title(anthropic)]


def test_one_transcript_for_two_workspaces_is_stored_once_and_kept_for_both(
    shared: Library, tmp_path: Path
) -> None:
    first, second = shared.of_workspace("TONE"), shared.of_workspace("TTWO")
    assert _ingest(first, SEED) == "ingested"
    assert _ingest(second, SEED) == "unchanged"
    assert _episode_rows(shared) == 1
    assert [e.slug for e in library_service.episodes(second)] == [SEED_SLUG]

    # Another version of it, for one of them: refused, the episode both read stays.
    edited = tmp_path / f"{SEED_SLUG}.txt"
    edited.write_text(SEED.read_text(encoding="utf-8") + "\nLenny: One more thing.\n")
    result = ingest_file(first.sessions, edited, replace=True)
    assert result.failed and "other workspaces' libraries" in result.message
    assert library_service.episodes(first)[0].turns == library_service.episodes(second)[0].turns

    # Forgetting one keeps the episode for the other; forgetting both deletes it.
    workspaces.forget_workspace(shared, "TONE")
    assert library_service.episode_count(first) == 0
    assert [e.slug for e in library_service.episodes(second)] == [SEED_SLUG]
    workspaces.forget_workspace(shared, "TTWO")
    assert _episode_rows(shared) == 0


def test_a_workspace_replaces_its_own_episode_and_keeps_it(shared: Library, tmp_path: Path) -> None:
    own = shared.of_workspace("TOWN")
    assert _ingest(own, SEED) == "ingested"
    edited = tmp_path / f"{SEED_SLUG}.txt"
    edited.write_text(SEED.read_text(encoding="utf-8") + "\nLenny: One more thing.\n")
    assert _ingest(own, edited, replace=True) == "replaced"
    assert [e.slug for e in library_service.episodes(own)] == [SEED_SLUG]
    assert library_service.episode_count(shared.of_workspace("TOTHER")) == 0


def test_forgetting_a_workspace_deletes_the_episodes_only_it_had(shared: Library) -> None:
    leaving, staying = shared.of_workspace("TLEAVE"), shared.of_workspace("TSTAY")
    _ingest(leaving, SEED)
    _ingest(leaving, ADA)
    _ingest(staying, SEED)
    workspaces.forget_workspace(shared, "TLEAVE")
    assert {e.slug for e in library_service.episodes(shared)} == {SEED_SLUG}
    assert [e.slug for e in library_service.episodes(staying)] == [SEED_SLUG]


def test_a_new_workspace_is_given_the_sample_episode_once(shared: Library) -> None:
    workspaces.installed(shared, "TNEW", name="New", with_sample=True)
    workspaces.installed(shared, "TNEW", name="New", with_sample=True)
    newcomer = shared.of_workspace("TNEW")
    assert [e.slug for e in library_service.episodes(newcomer)] == [sample_episode_path().stem]
    assert _episode_rows(shared) == 1
    # Without the setting every workspace shares the library and nothing is owned.
    everyone = Library(shared.sessions)
    workspaces.installed(everyone, "TSHARED", with_sample=True)
    assert library_service.episode_count(everyone.of_workspace("TSHARED")) == 1


def test_a_single_workspace_adopts_the_episodes_from_before(shared: Library) -> None:
    _ingest(shared, SEED)  # ingested before the setting was on: nobody's
    assert library_service.episode_count(shared.of_workspace("TSOLE")) == 0
    workspaces.adopt_earlier_data(shared, "TSOLE")
    assert library_service.episode_count(shared.of_workspace("TSOLE")) == 1


def test_with_the_setting_off_forgetting_keeps_the_shared_library(shared: Library) -> None:
    """Owner rows left from when LIBRARY_PER_WORKSPACE was on never take an episode every
    workspace reads once it is off."""
    _ingest(shared.of_workspace("TWAS"), SEED)
    everyone = Library(shared.sessions)  # the setting turned off since
    workspaces.forget_workspace(everyone, "TWAS")
    assert [e.slug for e in library_service.episodes(everyone)] == [SEED_SLUG]
