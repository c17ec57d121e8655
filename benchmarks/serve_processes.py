"""`episode-bot serve` processes for the benchmarks: their environment (the loopback
stand-ins, a data folder, DATABASE_URL), starting several on one database and stopping them,
their memory over time, and what the shared database says about their asks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy.engine import make_url

from bot.config import redacted_url
from db.engine import DatabaseError, create_engine_for
from tests.fakes.anthropic_api import AnthropicStandIn
from tests.fakes.slack_api import SlackApiStandIn

REPO = Path(__file__).resolve().parents[1]
BOT_TOKEN = "xoxb-soak-benchmark-token"
SIGNING_SECRET = "soaksoaksoaksoaksoaksoaksoak1234"
ANTHROPIC_KEY = "sk-ant-api03-soak-benchmark-key"
RSS_EVERY_S = 5.0


def free_port() -> int:
    """A port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_healthy(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Block until the server answers /healthz; stop if it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"serve exited with {process.returncode} before it was healthy")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"serve on port {port} did not start")


def rss_kb(pid: int) -> int | None:
    """VmRSS of a process in kB, or None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


class RssSampler:
    """Samples a process's RSS every RSS_EVERY_S seconds in a background thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples: list[tuple[float, int]] = []  # (seconds since start(), kB)
        self._stop = threading.Event()
        self._began = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> RssSampler:
        """Take the first sample now and go on every RSS_EVERY_S seconds."""
        self._began = time.monotonic()
        self._thread.start()
        return self

    def sample(self) -> None:
        """Take one sample now."""
        kb = rss_kb(self.pid)
        if kb is not None:
            self.samples.append((time.monotonic() - self._began, kb))

    def stop(self) -> None:
        """Take a last sample and stop."""
        self._stop.set()
        self._thread.join()
        self.sample()

    def _run(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(RSS_EVERY_S):
                return

    def at(self, seconds: float) -> tuple[float, int]:
        """The first sample taken at or after `seconds` (the last one if none is)."""
        return next(((t, kb) for t, kb in self.samples if t >= seconds), self.samples[-1])


def serve_env(
    work: Path, slack: SlackApiStandIn, claude: AnthropicStandIn | None, database_url: str | None
) -> dict[str, str]:
    """The environment every serve process gets: a fresh data directory (where the default
    SQLite file goes), the stand-ins, and DATABASE_URL when one was given."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DATABASE_", "ANTHROPIC_"))
    }
    env.update(
        XDG_DATA_HOME=str(work),
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.url,
        PYTHONPATH=str(REPO),
        LOG_LEVEL="INFO",
    )
    if database_url is not None:
        env.update(DATABASE_URL=database_url)
    if claude is not None:
        env.update(ANTHROPIC_API_KEY=ANTHROPIC_KEY, ANTHROPIC_BASE_URL=claude.url)
    return env


@dataclass
class Server:
    """One `episode-bot serve` process: its number (0-based), port, log and RSS samples."""

    index: int
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: Any
    rss: RssSampler | None = None

    @property
    def name(self) -> str:
        """How the report names it: "process 1 (port 40123, pid 4567)"."""
        return f"process {self.index + 1} (port {self.port}, pid {self.process.pid})"


def start_serve(index: int, env: dict[str, str], log_path: Path) -> Server:
    """Start `episode-bot serve` with `env` on a free port, its output going to `log_path`
    (not yet healthy: see wait_healthy)."""
    port = free_port()
    script = Path(sys.executable).parent / "episode-bot"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [str(script), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    return Server(index, port, process, log_path, log_file)


def start_servers(work: Path, env: dict[str, str], count: int) -> list[Server]:
    """`count` serve processes on one database, healthy. The first starts alone: it migrates
    the database and, into an empty library, loads the sample episode, which two processes
    starting at once would both try (migrations are locked, the sample load is not). One
    process logs to serve.log as it always has; several to serve-1.log, serve-2.log..."""
    servers: list[Server] = []
    names = ["serve.log"] if count == 1 else [f"serve-{i + 1}.log" for i in range(count)]
    try:
        servers.append(start_serve(0, env, work / names[0]))
        wait_healthy(servers[0].port, servers[0].process)
        servers += [start_serve(i, env, work / names[i]) for i in range(1, count)]
        for server in servers[1:]:
            wait_healthy(server.port, server.process)
    except BaseException:
        stop_servers(servers)
        raise
    return servers


def stop_servers(servers: list[Server]) -> None:
    """SIGTERM every process at once (each hands back what it holds), then wait for each."""
    for server in servers:
        if server.process.poll() is None:
            server.process.terminate()
    for server in servers:
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
        server.log_file.close()


def sqlite_url(work: Path) -> str:
    """The SQLite file serve uses when DATABASE_URL is unset and XDG_DATA_HOME is `work`
    (bot.config.default_database_url, which reads XDG_DATA_HOME from this process's env)."""
    return f"sqlite:///{work / 'episode-bot' / 'episode-bot.db'}"


def backend(url: str) -> str:
    """SQLite, PostgreSQL, or the URL's backend name."""
    name = make_url(url).get_backend_name()
    return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(name, name)


def open_asks(url: str) -> int:
    """How many asks the database holds unanswered (pending, or claimed and not done): none
    in a fresh database. Raises SystemExit with one sentence when it cannot be read."""
    try:
        engine = create_engine_for(url)
        try:
            with engine.connect() as connection:
                if not sqlalchemy.inspect(connection).has_table("pending_asks"):
                    return 0
                query = "SELECT count(*) FROM pending_asks WHERE state IN ('pending', 'working')"
                return int(connection.execute(sqlalchemy.text(query)).scalar_one())
        finally:
            engine.dispose()
    except DatabaseError as exc:
        raise SystemExit(str(exc)) from None
    except Exception as exc:  # SQLAlchemy wraps the driver's errors (refused, no such db)
        raise SystemExit(
            f"Cannot read {redacted_url(url)}: {type(exc).__name__}: {str(exc)[:200]}"
        ) from None


def answered_by(url: str, servers: list[Server], run: str) -> Counter[str]:
    """The asks of run `run` (named in their dedup keys) by the process that answered them
    (its claim names its pid) and state: "process 1 done", "process 2 pending"... An empty
    Counter when the database cannot be read (the figure is only informative)."""
    processes = {str(s.process.pid): f"process {s.index + 1}" for s in servers}
    query = (
        "SELECT claimed_by, state, count(*) FROM pending_asks WHERE dedup_key LIKE :run "
        "GROUP BY claimed_by, state"
    )
    found: Counter[str] = Counter()
    try:
        engine = create_engine_for(url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(sqlalchemy.text(query), {"run": f"%{run}%"}).all()
        finally:
            engine.dispose()
    except Exception:  # an informative figure: the verdict does not need it
        return found
    for claimed_by, state, count in rows:
        pid = str(claimed_by).split(":")[1] if claimed_by and ":" in claimed_by else None
        who = processes.get(pid or "", "nobody" if claimed_by is None else "another process")
        found[f"{who} {state}"] += int(count)
    return found


def mb(kb: int) -> float:
    """kB as MB."""
    return kb / 1024


def rss_figures(rss: RssSampler) -> tuple[str, float]:
    """One process's RSS line (start, minute 1, end, peak, growth) and its growth in MB from
    minute 1 to the end."""
    start_t, start_kb = rss.samples[0]
    minute_t, minute_kb = rss.at(60.0)
    end_t, end_kb = rss.samples[-1]
    growth = mb(end_kb - minute_kb)
    peak_kb = max(kb for _, kb in rss.samples)
    short = "; the run was shorter than a minute" if minute_t < 60 else ""
    line = (
        f"start {mb(start_kb):.1f} MB (t={start_t:.0f} s), minute 1 {mb(minute_kb):.1f} MB "
        f"(t={minute_t:.0f} s{short}), end {mb(end_kb):.1f} MB (t={end_t:.0f} s), "
        f"peak {mb(peak_kb):.1f} MB; growth minute 1 -> end {growth:+.1f} MB"
    )
    return line, growth
