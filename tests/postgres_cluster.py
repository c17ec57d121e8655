"""A throwaway PostgreSQL cluster for the tests: the machine's own server binaries
(`pg_config --bindir`), `initdb` into a temporary folder (as the `postgres` user when the
tests run as root, which initdb refuses), started on a free loopback port, stopped at the
end. Each test gets a database of its own."""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SUPERUSER = "bot"
PASSWORD_ROLE = "guarded"  # signs in with a password (see `start`)
STARTUP_SECONDS = 30


class Unavailable(Exception):
    """PostgreSQL cannot be run here; the message says why, in one sentence."""


def _binaries() -> Path:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        raise Unavailable("no pg_config on PATH (the PostgreSQL server package is missing)")
    folder = Path(
        subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    for name in ("initdb", "pg_ctl", "postgres"):
        if not (folder / name).exists():
            raise Unavailable(f"no {name} in {folder} (the PostgreSQL server package is missing)")
    return folder


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Cluster:
    """A running cluster: `url(name)` for a database, `create_database(name)`."""

    folder: Path
    port: int = field(default_factory=_free_port)
    _bin: Path = field(default_factory=_binaries)
    _names: itertools.count = field(default_factory=lambda: itertools.count(1))
    _as: list[str] = field(default_factory=list)
    outages: bool = False  # whether the test will stop it (go_down) and start it again

    @classmethod
    def in_temporary_folder(cls, *, outages: bool = False) -> Cluster:
        """A cluster in a new folder of the system's temporary folder, which the server's
        own user can reach (pytest's folders are private to the user running the tests)."""
        return cls(Path(tempfile.mkdtemp(prefix="episode-bot-postgres-")), outages=outages)

    def start(self) -> Cluster:
        """initdb and start the server; raises Unavailable when that cannot be done."""
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise Unavailable("psycopg is not installed (pip install -e '.[test]')") from None
        data = self.folder / "data"
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:  # initdb will not run as root
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise Unavailable("running as root and there is no postgres user") from None
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run(
            "initdb",
            "-D",
            str(data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        # One role signs in with a password (the rest are trusted), for the tests of a
        # refused login.
        hba = data / "pg_hba.conf"
        hba.write_text(f"host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
        self._serve()
        return self

    def _serve(self) -> None:
        # Fast and loose for the tests, except that a cluster the test stops as an outage
        # would (`go_down`) keeps every commit: an immediate stop loses the WAL not yet
        # written out, which a real server, committing synchronously, never loses.
        commits = "on" if self.outages else "off"
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            f"-c synchronous_commit={commits} -c full_page_writes=off -c max_connections=300"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.folder / "data"),
            "-l",
            str(self.folder / "server.log"),
            "-w",
            "-t",
            str(STARTUP_SECONDS),
            "-o",
            options,
            "start",
        )

    def go_down(self) -> None:
        """Stop the server as an outage would (every connection cut), keeping its data."""
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "stop")

    def come_back(self) -> None:
        """Start the stopped server again, on the same port."""
        self._serve()

    def stop(self) -> None:
        """Stop the server at once and remove its folder."""
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL for one of the cluster's databases, over TCP on loopback."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "test", *, copy_of: str | None = None) -> str:
        """A new database, empty or a copy of the database `copy_of` (which nobody may be
        connected to); its URL."""
        import psycopg

        name = f"{prefix}_{next(self._names)}"
        template = f' TEMPLATE "{copy_of}"' if copy_of else ""
        with psycopg.connect(self.url().replace("+psycopg", ""), autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"{template}')
        return self.url(name)

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        done = subprocess.run(
            [*self._as, str(self._bin / program), *args],
            capture_output=True,
            text=True,
            timeout=STARTUP_SECONDS + 30,
        )
        if check and done.returncode != 0:
            raise Unavailable(f"{program} failed: {(done.stderr or done.stdout).strip()[-300:]}")
