"""The takeaway of the day quotes by the offline answer's rules: whole sentences or clauses,
never from inside a reported quotation, never ending on a comma, on the real seed."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bot.answering.quotes import candidate_quotes
from bot.ingest.pipeline import ingest_file
from bot.takeaways.extract import best_sentence, extract
from bot.takeaways.picking import ensure_takeaways
from db.digest import takeaways_of
from db.episodes import get_episode
from db.models import Segment
from db.search import episode_passages
from tests.answering.quote_rules import check_quote
from tests.conftest import SEED_SLUG


def test_every_takeaway_quote_of_the_seed_obeys_the_quote_rules(
    seeded: sessionmaker[Session],
) -> None:
    with seeded() as session:
        episode = get_episode(session, SEED_SLUG)
        assert episode is not None
        episode_id = episode.id
    ensure_takeaways(seeded, episode_id)
    with seeded() as session:
        rows = [row for row in takeaways_of(session, episode_id) if row.quote]
        assert len(rows) >= 15  # the bullets located, and the guest's quotable lines
        for row in rows:
            segment = session.get(Segment, row.segment_id)
            assert segment is not None
            check_quote(row.quote, segment.text)
            # The very stretches the offline answer may quote: one picker for both.
            assert row.quote in candidate_quotes(segment.text, min_words=12), row.quote


REPORTED = (
    "Lenny: What happens at the all hands after a layoff?\n"
    'Ada Example: The questions are almost always about fear. People say, "I think the '
    "company is dying and the biggest risk is that my job is next, so why should I stay, "
    'tell me honestly?" The most important thing you have to do is answer each of those '
    "fears in the room, plainly, before anyone leaves the meeting.\n"
)


def test_takeaways_never_quote_from_inside_someone_elses_quotation(
    seeded: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "all-hands.txt"
    path.write_text(REPORTED)
    assert ingest_file(seeded, path).status == "ingested"
    with seeded() as session:
        episode = get_episode(session, "all-hands")
        assert episode is not None
        passages = episode_passages(session, episode.id)
    guest = [p for p in passages if p.speaker == "Ada Example"]
    # "I think the company is dying..." and "the biggest risk..." read like claims, but the
    # guest is reporting what someone else said: only her own sentence is quotable.
    picked = [p.quote for p in extract(guest, "Ada Example", first_rank=0)]
    assert picked and picked[0].startswith("The most important thing you have to do"), picked
    assert all(not q.startswith(("I think", "the biggest")) for q in picked), picked
    for quote in picked:
        check_quote(quote, guest[0].text)
    located = best_sentence(guest[0].text, "the biggest risk is that my job is next")
    assert located is None or '"' not in located.split()[0], located
    if located:
        check_quote(located, guest[0].text)
