"""Did a reference article help? The answers to "помогло" / "нет, задать вопрос", and their summary.

One owner for the ``kb_feedback`` record: handlers tell it what the user pressed and render what it reports.
No aiogram.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpdesk.clock import Clock
from storage.db import Database
from storage.kb_feedback import ArticleStats, KbFeedbackRepo

MAX_ARTICLES = 30  # articles listed by /kbstats


@dataclass(frozen=True)
class FeedbackSummary:
    """All answers so far (``helped``, ``not_helped``) and the most helpful articles first."""

    helped: int
    not_helped: int
    articles: tuple[ArticleStats, ...]


class KbFeedback:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def record(self, *, user_id: int, article_id: str, helped: bool) -> None:
        async with self.db.transaction() as conn:
            await KbFeedbackRepo(conn).record(
                user_id=user_id, article_id=article_id, helped=helped, now=self.clock()
            )

    async def summary(self) -> FeedbackSummary | None:
        """None until someone has answered."""
        stats = await KbFeedbackRepo(self.db.conn).stats()
        if not stats:
            return None
        return FeedbackSummary(
            helped=sum(s.helped for s in stats),
            not_helped=sum(s.not_helped for s in stats),
            articles=tuple(stats[:MAX_ARTICLES]),
        )
