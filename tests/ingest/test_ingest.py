"""Ingest: idempotent, replace in one transaction, bad files refused one line each while
the rest of the run still ingests, and nothing of a refused file written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.ingest.model import ParseError
from bot.ingest.pipeline import ingest_file, ingest_paths
from db.dialect import is_postgres
from db.models import Episode, Segment, Takeaway
from tests.conftest import FORMATS_DIR, SEED, SEED_SLUG

PLAIN = "Ann Host: Welcome to the show.\nBob Guest: Thanks for having me on.\nAnn Host: Bye.\n"


def _indexed(session: Session, phrase: str | None = None) -> int:
    """How many passages the backend's own full-text index holds (that match `phrase`)."""
    if is_postgres(session):
        if phrase:
            query = (
                "SELECT count(*) FROM segments WHERE search @@ phraseto_tsquery('episode_bot', :p)"
            )
        else:  # the passages the word groups hold (the tsvector column is generated)
            query = "SELECT count(DISTINCT id) FROM episode_lexemes, unnest(segment_ids) AS id"
    else:
        match = " WHERE segments_fts MATCH '\"' || :p || '\"'" if phrase else ""
        query = f"SELECT count(*) FROM segments_fts{match}"
    return session.execute(text(query), {"p": phrase} if phrase else {}).scalar() or 0


def _counts(session_factory: sessionmaker[Session]) -> tuple[int, int, int, int]:
    with session_factory() as session:
        return (
            session.scalar(select(func.count(Episode.id))) or 0,
            session.scalar(select(func.count(Segment.id))) or 0,
            session.scalar(select(func.count(Takeaway.id))) or 0,
            _indexed(session),
        )


def test_seed_ingests_with_metadata_and_summary_takeaways(
    session_factory: sessionmaker[Session],
) -> None:
    result = ingest_file(session_factory, SEED)
    assert (result.status, result.slug, result.turns) == ("ingested", SEED_SLUG, 85)
    with session_factory() as session:
        episode = session.scalar(select(Episode).where(Episode.slug == SEED_SLUG))
        assert episode is not None
        assert episode.title.startswith("Anthropic's CPO on what comes next")
        assert episode.turn_count == 85
        assert episode.source_format == "numbered"
        assert episode.audience and episode.audience.startswith("Product leaders")
        takeaways = session.scalars(select(Takeaway).where(Takeaway.episode_id == episode.id))
        assert {t.origin for t in takeaways} == {"summary"}
    episodes, segments, takeaways_count, indexed = _counts(session_factory)
    assert (episodes, takeaways_count) == (1, 6)
    assert segments == indexed >= 85


def test_identical_content_again_is_unchanged_and_writes_nothing(
    seeded: sessionmaker[Session],
) -> None:
    before = _counts(seeded)
    with seeded() as session:
        ingested_at = session.scalar(select(Episode.ingested_at))
    result = ingest_file(seeded, SEED)
    assert result.status == "unchanged"
    assert _counts(seeded) == before
    with seeded() as session:
        assert session.scalar(select(Episode.ingested_at)) == ingested_at


def test_changed_content_needs_replace_and_is_swapped_in(
    seeded: sessionmaker[Session], tmp_path: Path
) -> None:
    changed = tmp_path / f"{SEED_SLUG}.txt"
    changed.write_text(SEED.read_text().replace("merge queue", "build queue"))
    refused = ingest_file(seeded, changed)
    assert refused.failed and "--replace" in refused.message
    with seeded() as session:
        assert "merge queue" in " ".join(session.scalars(select(Segment.text)))

    replaced = ingest_file(seeded, changed, replace=True)
    assert replaced.status == "replaced"
    episodes, segments, _, indexed = _counts(seeded)
    assert episodes == 1 and segments == indexed
    with seeded() as session:
        joined = " ".join(session.scalars(select(Segment.text)))
        hits = _indexed(session, "build queue")
    assert "merge queue" not in joined and "build queue" in joined
    assert hits and hits > 0


