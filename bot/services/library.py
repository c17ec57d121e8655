"""Opening the episode library: settings -> migrated database, with the bundled sample
episode loaded the first time the library is used empty."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.ingest.pipeline import ingest_file
from db.engine import open_database
from db.episodes import count_episodes

SAMPLE_FILE = "mike-krieger-anthropic-cpo.txt"


def sample_episode_path() -> Path:
    """The bundled sample transcript (Lenny's Podcast with Mike Krieger)."""
    return Path(str(resources.files("bot") / "samples" / SAMPLE_FILE))


def open_library(
    settings: Settings, *, load_sample: bool = True
) -> tuple[sessionmaker[Session], str | None]:
    """The session factory, and a one-line note when the sample episode was just loaded."""
    session_factory = open_database(settings.database_url)
    if not (load_sample and settings.load_sample_episode):
        return session_factory, None
    with session_factory() as session:
        if count_episodes(session):
            return session_factory, None
    result = ingest_file(session_factory, sample_episode_path())
    if result.failed:
        return session_factory, f"Could not load the sample episode: {result.message}."
    return session_factory, (
        f"The library was empty, so I loaded the sample episode '{result.slug}' "
        f"({result.turns} turns)."
    )
