"""Fixtures of the CLI tests: the environment of a fresh machine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A fresh machine: no .env, no DATABASE_URL, an empty data folder."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "LOG_LEVEL"} and not k.startswith(("ANTHROPIC_", "SLACK_"))
    }
    clean["XDG_DATA_HOME"] = str(tmp_path / "data")
    return clean
