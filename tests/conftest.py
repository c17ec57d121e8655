"""Shared fixtures: a real SQLite file migrated by the real migrations, and the seed episode."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.ingest.pipeline import ingest_file
from bot.services.library import Library
from db.engine import open_database
from tests.fakes.feed_server import FeedServer
from tests.fakes.slack_api import SlackApiStandIn
from tests.postgres_cluster import Cluster, Unavailable

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SEED = REPO / "bot" / "samples" / "mike-krieger-anthropic-cpo.txt"
SEED_SLUG = "mike-krieger-anthropic-cpo"
FORMATS_DIR = Path(__file__).resolve().parent / "data" / "formats"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's .env or writes to their data folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    for name in ("DATABASE_URL", "LOAD_SAMPLE_EPISODE", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    # Tests never reach the internet: no developer's key or endpoint leaks in.
    for name in [n for n in os.environ if n.startswith(("ANTHROPIC_", "SLACK_"))]:
        monkeypatch.delenv(name)


# The folders whose tests run once per backend: storage, retrieval, ingest, the services and
# the Slack listeners. A test there about SQLite itself is marked `sqlite_only`.
BOTH_BACKENDS = {"db", "ingest", "retrieval", "services", "slack"}
BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sqlite_only: run on SQLite alone: about SQLite itself (its file, pragmas, FTS5), or "
        "slow where other tests cover PostgreSQL",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test of a BOTH_BACKENDS folder that uses the database runs on each backend."""
    folder = metafunc.definition.path.parent.name
    if (
        "backend" in metafunc.fixturenames
        and folder in BOTH_BACKENDS
        and metafunc.definition.get_closest_marker("sqlite_only") is None
    ):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The storage backend of this test's database: SQLite unless parametrised."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """URL of a fresh database: a SQLite file, or on PostgreSQL a database of its own at the
    newest schema (a copy of one migrated once, which is much faster than migrating each)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'library.db'}"
    cluster: Cluster = request.getfixturevalue("postgres")
    return cluster.create_database(copy_of=request.getfixturevalue("postgres_migrated"))


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """A throwaway PostgreSQL cluster for the whole run (skipped, saying why, when this
    machine cannot run one)."""
    try:
        cluster = Cluster.in_temporary_folder().start()
    except Unavailable as why:
        pytest.skip(f"PostgreSQL tests skipped: {why}")
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def postgres_migrated(postgres: Cluster) -> str:
    """Name of a database migrated to the newest schema, nobody connected to it."""
    url = postgres.create_database("migrated")
    session_factory = open_database(url)
    session_factory.kw["bind"].dispose()
    return url.rsplit("/", 1)[1]


@pytest.fixture
def postgres_url(postgres: Cluster) -> str:
    """URL of a fresh, empty PostgreSQL database."""
    return postgres.create_database()


@pytest.fixture
def slack() -> Iterator[SlackApiStandIn]:
    """The loopback Slack Web API stand-in, started for the test and stopped after it."""
    stand_in = SlackApiStandIn().start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """The loopback feed server (feeds and transcripts), started for the test and stopped
    after it."""
    running = FeedServer().start()
    yield running
    running.stop()


@pytest.fixture
def session_factory(database_url: str) -> sessionmaker[Session]:
    """Session factory on a migrated, empty database."""
    return open_database(database_url)


@pytest.fixture
def seeded(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Session factory on a database holding the seed episode."""
    result = ingest_file(session_factory, SEED)
    assert result.status == "ingested", result.message
    return session_factory


@pytest.fixture
def library(seeded: sessionmaker[Session]) -> Library:
    """The seeded library, as the services take it."""
    return Library(seeded)


@pytest.fixture
def session(seeded: sessionmaker[Session]) -> Iterator[Session]:
    """A session on the seeded database."""
    with seeded() as session:
        yield session


# Token-shaped strings: none may ever reach a log line, whatever the level.
SECRET_SHAPES = re.compile(
    r"xox[bpaer]-[A-Za-z0-9-]{6,}|xapp-[A-Za-z0-9-]{6,}|sk-ant-[A-Za-z0-9-]{6,}"
)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(autouse=True)
def _no_secret_in_logs() -> Iterator[None]:
    """Every test runs with DEBUG logging collected; a token or key in any line fails it
    (the tests use distinctive token and key values for this)."""
    collect = _Collect()
    collect.setFormatter(logging.Formatter("%(name)s %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(collect)
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(collect)
        root.setLevel(level)
    leaks = [line for line in collect.lines if SECRET_SHAPES.search(line)]
    assert not leaks, f"a secret reached the log: {leaks[0][:300]}"
