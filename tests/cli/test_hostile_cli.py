"""Hostile input to the `episode-bot` command: transcript files no one should be able to load
(empty, binary, not UTF-8, of no known format, without turns, over the size limit, YAML front
matter that is malformed, enormous or an alias bomb, unsafe slugs, the same file twice, a
FIFO, file names holding a newline or a terminal escape), and configuration that cannot work
(time zone, post time, DATABASE_URL, a database that is not one, a .env that is not text).

Each case is its own run of the command, in its own folder, with its own environment and
database, its output captured from file descriptors 1 and 2 as a shell would see it. A run
is a process forked from a forkserver that has already imported `bot.cli`, then given the
case's folder, environment, argv and output files before `bot.cli.main()` (the console
script's entry point) runs: a fresh process as a user's is, without paying the ~0.7 s of
imports ninety times over. The runs go four at a time in a module fixture; each case's test
then checks its own. The corpus, with each case's expected outcome, is
tests/data/hostile_inputs.py.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.data.hostile_inputs import (
    CONFIGS,
    DANGLING_LINK,
    FIFO,
    HUGE,
    PLAIN,
    TRANSCRIPTS,
    Config,
    Transcript,
)

SCRIPT = Path(sys.executable).parent / "episode-bot"
WORKERS = 4
RUN_TIMEOUT_S = 6  # a run that takes longer hangs (a FIFO read, say)
SUMMARY = re.compile(r"^(\d+) ingested, (?:\d+ replaced, )?\d+ unchanged, (\d+) failed$")
ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

FORKSERVER = multiprocessing.get_context("forkserver")
FORKSERVER.set_forkserver_preload(["bot.cli", __name__])

Prepared = tuple[list[str], dict[str, str], Path]  # arguments, environment, folder


@dataclass(frozen=True)
class Run:
    """What one command printed and returned; `listing` is `episodes --json` afterwards."""

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool = False
    listing: list[dict[str, object]] | None = None
    listing_problem: str | None = None


def _clean_env(home: Path) -> dict[str, str]:
    """A fresh machine: none of the developer's settings, no sample episode."""
    prefixes = ("SLACK_", "ANTHROPIC_", "DIGEST_")
    names = {"DATABASE_URL", "LOG_LEVEL", "PORT", "LOAD_SAMPLE_EPISODE"}
    env = {k: v for k, v in os.environ.items() if k not in names and not k.startswith(prefixes)}
    env.update(XDG_DATA_HOME=str(home / "xdg"), LOAD_SAMPLE_EPISODE="false")
    return env


def _become_the_command(args: list[str], env: dict[str, str], cwd: str, out: str, err: str) -> None:
    """In the forked process: `episode-bot ARGS` started in `cwd` with `env`, its stdout and
    stderr going to `out` and `err`. An uncaught exception prints its traceback to stderr
    and exits 1, as Python does."""
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    for fd, path in ((1, out), (2, err)):
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(handle, fd)
        os.close(handle)
    sys.argv = [str(SCRIPT), *args]
    from bot.cli import main

    main()


def _run_all(jobs: dict[str, Prepared], output: Path) -> dict[str, Run]:
    """Run every job, WORKERS at a time, in the order given; a run past RUN_TIMEOUT_S is
    killed and marked as timed out."""
    output.mkdir(parents=True, exist_ok=True)
    pending = list(enumerate(jobs))
    running: dict[str, tuple[multiprocessing.process.BaseProcess, float, Path, Path]] = {}
    done: dict[str, Run] = {}
    while pending or running:
        while pending and len(running) < WORKERS:
            number, key = pending.pop(0)
            args, env, cwd = jobs[key]
            out, err = output / f"{number}.stdout", output / f"{number}.stderr"
            process = FORKSERVER.Process(
                target=_become_the_command, args=(args, env, str(cwd), str(out), str(err))
            )
            process.start()
            running[key] = (process, time.monotonic(), out, err)
        for key, (process, started, out, err) in list(running.items()):
            timed_out = process.is_alive() and time.monotonic() - started > RUN_TIMEOUT_S
            if timed_out:
                process.kill()
            if timed_out or not process.is_alive():
                process.join()
                del running[key]
                done[key] = Run(
                    None if timed_out else process.exitcode,
                    out.read_text(errors="replace") if out.exists() else "",
                    err.read_text(errors="replace") if err.exists() else "",
                    timed_out,
                )
        time.sleep(0.005)
    return done


