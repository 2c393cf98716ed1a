"""The knowledge base in use: the articles on disk, the example questions learned from tickets, reloads.

Shared by the handlers (a middleware hands each update the current :class:`KnowledgeBase`), the use cases and
the scheduler. The articles are read again when a file under ``knowledge/`` changes (the scheduler's tick
compares the files' modification times: a few dozen ``stat`` calls) or when management asks (``/kbreload``).
A broken file keeps the articles in use and says what is wrong (``file:line: problem``), so a typo made
while the bot runs never takes the reference away. No aiogram.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from helpdesk.rules.kb import KnowledgeBase, KnowledgeBaseError
from helpdesk.store import Store

log = logging.getLogger(__name__)

Loader = Callable[[Path, str], KnowledgeBase]
Stamp = tuple[tuple[str, int, int], ...]


class ReloadOutcome(StrEnum):
    UNCHANGED = "unchanged"
    RELOADED = "reloaded"
    BROKEN = "broken"  # a file is broken: the articles in use stay


@dataclass(frozen=True)
class Reloaded:
    outcome: ReloadOutcome
    articles: int
    error: str = ""


def stamp(root: Path) -> Stamp:
    """Every file under ``root`` with its modification time and size: a change to any is a new stamp."""
    if not root.is_dir():
        return ()
    return tuple(
        sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*.md") if p.is_file())
    )


class KnowledgeLibrary:
    def __init__(
        self, *, root: Path, default_locale: str, articles: KnowledgeBase, store: Store, load: Loader
    ) -> None:
        """``articles``: the knowledge base read at start (a broken file stops the bot there, not here)."""
        self.root = Path(root)
        self.default_locale = default_locale
        self.store = store
        self._load = load
        self._articles = articles
        self._kb = articles
        self._stamp = stamp(self.root)

    @property
    def kb(self) -> KnowledgeBase:
        """The articles with the learned examples, as of now."""
        return self._kb

    async def refresh_examples(self) -> None:
        """Give the matcher the accepted example questions (after one is learned or rejected, and at start)."""
        examples: dict[str, list[str]] = {}
        for example in await self.store.kb.examples():
            examples.setdefault(example.article_id, []).append(example.question)
        # No examples yet (a new school, every test's start): the articles as read, no index rebuilt.
        self._kb = self._articles.with_examples(examples) if examples else self._articles

    async def reload(self) -> Reloaded:
        """Read the articles again now (management's command)."""
        current = stamp(self.root)
        try:
            articles = self._load(self.root, self.default_locale)
        except KnowledgeBaseError as exc:
            self._stamp = current  # the same broken file is reported once, not at every tick
            log.warning("knowledge base not reloaded: %s", exc)
            return Reloaded(ReloadOutcome.BROKEN, len(self._kb), str(exc))
        self._stamp = current
        self._articles = articles
        await self.refresh_examples()
        log.info("knowledge base reloaded: %d articles", len(articles))
        return Reloaded(ReloadOutcome.RELOADED, len(articles))

    async def tick(self, now: datetime) -> None:
        """The scheduler's job (see :meth:`reload_if_changed`)."""
        await self.reload_if_changed()

    async def reload_if_changed(self) -> Reloaded:
        """The scheduler's tick: reload when a file was added, changed or removed."""
        if stamp(self.root) == self._stamp:
            return Reloaded(ReloadOutcome.UNCHANGED, len(self._kb))
        return await self.reload()
