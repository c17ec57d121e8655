"""The same episode from two sources (the team's copy of the seed and the community
archive's) is recognised by its title, reported, and stored once; --replace switches to the
other source and keeps the slug people already use."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.ingest.identity import title_key
from bot.ingest.pipeline import ingest_file, ingest_paths
from bot.ingest.reader import parse_text
from db.engine import alembic_config, create_engine_for, migrate, open_database
from db.models import Conversation, Episode, Segment
from tests.conftest import SEED, SEED_SLUG

SEED_TITLE = "Anthropic's CPO on what comes next | Mike Krieger (co-founder of Instagram)"
VIDEO = "https://www.youtube.com/watch?v=DKrBGOFs0GY"


def _archive_copy(
    root: Path, folder: str = "mike-krieger", *, description: str = "", skip: int = 0
) -> Path:
    """The seed's conversation in the community archive's layout, titled as the seed is
    (with a curly apostrophe, as some sources type it), one turn every 30 seconds; `skip`
    leaves out the first turns, as another transcription of it might."""
    turns = parse_text(SEED.read_text()).turns[skip:]
    body = "\n".join(
        f"{turn.speaker} ({_clock(turn.position * 30)}):\n{turn.text}\n" for turn in turns
    )
    path = root / "episodes" / folder / "transcript.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "---\n"
        "guest: Mike Krieger\n"
        "title: 'Anthropic\u2019s CPO on what comes next | Mike Krieger (co-founder of "
        "Instagram)'\n"
        f"youtube_url: {VIDEO}\n"
        "publish_date: 2025-06-05\n"
        f"description: '{description}'\n"
        "---\n\n"
        f"# {SEED_TITLE}\n\n## Transcript\n\n{body}"
    )
    return path


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _episodes(session_factory: sessionmaker[Session]) -> list[Episode]:
    with session_factory() as session:
        return list(session.scalars(select(Episode).order_by(Episode.id)))


def test_title_keys_ignore_case_quotes_and_punctuation_but_not_made_up_titles() -> None:
    assert title_key(SEED_TITLE) == title_key(SEED_TITLE.replace("'", "\u2019").upper())
    assert title_key(SEED_TITLE) == (
        "anthropic s cpo on what comes next mike krieger co founder of instagram"
    )
    assert title_key("  ¡Shipping — small!  ") == "shipping small"
    assert title_key("") is None and title_key("?!") is None
    assert title_key("Transcript") is None  # a heading that names no episode


def test_the_archive_copy_of_the_seed_is_reported_not_stored_twice(
    seeded: sessionmaker[Session], tmp_path: Path
) -> None:
    copy = _archive_copy(tmp_path)
    for _ in range(2):  # and the same again on a rerun
        [result] = ingest_paths(seeded, [tmp_path / "episodes"])
        assert (result.status, result.slug, result.failed) == ("duplicate", SEED_SLUG, False)
        assert result.message == (
            f"same episode as {SEED_SLUG} (same title and conversation); not stored twice; "
            "add --replace to switch to this source"
        )
    [episode] = _episodes(seeded)
    assert episode.slug == SEED_SLUG and episode.turn_count == 85
    assert copy.exists()


def test_replace_switches_to_the_archive_copy_and_keeps_the_seed_slug(
    seeded: sessionmaker[Session], tmp_path: Path
) -> None:
    from db.channels import focus_episode, set_focus_episode
    from db.conversations import start_conversation
    from db.episodes import get_episode

    with seeded.begin() as session:
        seed = get_episode(session, SEED_SLUG)
        assert seed is not None
        set_focus_episode(session, "", "C0FOCUS", seed)
        start_conversation(session, "", "C0FOCUS", thread_ts="1.2", episode_id=seed.id)
    _archive_copy(tmp_path)

    [replaced] = ingest_paths(seeded, [tmp_path / "episodes"], replace=True)
    assert (replaced.status, replaced.slug, replaced.turns) == ("replaced", SEED_SLUG, 85)
    assert replaced.message == (
        f"replaced {SEED_SLUG} (same title and conversation) with this source"
    )
    [episode] = _episodes(seeded)
    assert (episode.slug, episode.source_url, episode.source_format) == (
        SEED_SLUG,
        VIDEO,
        "timestamped",
    )
    with seeded() as session:
        starts = session.scalars(select(Segment.start_seconds).order_by(Segment.position)).all()
        assert None not in starts and starts[:3] == [30.0, 60.0, 90.0]
        # The channel and the thread that were about it still are.
        focus = focus_episode(session, "", "C0FOCUS")
        assert focus is not None and focus.id == episode.id
        thread = session.scalar(select(Conversation))
        assert thread is not None and thread.episode_id == episode.id

    [again] = ingest_paths(seeded, [tmp_path / "episodes"], replace=True)
    assert (again.status, again.slug) == ("unchanged", SEED_SLUG)
    assert len(_episodes(seeded)) == 1


def test_two_files_with_one_title_in_a_run_store_the_first_only(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    # The archive's andy-raskin and andy-raskin_: one episode twice, the files different.
    _archive_copy(tmp_path, "andy-raskin", description="A talk.")
    _archive_copy(tmp_path, "andy-raskin_", description="Another take.", skip=8)
    for replace in (False, True, False):
        results = ingest_paths(session_factory, [tmp_path / "episodes"], replace=replace)
        second = results[1]
        assert second.status == "duplicate" and second.slug == "andy-raskin"
        # Even with --replace: switching back and forth within one run is no choice at all.
        assert second.message.startswith(
            "same episode as andy-raskin (same title and conversation as "
        )
        assert "already stored in this run); not stored twice" in second.message
        assert results[0].status in ("ingested", "unchanged")
    assert [e.slug for e in _episodes(session_factory)] == ["andy-raskin"]


def test_a_title_shared_by_another_conversation_is_stored_and_said(
    seeded: sessionmaker[Session], tmp_path: Path
) -> None:
    # The community archive files 24 conversations under titles copied from other episodes
    # (Kim Scott's talk under Scott Wu's title): a title alone does not make one episode.
    other = tmp_path / "kim-scott" / "transcript.md"
    other.parent.mkdir()
    other.write_text(
        f'---\ntitle: "{SEED_TITLE}"\nguest: Kim Scott\n---\n\n## Transcript\n\n'
        "Lenny (00:00:05):\nWhat is radical candor, and where did the idea come from?\n\n"
        "Kim Scott (00:00:12):\nIt means caring personally while challenging directly, "
        "and I learned it from a boss who told me I said um a lot.\n"
    )
    [result] = ingest_paths(seeded, [tmp_path], replace=True)
    assert (result.status, result.slug) == ("ingested", "kim-scott")
    assert result.message == (
        f"same title as {SEED_SLUG} but another conversation, so stored as an episode of its "
        f"own; the title names {SEED_SLUG}'s speakers, not this one's, so it is stored as "
        f"'An episode with Kim Scott', without {SEED_SLUG}'s video link"
    )
    assert sorted(e.slug for e in _episodes(seeded)) == ["kim-scott", SEED_SLUG]


def test_files_without_a_title_are_never_the_same_episode(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    files = (("guest", "talk.vtt", "first"), ("guest_", "talk_.vtt", "second"))
    for folder, captions, said in files:
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "transcript.md").write_text(
            f"## Transcript\n\nLenny (00:01):\nThe {said} talk.\n"
        )
        (tmp_path / folder / captions).write_text(
            f"WEBVTT\n\n00:00.000 --> 00:02.000\nAda: The {said} caption.\n"
        )
    results = ingest_paths(session_factory, [tmp_path])
    assert [r.status for r in results] == ["ingested"] * 4, [r.message for r in results]
    episodes = _episodes(session_factory)
    # A title made from the file name is the folder's name, never "transcript".
    assert sorted((e.slug, e.title, e.title_key) for e in episodes) == [
        ("guest", "guest", None),
        ("guest-2", "guest", None),
        ("talk", "talk", None),
        ("talk-2", "talk", None),
    ]


def test_the_seed_itself_after_replace_by_the_archive_is_its_own_source_again(
    seeded: sessionmaker[Session], tmp_path: Path
) -> None:
    _archive_copy(tmp_path)
    ingest_paths(seeded, [tmp_path / "episodes"], replace=True)
    back = ingest_file(seeded, SEED, replace=True)
    assert (back.status, back.slug) == ("replaced", SEED_SLUG)
    [episode] = _episodes(seeded)
    assert episode.source_format == "numbered" and episode.turn_count == 85


@pytest.mark.sqlite_only  # from an old schema; PostgreSQL's upgrade: test_postgres_schema
def test_migration_backfills_title_keys_of_stored_episodes(database_url: str) -> None:
    engine = create_engine_for(database_url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
    rows = [
        # slug, title, format: a real title, titles made from file names, a caption file
        (SEED_SLUG, SEED_TITLE, "numbered"),
        ("andy-raskin", "Andy Raskin on narrative", "timestamped"),
        ("andy-raskin-2", "Andy Raskin on narrative", "timestamped"),
        ("standup-notes", "standup notes", "plain"),
        ("andy-2", "andy ", "plain"),
        ("talk", "Talk", "vtt"),
    ]
    with engine.begin() as connection:
        for number, (slug, title, fmt) in enumerate(rows, start=1):
            connection.execute(
                text(
                    "INSERT INTO episodes (id, slug, title, source_format, content_hash, "
                    "turn_count) VALUES (:id, :slug, :title, :fmt, :hash, 1)"
                ),
                {"id": number, "slug": slug, "title": title, "fmt": fmt, "hash": slug},
            )
            connection.execute(
                text(
                    "INSERT INTO segments (episode_id, position, part, speaker, text, kind) "
                    "VALUES (:id, 1, 0, 'Ann', 'hello there', 'content')"
                ),
                {"id": number},
            )

    assert migrate(engine) is True
    session_factory = open_database(database_url)
    with session_factory() as session:
        keys = {slug: key for slug, key in session.execute(select(Episode.slug, Episode.title_key))}
        # Nothing of the stored episodes is lost on the way.
        assert session.scalar(select(func.count(Segment.id))) == len(rows)
    assert keys == {
        SEED_SLUG: title_key(SEED_TITLE),
        "andy-raskin": "andy raskin on narrative",
        "andy-raskin-2": "andy raskin on narrative",  # a duplicate from before: kept, keyed
        "standup-notes": None,
        "andy-2": None,
        "talk": None,
    }
    # New files meet the old library's titles (here a namesake: the stored text differs).
    copy = _archive_copy(Path(database_url.removeprefix("sqlite:///")).parent)
    result = ingest_file(session_factory, copy)
    assert result.status == "ingested"
    assert result.message.startswith(f"same title as {SEED_SLUG} but another conversation")


def test_the_command_reports_duplicates_apart_and_exits_zero(tmp_path: Path) -> None:
    from tests.cli.test_cli import run

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "LOG_LEVEL"} and not k.startswith(("ANTHROPIC_", "SLACK_"))
    }
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    copy = _archive_copy(tmp_path / "archive")
    archive = str(tmp_path / "archive" / "episodes")
    assert run("ingest", str(SEED), env=env, cwd=tmp_path).returncode == 0

    duplicate = run("ingest", archive, env=env, cwd=tmp_path)
    assert duplicate.returncode == 0, duplicate.stderr
    assert duplicate.stderr == ""
    assert duplicate.stdout.splitlines() == [
        f"{copy}: same episode as {SEED_SLUG} (same title and conversation); not stored twice; "
        "add --replace to switch to this source",
        "0 ingested, 0 unchanged, 1 duplicate, 0 failed",
    ]

    switched = run("ingest", "--replace", archive, env=env, cwd=tmp_path)
    assert switched.returncode == 0, switched.stderr
    assert switched.stdout.splitlines() == [
        f"{copy}: replaced {SEED_SLUG} (same title and conversation) with this source",
        "0 ingested, 1 replaced, 0 unchanged, 0 failed",
    ]
    again = run("ingest", "--replace", archive, env=env, cwd=tmp_path)
    # The archive's file is what is stored now, under the slug people already use.
    assert again.stdout.splitlines() == [
        f"{copy}: already stored as {SEED_SLUG}",
        "0 ingested, 1 unchanged, 0 failed",
    ]
    listed = json.loads(run("episodes", "--json", env=env, cwd=tmp_path).stdout)
    assert [(e["slug"], e["turns"]) for e in listed] == [(SEED_SLUG, 85)]


def _retitled_copy(root: Path, title: str) -> Path:
    """The seed's conversation, word for word, filed under another episode's title and
    video: the community archive holds 5 such pairs (april-dunford-20, marty-cagan-20...)."""
    copy = _archive_copy(root, "someone-else")
    copy.write_text(
        copy.read_text()
        .replace(f"# {SEED_TITLE}", f"# {title}")
        .replace("title: 'Anthropic\u2019s CPO", f"title: '{title} | was: Anthropic\u2019s CPO")
    )
    return copy


def test_the_same_conversation_under_another_title_is_not_stored_twice(
    seeded: sessionmaker[Session], tmp_path: Path
) -> None:
    copy = _retitled_copy(tmp_path, "How to nail your product positioning")
    for _ in range(2):
        [result] = ingest_paths(seeded, [tmp_path / "episodes"])
        assert (result.status, result.slug, result.failed) == ("duplicate", SEED_SLUG, False)
        assert result.message == (
            f"same conversation as {SEED_SLUG} under another title; not stored twice; "
            "add --replace to switch to this source"
        )
    assert [e.slug for e in _episodes(seeded)] == [SEED_SLUG]
    replaced = ingest_file(seeded, copy, replace=True)
    assert (replaced.status, replaced.slug) == ("replaced", SEED_SLUG)
    assert replaced.message == (
        f"replaced {SEED_SLUG} (same conversation, another title) with this source"
    )
    [episode] = _episodes(seeded)
    assert episode.title.startswith("How to nail your product positioning")
    assert ingest_file(seeded, copy).status == "unchanged"


def test_another_conversation_under_another_title_is_its_own_episode(
    seeded: sessionmaker[Session], tmp_path: Path
) -> None:
    copy = _retitled_copy(tmp_path, "How to nail your product positioning")
    # One word changed in one turn: another transcript, not the same words.
    copy.write_text(copy.read_text().replace("Boris", "Doris", 1))
    [result] = ingest_paths(seeded, [tmp_path / "episodes"])
    assert (result.status, result.slug) == ("ingested", "someone-else")


@pytest.mark.sqlite_only  # from an old schema; PostgreSQL's upgrade: test_postgres_schema
def test_migration_fingerprints_stored_conversations_as_ingest_does(
    seeded: sessionmaker[Session], database_url: str
) -> None:
    with seeded() as session:
        fingerprint = session.scalar(select(Episode.conversation_hash))
        passages = session.scalar(select(func.count(Segment.id)))
    assert fingerprint and passages
    seeded.kw["bind"].dispose()
    engine = create_engine_for(database_url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")
    with engine.connect() as connection:
        columns = {row[1] for row in connection.execute(text("PRAGMA table_info(episodes)"))}
        assert not columns & {"conversation_hash", "title_key"}
        # Down and up again, nothing of the episode is lost on the way.
        assert connection.scalar(text("SELECT count(*) FROM segments")) == passages
    assert migrate(engine) is True
    with open_database(database_url)() as session:
        assert session.scalar(select(Episode.conversation_hash)) == fingerprint
        assert session.scalar(select(Episode.title_key)) == title_key(SEED_TITLE)
        assert session.scalar(select(func.count(Segment.id))) == passages


def test_a_clip_with_the_episode_title_is_not_the_episode(
    seeded: sessionmaker[Session], tmp_path: Path
) -> None:
    # The first ten turns under the seed's title: every word is the seed's, but a trailer is
    # not the episode, and must never replace it.
    clip = _archive_copy(tmp_path, "mike-krieger-clip")
    text_ = clip.read_text()
    head, _, turns = text_.partition("## Transcript\n\n")
    clip.write_text(head + "## Transcript\n\n" + "\n".join(turns.split("\n\n")[:10]) + "\n")
    [result] = ingest_paths(seeded, [tmp_path / "episodes"], replace=True)
    assert (result.status, result.slug) == ("ingested", "mike-krieger-clip")
    assert sorted(e.slug for e in _episodes(seeded)) == [SEED_SLUG, "mike-krieger-clip"]


def test_a_duplicate_s_own_slug_finds_the_stored_episode(
    seeded: sessionmaker[Session], tmp_path: Path
) -> None:
    from bot.retrieval import retrieve
    from db.episodes import get_episode

    _archive_copy(tmp_path)  # the archive's copy of the seed, under the folder name mike-krieger
    [result] = ingest_paths(seeded, [tmp_path / "episodes"])
    assert result.status == "duplicate"
    with seeded() as session:
        found = get_episode(session, "mike-krieger")
        assert found is not None and found.slug == SEED_SLUG
        # Whatever takes a slug takes the alias: search in it finds the seed's turns.
        [hit] = retrieve(session, "Who is Boris?", episode="mike-krieger", limit=1)
        assert hit.hit.episode_slug == SEED_SLUG
        assert get_episode(session, "mike-krieger-2") is None
    # A rerun finds the alias already there.
    [again] = ingest_paths(seeded, [tmp_path / "episodes"])
    assert again.status == "duplicate"
