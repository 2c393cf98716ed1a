"""Monotonic time for the bot's waits (retry backoff, 429 pauses) that tests control instead of sleeping."""

from __future__ import annotations

import asyncio


class VirtualTime:
    """A monotonic clock and its ``sleep``, in seconds, that move only when told.

    With ``auto`` (the default), a sleep moves the time to its own end and returns at once: a wait the bot
    makes costs nothing, and what happens after it happens in the same order as in real time. A test that
    wants to see what happens *during* a wait sets ``auto = False``: sleepers then wait until the test calls
    :meth:`advance`, and :attr:`sleeping` tells how many do.
    """

    def __init__(self, *, auto: bool = True) -> None:
        self.now = 1000.0
        self.auto = auto
        self.slept = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        if delay <= 0:
            await asyncio.sleep(0)
            return
        self.slept += delay
        until = self.now + delay
        if self.auto:
            self.now = max(self.now, until)
            await asyncio.sleep(0)
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((until, waiter))
        try:
            await waiter
        finally:
            self._sleepers = [(t, w) for t, w in self._sleepers if w is not waiter]

    @property
    def sleeping(self) -> int:
        """How many sleeps are waiting for the time to move."""
        return sum(1 for _, w in self._sleepers if not w.done())

    def advance(self, seconds: float) -> None:
        """Move the time on and wake every sleep that has come to its end."""
        self.now += seconds
        for until, waiter in self._sleepers:
            if until <= self.now and not waiter.done():
                waiter.set_result(None)
