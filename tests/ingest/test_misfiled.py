"""A file filed under another episode's title (the archive's `kim-scott` holds Kim Scott's
talk under Scott Wu's title, video and date) gets a title of its own and no video link, so
its citations never name or open the wrong episode."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.ingest.misfiled import Namesake, misfiled, named_in_title
from bot.ingest.pipeline import ingest_paths
from bot.retrieval import retrieve
from db.models import Episode

TITLE = "Inside Devin: the AI engineer | Scott Wu (Cognition)"
VIDEO = "https://www.youtube.com/watch?v=gI0ZNhA0rvE"


def _file(root: Path, folder: str, guest: str, said: str) -> None:
    path = root / folder / "transcript.md"
    path.parent.mkdir(parents=True)
    path.write_text(
        f"---\nguest: {guest}\ntitle: '{TITLE}'\nyoutube_url: {VIDEO}\n"
        "publish_date: 2025-05-04\ndescription: 'Scott Wu on Devin.'\n---\n\n"
        f"# {TITLE}\n\n## Transcript\n\n"
        f"Lenny Rachitsky (00:00:05):\nWelcome, {guest}.\n\n"
        f"{guest} (00:00:09):\n{said}\n"
    )


def test_the_title_names_a_person_and_only_their_episode_keeps_it() -> None:
    assert named_in_title(TITLE) == {"scott", "wu"}
    assert named_in_title("No guest named here") == frozenset()
    wu = Namesake(1, "scott-wu", TITLE, "Scott Wu", frozenset({"scott", "wu", "lenny"}))
    kim = Namesake(2, "kim-scott", TITLE, "Kim Scott", frozenset({"kim", "scott", "lenny"}))
    again = Namesake(3, "scott-wu-20", TITLE, "Scott Wu", frozenset({"scott", "wu"}))
    assert misfiled([wu, kim]) == [kim]
    assert misfiled([kim, wu]) == [kim]
    assert misfiled([wu, again]) == []  # two talks by the one person: nothing to tell
    assert misfiled([kim]) == []


@pytest.mark.parametrize("order", [("a-scott-wu", "b-kim-scott"), ("b-scott-wu", "a-kim-scott")])
def test_the_misfiled_episode_is_retitled_whichever_comes_first(
    session_factory: sessionmaker[Session], tmp_path: Path, order: tuple[str, str]
) -> None:
    wu_folder, kim_folder = order
    _file(tmp_path, wu_folder, "Scott Wu", "Devin writes a quarter of our pull requests.")
    _file(tmp_path, kim_folder, "Kim Scott", "Radical candor is caring while challenging.")
    results = {r.slug: r for r in ingest_paths(session_factory, [tmp_path])}
    assert {r.status for r in results.values()} == {"ingested"}
    second = max(order)  # files are ingested in path order; the second sees the first
    note = results[second].message
    assert note.startswith("same title as ")
    if second == kim_folder:
        assert note.endswith(
            f"the title names {wu_folder}'s speakers, not this one's, so it is stored as "
            f"'An episode with Kim Scott', without {wu_folder}'s video link"
        )
    else:
        assert note.endswith(
            f"the title names this episode's speakers, so {kim_folder} is now "
            "'An episode with Kim Scott', without this episode's video link"
        )
    with session_factory() as session:
        kim = session.scalar(select(Episode).where(Episode.slug == kim_folder))
        wu = session.scalar(select(Episode).where(Episode.slug == wu_folder))
        assert kim is not None and wu is not None
        assert (kim.title, kim.source_url, kim.published_on, kim.summary, kim.title_key) == (
            "An episode with Kim Scott",
            None,
            None,
            None,
            None,
        )
        assert (wu.title, wu.source_url) == (TITLE, VIDEO)
        [hit] = [r.hit for r in retrieve(session, "radical candor", limit=1)]
        assert (hit.episode_slug, hit.episode_title, hit.episode_url) == (
            kim_folder,
            "An episode with Kim Scott",
            None,
        )
    # Again: nothing changes, the corrected title stays.
    again = ingest_paths(session_factory, [tmp_path])
    assert {r.status for r in again} == {"unchanged"}
    with session_factory() as session:
        assert session.scalar(select(Episode.title).where(Episode.slug == kim_folder)) == (
            "An episode with Kim Scott"
        )


def test_a_replace_does_not_give_the_misfiled_episode_its_borrowed_title_back(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    _file(tmp_path, "a-scott-wu", "Scott Wu", "Devin writes a quarter of our pull requests.")
    _file(tmp_path, "b-kim-scott", "Kim Scott", "Radical candor is caring while challenging.")
    ingest_paths(session_factory, [tmp_path])
    kim = tmp_path / "b-kim-scott" / "transcript.md"
    kim.write_text(kim.read_text().replace("challenging.", "challenging directly."))
    [result] = ingest_paths(session_factory, [kim], replace=True)
    assert result.status == "replaced"
    assert result.message == (
        "its title names another episode's speakers, so it is stored as 'An episode with Kim Scott'"
    )
    with session_factory() as session:
        episode = session.scalar(select(Episode).where(Episode.slug == "b-kim-scott"))
        assert episode is not None
        assert (episode.title, episode.source_url) == ("An episode with Kim Scott", None)


def test_a_borrowed_guest_is_dropped_too(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    _file(tmp_path, "a-scott-wu", "Scott Wu", "Devin writes a quarter of our pull requests.")
    # Front matter copied whole from Scott Wu's file, guest included; Kim Scott speaks.
    _file(tmp_path, "b-kim-scott", "Kim Scott", "Radical candor is caring while challenging.")
    kim = tmp_path / "b-kim-scott" / "transcript.md"
    kim.write_text(kim.read_text().replace("guest: Kim Scott", "guest: Scott Wu"))
    ingest_paths(session_factory, [tmp_path])
    with session_factory() as session:
        episode = session.scalar(select(Episode).where(Episode.slug == "b-kim-scott"))
        assert episode is not None
        assert (episode.title, episode.guest) == ("An episode filed as b-kim-scott", None)