# ------------------------------------------------------------------ transcripts


def _materialise(folder: Path, files: dict[str, bytes | str]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content == FIFO:
            os.mkfifo(path)
        elif content == DANGLING_LINK:
            path.symlink_to(folder / "this-target-does-not-exist.txt")
        elif content == HUGE:
            line = PLAIN.encode()
            with path.open("wb") as handle:
                handle.write(line * (11 * 1024 * 1024 // len(line) + 1))
        else:
            assert isinstance(content, bytes), name
            path.write_bytes(content)


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database at the latest schema, copied for every case."""
    home = tmp_path_factory.mktemp("hostile-template")
    database = home / "library.db"
    env = {**_clean_env(home), "DATABASE_URL": f"sqlite:///{database}"}
    # The console script itself, once: the forked runs below stand in for it.
    migrate = subprocess.run(
        [str(SCRIPT), "migrate"], env=env, cwd=home, capture_output=True, text=True, timeout=60
    )
    assert migrate.returncode == 0, migrate.stderr
    return database


def _prepare_transcript(case: Transcript, root: Path, migrated: Path) -> Prepared:
    folder = root / "ingest" / case.id
    folder.mkdir(parents=True)
    shutil.copy(migrated, folder / "library.db")
    _materialise(folder, case.files)
    env = {**_clean_env(folder), "DATABASE_URL": f"sqlite:///{folder / 'library.db'}"}
    args = ["ingest", *(case.args if case.args is not None else case.files)]
    return args, env, folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, migrated: Path) -> dict[str, Run]:
    """Every case's run, keyed "ingest/<id>" or "config/<id>"; the runs that may hang (a
    FIFO) go first, so that their wait overlaps the others' work. Then, for every ingest
    case, `episode-bot episodes --json` on its database."""
    root = tmp_path_factory.mktemp("hostile-cli")
    hanging = [f"ingest/{c.id}" for c in TRANSCRIPTS if FIFO in c.files.values()]
    jobs = {f"ingest/{c.id}": _prepare_transcript(c, root, migrated) for c in TRANSCRIPTS}
    jobs |= {
        f"config/{c.id}": _prepare_config(c, root, migrated)
        for c in CONFIGS
        if not (c.database == "unreadable" and ROOT)
    }
    jobs = {key: jobs[key] for key in [*hanging, *(k for k in jobs if k not in hanging)]}
    done = _run_all(jobs, root / "output")
    listings = _run_all(
        {
            key: (["episodes", "--json"], env, cwd)
            for key, (_, env, cwd) in jobs.items()
            if key.startswith("ingest/")
        },
        root / "listings",
    )
    for key, listed in listings.items():
        run = done[key]
        listing, problem = None, None
        if listed.returncode != 0:
            problem = f"episodes --json exited {listed.returncode}: {listed.stderr.strip()[-300:]}"
        else:
            try:
                listing = json.loads(listed.stdout)
            except ValueError:
                problem = f"episodes --json printed no JSON: {listed.stdout[:300]!r}"
        done[key] = Run(run.returncode, run.stdout, run.stderr, run.timed_out, listing, problem)
    return done


def _names(case: Transcript) -> list[str]:
    """How a line may name one of the case's bad files: as given or as found in a folder;
    a name holding control characters only escaped (`evil\\nname.txt`), since printed raw
    it would break the line in two or drive the terminal."""
    names = [*(case.args or ()), *case.files]
    return [
        name.encode("unicode_escape").decode() if any(ord(ch) < 32 for ch in name) else name
        for name in names
    ]


@pytest.mark.parametrize("case", TRANSCRIPTS, ids=[case.id for case in TRANSCRIPTS])
def test_bad_transcripts_get_one_line_each_and_store_nothing(
    runs: dict[str, Run], case: Transcript
) -> None:
    run = runs[f"ingest/{case.id}"]
    problems: list[str] = []
    if run.timed_out:
        problems.append(f"did not finish within {RUN_TIMEOUT_S} s")
    if "Traceback" in run.stderr + run.stdout:
        problems.append("traceback printed")
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    reasons = [reason.lower() for reason in case.reason]
    if case.error_line:
        if len(lines) != 1 or not lines[0].startswith("Error:"):
            problems.append(f"expected one 'Error:' line, got {lines}")
        if run.returncode in (0, None):
            problems.append(f"exit code {run.returncode}")
    else:
        expected_exit = 1 if case.failed else 0
        if run.returncode != expected_exit:
            problems.append(f"exit code {run.returncode}, expected {expected_exit}")
        if len(lines) != case.failed:
            problems.append(f"{len(lines)} stderr lines for {case.failed} bad file(s): {lines}")
        for line in lines:
            if not any(name in line for name in _names(case)):
                problems.append(f"stderr line names no file of the case: {line!r}")
            if reasons and not any(reason in line.lower() for reason in reasons):
                problems.append(f"stderr line says none of {case.reason}: {line!r}")
        summary = SUMMARY.match(run.stdout.strip().splitlines()[-1]) if run.stdout.strip() else None
        if summary is None:
            problems.append(f"no summary line on stdout: {run.stdout[-300:]!r}")
        elif int(summary.group(2)) != case.failed:
            problems.append(f"summary says {summary.group(2)} failed, expected {case.failed}")
    if run.listing_problem:
        problems.append(run.listing_problem)
    elif run.listing is not None:
        slugs = sorted(str(episode["slug"]) for episode in run.listing)
        if slugs != sorted(case.stored):
            problems.append(f"library holds {slugs}, expected {sorted(case.stored)}")
    assert not problems, (
        f"{case.id}: {problems}\nexit {run.returncode}\nstderr: {run.stderr[-1500:]}"
        f"\nstdout: {run.stdout[-300:]}"
    )


# ------------------------------------------------------------------ configuration


def _prepare_database(kind: str | None, folder: Path, migrated: Path) -> str:
    """The DATABASE_URL for a case whose database file is broken in the way `kind` says."""
    target = folder / "library.db"
    if kind == "directory":
        target.mkdir()
    elif kind == "under-a-file":
        (folder / "a-file").write_text("not a folder\n")
        target = folder / "a-file" / "sub" / "library.db"
    elif kind == "unreadable":
        shutil.copy(migrated, target)
        target.chmod(0)
    elif kind == "not-sqlite":
        target.write_bytes(b"this is not a database\n" * 200)
    elif kind == "truncated-sqlite":
        # A real SQLite header whose pages are cut off and replaced by noise.
        target.write_bytes(migrated.read_bytes()[:1024] + b"\xde\xad\xbe\xef" * 2048)
    elif kind == "foreign-sqlite":
        # Another program's database, whose tables clash with the bot's.
        with sqlite3.connect(target) as connection:
            connection.execute("CREATE TABLE episodes (name TEXT, seen INTEGER)")
            connection.execute("INSERT INTO episodes VALUES ('other app', 1)")
        connection.close()
    return f"sqlite:///{target}"


def _prepare_config(case: Config, root: Path, migrated: Path) -> Prepared:
    folder = root / "config" / case.id
    folder.mkdir(parents=True)
    url = _prepare_database(case.database, folder, migrated)
    env = {**_clean_env(folder), "DATABASE_URL": url}
    env.update({k: v.replace("<<db>>", str(folder / "library.db")) for k, v in case.env.items()})
    if case.dotenv is not None:
        (folder / ".env").write_bytes(case.dotenv)
    return ["episodes", "--json"], env, folder


@pytest.mark.parametrize("case", CONFIGS, ids=[case.id for case in CONFIGS])
def test_bad_configuration_gets_one_error_line(runs: dict[str, Run], case: Config) -> None:
    if case.database == "unreadable" and ROOT:
        pytest.skip(
            "running as root: chmod 000 does not stop root from reading the file; "
            "database-not-sqlite, -truncated-sqlite and -is-a-directory cover unreadable ones"
        )
    run = runs[f"config/{case.id}"]
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    problems: list[str] = []
    if run.timed_out:
        problems.append(f"did not finish within {RUN_TIMEOUT_S} s")
    if "Traceback" in run.stderr + run.stdout:
        problems.append("traceback printed")
    if run.returncode in (0, None):
        problems.append(f"exit code {run.returncode}")
    if len(lines) != 1 or not lines[0].startswith("Error:"):
        problems.append(f"expected one line starting 'Error:', got {len(lines)} line(s)")
    elif not any(name.lower() in lines[0].lower() for name in case.names):
        problems.append(f"the error names none of {case.names}: {lines[0]!r}")
    assert not problems, (
        f"{case.id}: {problems}\nexit {run.returncode}\nstderr: {run.stderr[-1500:]}"
        f"\nstdout: {run.stdout[-300:]}"
    )