def test_a_failed_replace_leaves_the_old_episode_whole(
    seeded: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    changed = tmp_path / f"{SEED_SLUG}.txt"
    changed.write_text(SEED.read_text().replace("merge queue", "build queue"))
    before = _counts(seeded)

    from db import episodes as episodes_module

    def broken_insert(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk pulled out mid-write")

    monkeypatch.setattr(episodes_module, "insert", broken_insert)
    with pytest.raises(RuntimeError):
        ingest_file(seeded, changed, replace=True)
    assert _counts(seeded) == before
    with seeded() as session:
        assert "merge queue" in " ".join(session.scalars(select(Segment.text)))


BAD_FILES: dict[str, tuple[bytes, str]] = {
    "empty.txt": (b"", "empty"),
    "blank.txt": (b"   \n\n  ", "empty"),
    "binary.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20, "binary"),
    "latin1.txt": ("Ann: caf\u00e9 cr\u00e8me\nBob: ol\u00e9\n".encode("latin-1"), "UTF-8"),
    "unknown.txt": (b"Just some prose with no speakers at all.\nAnother line.\n", "unknown"),
    "no-turns.md": (b"---\ntitle: Empty\n---\n# Empty\n\n## Transcript\n\n", "no speaker turns"),
}


def test_bad_files_fail_one_line_each_and_the_rest_still_ingest(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    for name, (content, _) in BAD_FILES.items():
        (folder / name).write_bytes(content)
    huge = folder / "huge.txt"
    with huge.open("wb") as handle:  # 50 MB of plausible transcript lines
        line = b"Ann Host: " + b"word " * 40 + b"\n"
        handle.write(line * (50 * 1024 * 1024 // len(line) + 1))
    (folder / "good.txt").write_text(PLAIN)
    shutil.copy(SEED, folder / "nested-seed.txt")

    results = {r.path.name: r for r in ingest_paths(session_factory, [folder])}

    assert results["good.txt"].status == "ingested"
    assert results["nested-seed.txt"].status == "ingested"
    for name, (_, reason) in BAD_FILES.items():
        assert results[name].failed, name
        assert reason.lower() in results[name].message.lower(), results[name].message
        assert "\n" not in results[name].message
    assert results["huge.txt"].failed and "MB" in results["huge.txt"].message
    assert _counts(session_factory)[0] == 2


def test_folders_are_walked_recursively_and_duplicates_ingest_once(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.txt").write_text(PLAIN)
    (tmp_path / "a" / ".hidden.txt").write_text(PLAIN)
    (tmp_path / "a" / "notes.json").write_text("{}")
    deep = tmp_path / "a" / "b" / "deep.txt"
    results = ingest_paths(session_factory, [tmp_path / "a", deep, tmp_path / "missing"])
    assert [(r.path.name, r.status) for r in results] == [
        ("missing", "failed"),
        ("deep.txt", "ingested"),
    ]


def test_two_files_with_one_slug_in_a_run_do_not_overwrite_each_other(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    (tmp_path / "x" / "talk.txt").write_text(PLAIN)
    (tmp_path / "y" / "talk.txt").write_text(PLAIN.replace("Bye", "Goodbye"))
    results = ingest_paths(session_factory, [tmp_path / "x", tmp_path / "y"], replace=True)
    assert [r.status for r in results] == ["ingested", "failed"]
    assert "already used" in results[1].message


@pytest.mark.parametrize(
    "slug",
    ["../etc", "a/b", "bad\x00slug", "UPPER", "", "-x", "a" * 101, "trailing\n", "all", "library"],
)
def test_unsafe_slugs_are_refused(
    session_factory: sessionmaker[Session], tmp_path: Path, slug: str
) -> None:
    path = tmp_path / "talk.txt"
    path.write_text(PLAIN)
    result = ingest_file(session_factory, path, slug=slug) if slug else None
    if result is None:  # an empty --slug means "derive it from the file name"
        result = ingest_file(session_factory, path, slug=None)
        assert result.slug == "talk"
        return
    assert result.failed and "slug" in result.message
    assert _counts(session_factory)[0] == 0


def test_a_file_named_like_the_whole_library_gets_a_slug_that_can_be_picked(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    # `/episode use all` means every episode, so no episode may be called `all`.
    (tmp_path / "All.txt").write_text(PLAIN)
    (tmp_path / "everything").mkdir()
    (tmp_path / "everything" / "transcript.txt").write_text(PLAIN.replace("Bye", "Ciao"))
    results = ingest_paths(session_factory, [tmp_path])
    assert sorted(r.slug for r in results) == ["all-episode", "everything-episode"]


def test_slug_option_takes_one_file_only(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    for name in ("one.txt", "two.txt"):
        (tmp_path / name).write_text(PLAIN)
    with pytest.raises(ParseError):
        ingest_paths(session_factory, [tmp_path], slug="both")


def test_forced_format_overrides_detection(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "talk.txt"
    path.write_text(PLAIN)
    assert ingest_file(session_factory, path, fmt="vtt").failed
    assert ingest_file(session_factory, path, fmt="plain").status == "ingested"


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("archive-episode.md", "timestamped"),
        ("talk.vtt", "vtt"),
        ("talk.srt", "srt"),
        ("chat.txt", "plain"),
    ],
)
def test_every_format_ingests_and_is_searchable(
    session_factory: sessionmaker[Session], name: str, fmt: str
) -> None:
    result = ingest_file(session_factory, FORMATS_DIR / name)
    assert result.status == "ingested", result.message
    with session_factory() as session:
        episode = session.scalar(select(Episode).where(Episode.slug == result.slug))
        assert episode is not None and episode.source_format == fmt
        segments = session.scalar(
            select(func.count(Segment.id)).where(Segment.episode_id == episode.id)
        )
    assert segments and segments >= result.turns > 0


def test_a_large_run_is_prepared_in_parallel_and_reported_in_order(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    names = [f"talk-{number:02d}.txt" for number in range(40)]
    for number, name in enumerate(names):
        (folder / name).write_text(PLAIN.replace("Bye.", f"Bye number {number}."))
    (folder / "talk-05.txt").write_bytes(b"")  # one bad file among them

    results = ingest_paths(session_factory, [folder])

    assert [r.path.name for r in results] == names
    assert [r.status for r in results].count("ingested") == 39
    assert results[5].failed and "empty" in results[5].message
    assert _counts(session_factory)[0] == 39


def test_a_parser_crash_costs_one_file_not_the_run(
    session_factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.ingest import pipeline

    real_prepare = pipeline.prepare_file

    def flaky_prepare(path: Path, fmt: str = "auto", slug: str | None = None):  # type: ignore[no-untyped-def]
        if path.name == "crash.txt":
            raise RecursionError("parser bug")
        return real_prepare(path, fmt, slug)

    monkeypatch.setattr(pipeline, "prepare_file", flaky_prepare)
    (tmp_path / "crash.txt").write_text(PLAIN)
    (tmp_path / "fine.txt").write_text(PLAIN)
    results = {r.path.name: r for r in ingest_paths(session_factory, [tmp_path])}
    assert results["crash.txt"].failed and "RecursionError" in results["crash.txt"].message
    assert results["fine.txt"].status == "ingested"


def test_a_dead_worker_does_not_lose_files(
    session_factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from bot.ingest import pipeline

    parent = os.getpid()
    real_prepare = pipeline.prepare_file

    def dying_prepare(path: Path, fmt: str = "auto", slug: str | None = None):  # type: ignore[no-untyped-def]
        if path.name == "talk-10.txt" and os.getpid() != parent:
            os._exit(1)  # a worker killed mid-file, as the OOM killer would
        return real_prepare(path, fmt, slug)

    monkeypatch.setattr(pipeline, "prepare_file", dying_prepare)
    for number in range(40):
        (tmp_path / f"talk-{number:02d}.txt").write_text(PLAIN.replace("Bye.", f"Bye {number}."))

    results = ingest_paths(session_factory, [tmp_path])

    assert len(results) == 40
    assert all(r.status == "ingested" for r in results), [r.message for r in results if r.failed]
    assert _counts(session_factory)[0] == 40


def test_replacing_an_episode_keeps_the_channels_that_focus_on_it(
    seeded: sessionmaker[Session], tmp_path: Path
) -> None:
    from db.channels import focus_episode, set_focus_episode
    from db.episodes import get_episode

    with seeded.begin() as session:
        episode = get_episode(session, SEED_SLUG)
        assert episode is not None
        set_focus_episode(session, "", "C0FOCUS", episode)
    changed = tmp_path / f"{SEED_SLUG}.txt"
    changed.write_text(SEED.read_text() + "\n  86. Mike Krieger:One more thing at the very end.\n")
    assert ingest_file(seeded, changed, replace=True).status == "replaced"
    with seeded() as session:
        focus = focus_episode(session, "", "C0FOCUS")
        assert focus is not None and focus.slug == SEED_SLUG and focus.turn_count == 86


def test_an_archive_of_folders_named_by_guest_gets_slugs_from_the_folders(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    body = (
        "---\ntitle: {title}\nguest: {guest}\n---\n# {title}\n\n## Transcript\n\n"
        "[00:00:05] Lenny: Welcome to the show, {guest}.\n"
        "[00:00:12] {guest}: Thanks for having me, it is great to be here.\n"
        "[00:01:02] Lenny: Let's talk about pricing.\n"
    )
    for guest in ("Ada Lovelace", "Grace Hopper"):
        folder = tmp_path / "episodes" / guest.lower().replace(" ", "-")
        folder.mkdir(parents=True)
        (folder / "transcript.md").write_text(body.format(title=f"Talk with {guest}", guest=guest))
    results = ingest_paths(session_factory, [tmp_path / "episodes"])
    assert sorted(r.slug for r in results) == ["ada-lovelace", "grace-hopper"]
    assert all(r.status == "ingested" for r in results)
    with session_factory() as session:
        rows = session.execute(
            select(Segment.position, Segment.speaker, Segment.start_seconds, Segment.text)
            .join(Episode)
            .where(Episode.slug == "grace-hopper")
            .order_by(Segment.position)
        ).all()
    assert rows[1] == (2, "Grace Hopper", 12.0, "Thanks for having me, it is great to be here.")
    assert rows[2][2] == 62.0


def test_a_timestamped_file_without_times_reads_speaker_lines_but_not_colons_in_speech(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    text = (
        "---\ntitle: No times\n---\n# No times\n\n## Transcript\n\n"
        "Adriel Frederick:\nThe algorithm does not know your intent.\n"
        "Here is the thing:\nit never will.\n\n"
        "Lenny Rachitsky:\nSay more.\n"
    )
    (tmp_path / "no-times.md").write_text(text)
    assert ingest_file(session_factory, tmp_path / "no-times.md").status == "ingested"
    with session_factory() as session:
        rows = session.execute(
            select(Segment.speaker, Segment.start_seconds, Segment.text).order_by(Segment.id)
        ).all()
    assert rows == [
        (
            "Adriel Frederick",
            None,
            "The algorithm does not know your intent. Here is the thing: it never will.",
        ),
        ("Lenny Rachitsky", None, "Say more."),
    ]


def test_two_folders_whose_names_differ_only_in_punctuation_get_numbered_slugs(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    for folder, line in (("andy-raskin", "Andy: first talk"), ("andy-raskin_", "Andy: second")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "transcript.txt").write_text(f"Lenny: hello\n{line}\n")
    first = ingest_paths(session_factory, [tmp_path])
    assert sorted(r.slug for r in first) == ["andy-raskin", "andy-raskin-2"]
    again = ingest_paths(session_factory, [tmp_path])
    assert sorted((r.slug, r.status) for r in again) == [
        ("andy-raskin", "unchanged"),
        ("andy-raskin-2", "unchanged"),
    ]
