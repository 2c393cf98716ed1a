"""The knowledge-base feedback use case against a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from helpdesk.clock import ManualClock
from helpdesk.kb_feedback import MAX_ARTICLES, KbFeedback
from storage.db import Database
from storage.users import TELEGRAM, UserRepo

NOW = datetime(2026, 9, 1, 11, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "db.sqlite3")
    try:
        yield database
    finally:
        await database.close()


async def _user(db: Database, n: int) -> int:
    user = await UserRepo(db.conn).upsert(
        channel=TELEGRAM,
        external_id=str(n),
        chat_id=n,
        first_name=f"U{n}",
        last_name=None,
        username=None,
        client_language="ru",
        now=NOW,
    )
    return user.id


async def test_answers_are_summed_most_helpful_first(db: Database) -> None:
    feedback = KbFeedback(db, ManualClock(NOW))
    assert await feedback.summary() is None
    first, second = await _user(db, 1), await _user(db, 2)

    await feedback.record(user_id=first, article_id="ed-notifications", helped=False)
    await feedback.record(user_id=first, article_id="ed-password-reset", helped=True)
    await feedback.record(user_id=second, article_id="ed-password-reset", helped=True)
    await feedback.record(user_id=second, article_id="ed-notifications", helped=True)

    summary = await feedback.summary()
    assert summary is not None
    assert (summary.helped, summary.not_helped) == (3, 1)
    assert [(s.article_id, s.helped, s.not_helped) for s in summary.articles] == [
        ("ed-password-reset", 2, 0),
        ("ed-notifications", 1, 1),
    ]


async def test_the_summary_lists_at_most_max_articles_but_counts_all(db: Database) -> None:
    feedback = KbFeedback(db, ManualClock(NOW))
    user = await _user(db, 1)
    for n in range(MAX_ARTICLES + 5):
        await feedback.record(user_id=user, article_id=f"a{n:02d}", helped=True)
    summary = await feedback.summary()
    assert summary is not None
    assert len(summary.articles) == MAX_ARTICLES
    assert summary.helped == MAX_ARTICLES + 5
