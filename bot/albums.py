"""Albums: Telegram sends an album (several photos or documents sent together) as separate messages with the
same ``media_group_id``, each its own update, a few milliseconds apart. The question dialog keeps each part in
the draft as it comes and answers once, when no part has come for a short while (the settle window).

Nothing is lost on a restart: each part is in the draft (FSM storage, written through) as soon as its update
is handled, and the update of a part is marked handled in the inbox (:mod:`bot.updates`) only once the
album's answer is sent. A crash within the window leaves the album's updates unhandled: they are handled
again at the next start, the parts already in the draft are recognised by their message ids, and the answer
is sent then.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass

log = logging.getLogger(__name__)

SETTLE_SECONDS = 1.0

AFTER_UPDATE: ContextVar[list[asyncio.Future[None]] | None] = ContextVar("after_update", default=None)
"""Set by the update processor around one update: work the update's handler left to finish later (an
album's answer). The update is marked handled when all of it is done."""


@dataclass
class _Album:
    done: asyncio.Future[None]
    then: Callable[[], Awaitable[None]]
    timer: asyncio.TimerHandle | None = None
    parts: int = 0


class Albums:
    """The albums being received, by (chat, media group). Shared by the dialog's handlers (app-scoped)."""

    def __init__(self, settle: float = SETTLE_SECONDS) -> None:
        self.settle = settle
        self._albums: dict[tuple[int, str], _Album] = {}
        self._running: set[asyncio.Task[None]] = set()

    def part(self, chat_id: int, media_group_id: str, then: Callable[[], Awaitable[None]]) -> None:
        """One part has been kept; ``then`` (the newest part's) answers the album once it has settled."""
        loop = asyncio.get_running_loop()
        key = (chat_id, media_group_id)
        album = self._albums.get(key)
        if album is None:
            album = self._albums[key] = _Album(done=loop.create_future(), then=then)
        elif album.timer is not None:
            album.timer.cancel()
        album.then = then
        album.parts += 1
        album.timer = loop.call_later(self.settle, self._settled, key)
        deferred = AFTER_UPDATE.get()
        if deferred is not None:
            deferred.append(album.done)

    def _settled(self, key: tuple[int, str]) -> None:
        album = self._albums.pop(key, None)
        if album is None:
            return
        task = asyncio.create_task(self._answer(album))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _answer(self, album: _Album) -> None:
        try:
            await album.then()
        except Exception:
            log.exception("an album's answer failed")
        finally:
            if not album.done.done():
                album.done.set_result(None)

    @property
    def pending(self) -> int:
        return len(self._albums) + len(self._running)
