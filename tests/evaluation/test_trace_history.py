"""A thread's history is stored once, in its conversation: traces of answers in a thread
point at their turn instead of copying the thread, and replay reads it back from there."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.answering import as_thread_text
from bot.answering.offline import OfflineAnswerer
from bot.services.library import Library
from bot.services.threads import answer_in_thread, thread_posted
from db.models import AnswerTrace
from db.traces import history_of

QUESTIONS = ["Who is Boris?", "What did he build?", "How did the merge queue change?"]


def test_thread_traces_do_not_copy_the_thread_and_replay_reads_it_back(library: Library) -> None:
    answerer, thread_ts, given = OfflineAnswerer(), None, []
    for question in QUESTIONS * 4:
        reply = answer_in_thread(
            library,
            answerer,
            channel="C0TRACE",
            question=question,
            user_id="U1",
            thread_ts=thread_ts,
        )
        if thread_ts is None:
            thread_ts = "1700000000.000200"
            thread_posted(library, reply.conversation_id, thread_ts)
        given.append((question, as_thread_text(reply.answer)))
    with library.sessions() as session:
        rows = session.scalars(select(AnswerTrace).order_by(AnswerTrace.id)).all()
        assert len(rows) == 12 and {row.history for row in rows} == {"[]"}
        # Each trace is as small as the first, however long the thread grew.
        sizes = session.scalars(select(func.length(AnswerTrace.history))).all()
        assert max(sizes) == min(sizes)
        for number, row in enumerate(rows):
            assert history_of(session, row) == given[:number]
