"""A write the database refuses for a moment is tried again; one it refuses for good is not."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.services import retrying
from bot.services.retrying import retried


class Flaky:
    """Fails with `error` the first `times` calls, then returns "stored"."""

    def __init__(self, error: Exception, times: int) -> None:
        self.error, self.left, self.calls = error, times, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.left:
            self.left -= 1
            raise self.error
        return "stored"


AWAY = OperationalError("INSERT ...", {}, Exception("server closed the connection"))


@pytest.fixture(autouse=True)
def _no_waiting(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr(retrying.time, "sleep", waited.append)
    return waited


def test_a_database_away_for_a_moment_costs_nothing(_no_waiting: list[float]) -> None:
    write = Flaky(AWAY, times=3)
    assert retried(write, "store it") == "stored"
    assert write.calls == 4 and _no_waiting == list(retrying.PAUSES[:3])


def test_a_database_away_for_longer_raises_after_the_last_try() -> None:
    write = Flaky(AWAY, times=100)
    with pytest.raises(OperationalError):
        retried(write, "store it")
    assert write.calls == len(retrying.PAUSES) + 1


def test_a_refused_write_is_not_tried_again(_no_waiting: list[float]) -> None:
    write = Flaky(IntegrityError("INSERT ...", {}, Exception("duplicate key")), times=1)
    with pytest.raises(IntegrityError):
        retried(write, "store it")
    assert write.calls == 1 and _no_waiting == []
