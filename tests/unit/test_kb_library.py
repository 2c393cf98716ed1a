"""The knowledge base in use (issue 17): reloaded when a file changes or on command, a broken file keeps the
articles in use, learned examples reach the matcher; against a real SQLite file."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from helpdesk.clock import ManualClock
from helpdesk.domain import Role
from helpdesk.knowledge import KnowledgeLibrary, ReloadOutcome
from helpdesk.rules.kb import load_knowledge_base
from helpdesk.store import Store
from storage.db import Database

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
ARTICLES = len(list((KNOWLEDGE / "ru").glob("*.md")))
NOW = datetime(2026, 9, 1, 11, 0, tzinfo=UTC)
MEETINGS = """---
id: meetings
title: Родительские собрания
topics: ed
categories: other
roles: par
keywords: родительское собрание, собрание
---
График собраний — на сайте школы.
"""


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    db = await Database.open(tmp_path / "db.sqlite3")
    try:
        yield Store(db, ManualClock(NOW))
    finally:
        await db.close()


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    (root / "ru").mkdir(parents=True)
    for path in (KNOWLEDGE / "ru").glob("*.md"):  # every article: word rarities as in the bot
        shutil.copy(path, root / "ru" / path.name)
    return root


def _library(root: Path, store: Store) -> KnowledgeLibrary:
    return KnowledgeLibrary(
        root=root, default_locale="ru", articles=load_knowledge_base(root), store=store, load=load_knowledge_base
    )


def _ids(library: KnowledgeLibrary, text: str) -> list[str]:
    return [m.article.id for m in library.kb.search(text, "ru", role=Role.PARENT)]


async def test_a_changed_file_is_read_again_at_the_next_tick(knowledge: Path, store: Store) -> None:
    library = _library(knowledge, store)
    assert (await library.reload_if_changed()).outcome is ReloadOutcome.UNCHANGED
    assert _ids(library, "когда родительское собрание") == []

    (knowledge / "ru" / "meetings.md").write_text(MEETINGS, encoding="utf-8")
    await library.tick(NOW)
    assert _ids(library, "когда родительское собрание") == ["meetings"]
    assert len(library.kb) == ARTICLES + 1

    # An edited article: same size, another modification time, still noticed.
    path = knowledge / "ru" / "meetings.md"
    path.write_text(MEETINGS.replace("Родительские собрания", "Родительские встречи"), encoding="utf-8")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert (await library.reload_if_changed()).outcome is ReloadOutcome.RELOADED
    article = library.kb.article("meetings")
    assert article is not None and article.title == "Родительские встречи"


async def test_a_broken_file_keeps_the_articles_in_use(knowledge: Path, store: Store) -> None:
    library = _library(knowledge, store)
    (knowledge / "ru" / "broken.md").write_text(
        "---\nid: broken\ntitle: Т\ntopics: дневникк\ncategories: other\n---\nТекст\n", encoding="utf-8"
    )
    result = await library.reload_if_changed()
    assert result.outcome is ReloadOutcome.BROKEN
    assert "broken.md:4" in result.error and "дневникк" in result.error
    assert len(library.kb) == ARTICLES and _ids(library, "забыла пароль")[:1] == ["ed-password-reset"]
    # Reported once, not at every tick; the command says it again.
    assert (await library.reload_if_changed()).outcome is ReloadOutcome.UNCHANGED
    assert (await library.reload()).outcome is ReloadOutcome.BROKEN
    (knowledge / "ru" / "broken.md").unlink()
    assert (await library.reload_if_changed()).outcome is ReloadOutcome.RELOADED


async def test_learned_examples_reach_the_matcher_and_survive_a_reload(knowledge: Path, store: Store) -> None:
    library = _library(knowledge, store)
    asked = "гаджет перестал пищать при новых оценках"
    assert "ed-notifications" not in _ids(library, asked)
    async with store.transaction():
        await store.kb.add_example(
            article_id="ed-notifications", question="телефон перестал пищать", ticket_id=None, now=NOW
        )
    await library.refresh_examples()
    assert _ids(library, asked)[:1] == ["ed-notifications"]
    (knowledge / "ru" / "meetings.md").write_text(MEETINGS, encoding="utf-8")
    await library.reload()
    assert _ids(library, asked)[:1] == ["ed-notifications"]
    # A rejected example is no longer used.
    [example] = await store.kb.examples()
    async with store.transaction():
        await store.kb.reject_example(example.id)
    await library.refresh_examples()
    assert "ed-notifications" not in _ids(library, asked)
    async with store.transaction():  # and it is not learned again
        assert not await store.kb.add_example(
            article_id="ed-notifications", question="телефон перестал пищать", ticket_id=None, now=NOW
        )
