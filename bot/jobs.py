"""Scheduled work. The database is the source of truth; the scheduler only says "look now".

One APScheduler interval job (``tick``, stable id) runs every ``TICK_SECONDS``: it asks each registered
check what is due at ``clock()`` and does it. Checks record what they did in the database, so a restart
rebuilds nothing by hand, and a deadline that passed while the bot was down fires once at the first tick
after start (the job's first run is immediate), not never and not twice. Because time comes from the
injected clock, tests and the sandbox can move it.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from helpdesk.clock import Clock

log = logging.getLogger(__name__)

DueCheck = Callable[[datetime], Awaitable[None]]
ErrorSink = Callable[[BaseException], object]


class JobRunner:
    def __init__(
        self, clock: Clock, tz: ZoneInfo, tick_seconds: float, *, on_error: ErrorSink | None = None
    ) -> None:
        """``on_error(exc)`` sees what a check raised (the database's health: see ``Database.note``)."""
        self.clock = clock
        self.on_error = on_error
        self.tz = tz
        self.tick_seconds = tick_seconds
        self.checks: list[tuple[str, DueCheck]] = []
        self.ticks = 0
        self.scheduler: AsyncIOScheduler | None = None

    def add(self, name: str, check: DueCheck) -> None:
        self.checks.append((name, check))

    async def tick(self) -> None:
        now = self.clock()
        self.ticks += 1
        for name, check in self.checks:
            try:
                await check(now)
            except Exception as exc:
                # One failing check must not starve the others; it is tried again next tick.
                log.exception("scheduled check %s failed", name)
                if self.on_error is not None:
                    self.on_error(exc)

    def start(self) -> AsyncIOScheduler:
        scheduler = AsyncIOScheduler(timezone=self.tz)
        scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=self.tick_seconds, timezone=self.tz),
            id="tick",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(60, int(self.tick_seconds * 10)),
            next_run_time=datetime.now(self.tz) + timedelta(milliseconds=50),
        )
        scheduler.start()
        self.scheduler = scheduler
        return scheduler

    def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.scheduler = None


def heartbeat_file(database_path: Path) -> Path:
    """The file every tick touches (beside the database): ``python main.py health`` reads its age."""
    return database_path.with_name(f"{database_path.name}.alive")


def heartbeat_limit(tick_seconds: float) -> float:
    """How old the heartbeat may be before the bot counts as hung: ten ticks, at least five minutes (a tick
    that delivers a backlog under the group's budget may take minutes)."""
    return max(300.0, 10 * tick_seconds)


def heartbeat(path: Path) -> DueCheck:
    """A check for the runner, registered last: a touch after every other check of the tick has run."""

    async def beat(now: datetime) -> None:
        # A touch is microseconds: done in the loop (no worker thread for it).
        try:
            os.utime(path)
        except FileNotFoundError:
            with contextlib.suppress(OSError):
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))
        except OSError:
            log.debug("heartbeat not written to %s", path)

    return beat
