"""The house's rules, read from the imports: surfaces -> services -> domain -> storage, never
back up; no SQL in a surface; no Slack, click or surface in the domain; config stands alone."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

SURFACES = ("bot.cli", "bot.slack", "bot.mcp")
SERVICES = ("bot.services",)
DOMAIN = (
    "bot.retrieval",
    "bot.answering",
    "bot.takeaways",
    "bot.ingest",
    "bot.evaluation",
)
STORAGE = ("db", "migrations")
LAYERS = (SURFACES, SERVICES, DOMAIN, STORAGE)  # top to bottom
# bot.config stands beside them all: anything may read the settings (migrations/env.py for
# DATABASE_URL too), and it imports nothing of bot.


def _module(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _layer(module: str) -> int | None:
    return next((i for i, layer in enumerate(LAYERS) if _within(module, layer)), None)


def _sources() -> dict[str, set[str]]:
    files = [*REPO.glob("bot/**/*.py"), *REPO.glob("db/**/*.py"), *REPO.glob("migrations/*.py")]
    return {_module(path): _imports(path) for path in files}


def test_imports_follow_the_layers() -> None:
    problems = []
    for module, imported in sorted(_sources().items()):
        here = _layer(module)
        for name in sorted(imported):
            there = _layer(name)
            if here is not None and there is not None and there < here:
                problems.append(f"{module} imports {name}, a layer above it")
            if (
                _within(module, SURFACES)
                and name.startswith("sqlalchemy")
                and not name.startswith("sqlalchemy.exc")
            ):
                problems.append(f"{module} (a surface) imports {name}")
            if _within(module, DOMAIN) and (
                name.split(".")[0] in {"slack_sdk", "slack_bolt", "click"}
                or _within(name, SURFACES + SERVICES)
            ):
                problems.append(f"{module} (the domain) imports {name}")
            if module == "bot.config" and _within(name, ("bot",)):
                problems.append(f"bot.config imports {name}")
    assert not problems, "\n".join(problems)


def test_the_bot_folder_holds_only_the_layers_and_config() -> None:
    modules = sorted(p.name for p in (REPO / "bot").glob("*.py"))
    assert modules == ["__init__.py", "config.py"]
