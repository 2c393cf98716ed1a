"""Reference articles' statistics: what was offered and opened, the answers to "помогло" / "нет", per article.

One owner for the ``kb_feedback`` and ``kb_events`` records: handlers tell it what the user saw and pressed
and render what it reports (``/kbstats``). Answers to an article a specialist sent in a ticket go through
:class:`helpdesk.kb_answers.ArticleAnswers` (they also learn). No aiogram.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from helpdesk.clock import Clock
from storage.db import Database
from storage.kb_feedback import ArticleStats, KbFeedbackRepo

MAX_ARTICLES = 30  # articles listed by /kbstats


@dataclass(frozen=True)
class FeedbackSummary:
    """All answers so far (``helped``, ``not_helped``), offers and openings, and the articles, most helpful
    first."""

    helped: int
    not_helped: int
    articles: tuple[ArticleStats, ...]
    offered: int = 0
    opened: int = 0


class KbFeedback:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def record(self, *, user_id: int, article_id: str, helped: bool) -> None:
        async with self.db.transaction() as conn:
            await KbFeedbackRepo(conn).record(
                user_id=user_id, article_id=article_id, helped=helped, now=self.clock()
            )

    async def offered(self, *, user_id: int, article_ids: Iterable[str]) -> None:
        """Articles shown to a user as buttons (in the question dialog or a search)."""
        await self._events("offered", user_id, article_ids)

    async def opened(self, *, user_id: int, article_id: str) -> None:
        await self._events("opened", user_id, (article_id,))

    async def _events(self, event: str, user_id: int, article_ids: Iterable[str]) -> None:
        now = self.clock()
        async with self.db.transaction() as conn:
            repo = KbFeedbackRepo(conn)
            for article_id in article_ids:
                await repo.event(article_id=article_id, event=event, user_id=user_id, ticket_id=None, now=now)

    async def summary(self) -> FeedbackSummary | None:
        """None until an article has been offered or answered."""
        stats = await KbFeedbackRepo(self.db.conn).stats()
        if not stats:
            return None
        return FeedbackSummary(
            helped=sum(s.helped for s in stats),
            not_helped=sum(s.not_helped for s in stats),
            articles=tuple(stats[:MAX_ARTICLES]),
            offered=sum(s.offered for s in stats),
            opened=sum(s.opened for s in stats),
        )
