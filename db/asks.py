"""Pending asks: the questions acknowledged and not yet answered, with the claim of the
process answering each. Times are naive UTC, as the rest of the schema stores them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from db.dialect import insert, storable
from db.models import PendingAsk

# A claim older than this belongs to a process that died: no answer takes so long (Claude's
# retries and tool loop are bounded well below it).
CLAIM_LEASE = timedelta(minutes=5)
# Answered asks are kept this long (a replay of the request within it is still recognised;
# Slack signs a request for 5 minutes).
DONE_MEMORY = timedelta(days=1)


def utc_now() -> datetime:
    """Now, as the schema stores times."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Ask:
    """One acknowledged question, as a process answers it."""

    id: int
    kind: str  # "command" (a slash command, answered as a new message) or "event"
    channel: str
    user_id: str | None
    thread_ts: str | None
    question: str
    response_url: str | None
    created_at: datetime
    claimed_by: str | None = None  # the process holding it, when one does
    recipient_team_id: str | None = None  # the asker's own workspace, when Slack said
    answer_ts: str | None = None  # the message showing its answer, once there is one
    team_id: str = ""  # the workspace asked in

    @classmethod
    def of(cls, row: PendingAsk) -> Ask:
        """From the stored row."""
        return cls(
            row.id,
            row.kind,
            row.channel,
            row.user_id,
            row.thread_ts,
            row.question,
            row.response_url,
            row.created_at,
            row.claimed_by if row.state == "working" else None,
            row.recipient_team_id,
            row.answer_ts,
            row.team_id,
        )


def record_ask(
    session: Session,
    *,
    dedup_key: str | None,
    kind: str,
    channel: str,
    user_id: str | None,
    thread_ts: str | None,
    question: str,
    response_url: str | None,
    team_id: str = "",
    recipient_team_id: str | None = None,
    now: datetime | None = None,
) -> int | None:
    """Store an ask; its id, or None when `dedup_key` was stored already (a replay or a
    retry of the same request)."""
    now = now or utc_now()
    statement = (
        insert(session, PendingAsk)
        .values(
            dedup_key=dedup_key,
            kind=kind,
            channel=channel,
            user_id=user_id,
            thread_ts=thread_ts,
            question=storable(question),
            response_url=response_url,
            team_id=team_id,
            recipient_team_id=recipient_team_id,
            state="pending",
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(PendingAsk.id)
    )
    return session.execute(statement).scalar_one_or_none()


def forget_answered(session: Session, *, now: datetime | None = None) -> None:
    """Drop the asks answered longer than DONE_MEMORY ago, so the table stays small."""
    cutoff = (now or utc_now()) - DONE_MEMORY
    session.execute(
        delete(PendingAsk).where(
            PendingAsk.state.in_(("done", "told")), PendingAsk.finished_at < cutoff
        )
    )


def claim_ask(
    session: Session,
    ask_id: int,
    owner: str,
    *,
    taking_from: str | None = None,
    now: datetime | None = None,
) -> Ask | None:
    """Take the ask for `owner` if nobody holds it (or its holder's lease ran out, or it is
    held by `taking_from`, a process known to be gone); None when another process has it or
    it was answered."""
    now = now or utc_now()
    taken_over = (PendingAsk.state == "working") & (PendingAsk.claimed_at <= now - CLAIM_LEASE)
    if taking_from is not None:
        taken_over = taken_over | (
            (PendingAsk.state == "working") & (PendingAsk.claimed_by == taking_from)
        )
    claimed = session.execute(
        update(PendingAsk)
        .where(PendingAsk.id == ask_id, or_(PendingAsk.state == "pending", taken_over))
        .values(state="working", claimed_by=owner, claimed_at=now)
    )
    if claimed.rowcount != 1:
        return None
    row = session.get(PendingAsk, ask_id)
    return Ask.of(row) if row is not None else None


def finish_ask(
    session: Session, ask_id: int, owner: str, *, told: bool = False, now: datetime | None = None
) -> bool:
    """Mark the ask answered (or, `told`, its asker told to ask again); False when `owner`
    no longer holds it."""
    finished = session.execute(
        update(PendingAsk)
        .where(PendingAsk.id == ask_id, PendingAsk.claimed_by == owner)
        .values(state="told" if told else "done", finished_at=now or utc_now())
    )
    return finished.rowcount == 1


def set_answer_message(session: Session, ask_id: int, owner: str, ts: str) -> None:
    """Note the message that shows the ask's answer being written."""
    session.execute(
        update(PendingAsk)
        .where(PendingAsk.id == ask_id, PendingAsk.claimed_by == owner)
        .values(answer_ts=ts)
    )


def release_asks(session: Session, owner: str, ask_ids: Sequence[int]) -> int:
    """Give back asks `owner` holds and did not finish (a process shutting down), so the
    next process answers them at once rather than after the lease; how many."""
    if not ask_ids:
        return 0
    released = session.execute(
        update(PendingAsk)
        .where(
            PendingAsk.id.in_(ask_ids),
            PendingAsk.claimed_by == owner,
            PendingAsk.state == "working",
        )
        .values(state="pending", claimed_by=None, claimed_at=None)
    )
    return released.rowcount


def open_asks(
    session: Session,
    *,
    older_than: timedelta,
    gone: Callable[[str], bool] = lambda owner: False,
    now: datetime | None = None,
) -> list[Ask]:
    """Asks nobody is answering: pending for longer than `older_than` (a live process
    answers its own sooner), or claimed by a process that is `gone` or whose lease ran
    out; oldest first."""
    now = now or utc_now()
    rows = session.scalars(
        select(PendingAsk)
        .where(
            or_(
                (PendingAsk.state == "pending") & (PendingAsk.created_at <= now - older_than),
                PendingAsk.state == "working",
            )
        )
        .order_by(PendingAsk.created_at, PendingAsk.id)
    )
    return [
        Ask.of(row)
        for row in rows
        if row.state == "pending"
        or (row.claimed_at is not None and row.claimed_at <= now - CLAIM_LEASE)
        or gone(row.claimed_by or "")
    ]
