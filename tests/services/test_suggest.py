"""Finding episodes by what people type: filtering by words, and did you mean for a slug
nobody has; pure on named things, then through the library on a real database."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.ingest.pipeline import ingest_file
from bot.services.library import Library, closest_episodes, episode_page, episodes_matching
from bot.services.suggest import closest, matching
from tests.conftest import FORMATS_DIR, SEED_SLUG


@dataclass(frozen=True)
class Named:
    slug: str
    title: str
    guest: str | None = None


SHREYAS = Named(
    "shreyas-doshi", "Product sense, and how to build it | Shreyas Doshi", "Shreyas Doshi"
)
KRIEGER = Named(SEED_SLUG, "Anthropic's CPO on what comes next | Mike Krieger")
ADA = Named("ada-example", "Shipping small: how to cut scope | Ada Example", "Ada Example")
MARTY = Named("marty-cagan", "Product management theater | Marty Cagan", "Marty Cagan")
ALL = [SHREYAS, KRIEGER, ADA, MARTY]


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        ("shreyas-doshii", [SHREYAS]),  # a typo of the slug
        ("shreyas", [SHREYAS]),  # the guest's first name
        ("Doshi", [SHREYAS]),  # any case
        ("krieger", [KRIEGER]),  # a word of the title (and slug)
        ("mike-kreiger", [KRIEGER]),
        ("anthropic-cpo", [KRIEGER]),
        ("marty-kagan", [MARTY]),
        ("cagan-marty", [MARTY]),
    ],
)
def test_closest_finds_the_episode_meant(asked: str, expected: list[Named]) -> None:
    assert closest(asked, ALL)[: len(expected)] == expected


@pytest.mark.parametrize("asked", ["no-such-episode", "nope", "zz", "", "   ", "🤖"])
def test_nothing_close_is_nothing(asked: str) -> None:
    assert closest(asked, ALL) == []


def test_closest_gives_at_most_the_limit_closest_first() -> None:
    many = [Named(f"product-lesson-{n}", f"Product lesson {n}") for n in range(10)]
    found = closest("product", [*many, SHREYAS, MARTY], limit=3)
    assert len(found) == 3
    assert closest("product-lesson-7", many)[0].slug == "product-lesson-7"
    assert closest("anything", []) == []


def test_matching_needs_every_word_in_title_guest_or_slug() -> None:
    assert matching("product", ALL) == [SHREYAS, MARTY]  # order kept
    assert matching("PRODUCT cagan", ALL) == [MARTY]  # title and guest
    assert matching("krieger-anthropic", ALL) == [KRIEGER]  # the slug's words
    assert matching("ada scope", ALL) == [ADA]
    assert matching("product zebra", ALL) == []
    assert matching("", ALL) == ALL


def test_the_library_pages_filters_and_suggests(library: Library, tmp_path: Path) -> None:
    archive = tmp_path / "ada-example.md"
    archive.write_text((FORMATS_DIR / "archive-episode.md").read_text())
    assert ingest_file(library.sessions, archive).status == "ingested"

    everything = episode_page(library, "", 1, size=1)
    assert (everything.page, everything.pages, everything.total) == (1, 2, 2)
    assert [e.slug for e in everything.episodes] == ["ada-example"]  # dated, so first
    last = episode_page(library, "", 7, size=1)
    assert last.page == 2 and [e.slug for e in last.episodes] == [SEED_SLUG]
    assert episode_page(library, "", 0, size=1).page == 1

    scoped = episode_page(library, "  scope  ", 1)
    assert scoped.words == "scope" and [e.slug for e in scoped.episodes] == ["ada-example"]
    none = episode_page(library, "zebra", 3)
    assert (none.episodes, none.page, none.pages, none.total) == ([], 1, 0, 0)
    assert [e.slug for e in episodes_matching(library, "Instagram")] == [SEED_SLUG]

    assert [e.slug for e in closest_episodes(library, "ada-exampel")] == ["ada-example"]
    assert [e.slug for e in closest_episodes(library, "example")] == ["ada-example"]
    assert closest_episodes(library, "no-such-episode") == []
