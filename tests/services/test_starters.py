"""Questions to start a DM with: about the DM's own episode or the newest, drawn from the
points its summary makes, asked of its guest; something useful even on an empty library."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bot.ingest.pipeline import ingest_file
from bot.services.channels import use_episode
from bot.services.library import Library
from bot.services.starters import starters_for
from bot.slack.blocks import starter_prompts
from db.engine import open_database
from tests.conftest import FORMATS_DIR, SEED_SLUG


def test_the_newest_episode_is_suggested_unless_the_dm_picked_one(
    seeded: sessionmaker[Session], tmp_path: Path
) -> None:
    library = Library(seeded)
    archive = FORMATS_DIR / "archive-episode.md"
    assert ingest_file(seeded, archive).status == "ingested"
    newest = starters_for(library, "D0NEW")
    assert newest is not None and newest.guest == "Ada Example"
    assert use_episode(library, "D0SEED", SEED_SLUG) is not None
    seed = starters_for(library, "D0SEED")
    assert seed is not None and seed.episode_title.startswith("Anthropic's CPO")
    assert seed.topics[0] == "AI capabilities are evolving faster than expected"
    title, prompts = starter_prompts(newest)
    assert title == f"Ask about {newest.episode_title}"
    assert len(prompts) == 3 and "Ada Example" in " ".join(p["message"] for p in prompts)


def test_an_empty_library_suggests_how_to_start(tmp_path: Path) -> None:
    empty = open_database(f"sqlite:///{tmp_path / 'empty.db'}")
    assert starters_for(Library(empty), "D0EMPTY") is None
    title, prompts = starter_prompts(None)
    assert title and prompts and all(p["title"] and p["message"] for p in prompts)
