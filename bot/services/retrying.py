"""Writes that must not be lost to a database away for a moment (a PostgreSQL restart, a
failover, SQLite's write lock held past its busy timeout): tried again a few times. One
window stays: a commit whose acknowledgement is lost after the server made it is made
twice."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)

T = TypeVar("T")

# Between tries; and the most the tries may take in all, since each one can itself wait for a
# connection (5 s) or SQLite's write lock (10 s): about a database server's restart, and
# within a shutdown's grace period.
PAUSES = (0.5, 1.0, 2.0, 4.0)
DEADLINE_SECONDS = 15.0


def retried(
    write: Callable[[], T],
    what: str,
    pauses: Sequence[float] = PAUSES,
    deadline: float = DEADLINE_SECONDS,
) -> T:
    """`write()`, tried again after each of `pauses` while the database cannot be reached
    or is busy (OperationalError), until `deadline` seconds have gone; the last try's error
    is raised. Other errors (a constraint, a bug) are raised at once: trying again would not
    change them. `write` must be one transaction, safe to run again once rolled back."""
    ends = time.monotonic() + deadline
    for pause in pauses:
        try:
            return write()
        except OperationalError as exc:
            if time.monotonic() + pause >= ends:
                raise
            log.warning("could not %s yet (%s); trying again", what, type(exc).__name__)
            time.sleep(pause)
    return write()
