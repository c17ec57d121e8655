"""Writes that must not be lost to a database away for a moment (a PostgreSQL restart, a
failover, SQLite's write lock held past its busy timeout): tried again a few times."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)

T = TypeVar("T")

# Between tries: about eight seconds in all, enough for a database server to restart, and
# within a shutdown's grace period.
PAUSES = (0.5, 1.0, 2.0, 4.0)


def retried(write: Callable[[], T], what: str, pauses: Sequence[float] = PAUSES) -> T:
    """`write()`, tried again after each of `pauses` while the database cannot be reached
    (OperationalError); the last try's error is raised. Other errors (a constraint, a bug)
    are raised at once: trying again would not change them."""
    for pause in pauses:
        try:
            return write()
        except OperationalError as exc:
            log.warning("could not %s yet (%s); trying again", what, type(exc).__name__)
            time.sleep(pause)
    return write()
